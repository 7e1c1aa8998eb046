"""Every operation of the API, against the real service and a real Redis."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.conftest import ADA, problem

BOB = {"first_name": "Bob", "middle_name": "J", "last_name": "Smith", "email": "bob@example.com", "age": 40}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.mark.gen_test
async def test_create_returns_version_one(api):
    response = await api.request("POST", "/persons", ADA)

    assert response.code == 201
    person = json.loads(response.body)
    assert response.headers["Location"] == f"/persons/{person['id']}"
    assert response.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r'"[^"]+"', response.headers["ETag"])
    assert str(uuid.UUID(person["id"])) == person["id"]
    assert uuid.UUID(person["id"]).version == 4
    assert person["version"] == 1
    assert person["middle_name"] is None
    assert TIMESTAMP.fullmatch(person["updated_at"])
    assert {key: person[key] for key in ADA} == ADA
    assert list(person) == [
        "id", "version", "first_name", "middle_name", "last_name", "email", "age", "updated_at"
    ]


@pytest.mark.gen_test
async def test_create_ignores_updated_at(api):
    person = await api.create({**ADA, "updated_at": "1999-01-01T00:00:00.000Z"})
    assert person["updated_at"] != "1999-01-01T00:00:00.000Z"


@pytest.mark.gen_test
async def test_read_current_matches_create(api):
    created = await api.request("POST", "/persons", ADA)
    person = json.loads(created.body)

    response = await api.request("GET", f"/persons/{person['id']}")

    assert response.code == 200
    assert json.loads(response.body) == person
    assert response.headers["ETag"] == created.headers["ETag"]


@pytest.mark.gen_test
async def test_read_upper_case_id_finds_same_person(api):
    person = await api.create()
    response = await api.request("GET", f"/persons/{person['id'].upper()}")
    assert response.code == 200
    assert json.loads(response.body)["id"] == person["id"]


@pytest.mark.gen_test
async def test_replace_adds_version(api):
    person = await api.create()

    response = await api.request("PUT", f"/persons/{person['id']}", BOB)

    assert response.code == 200
    replaced = json.loads(response.body)
    assert replaced["version"] == 2
    assert replaced["id"] == person["id"]
    assert {key: replaced[key] for key in BOB} == BOB
    assert response.headers["ETag"] != ""


@pytest.mark.gen_test
async def test_replace_without_middle_name_clears_it(api):
    person = await api.create(BOB)
    response = await api.request("PUT", f"/persons/{person['id']}", ADA)
    assert json.loads(response.body)["middle_name"] is None


@pytest.mark.gen_test
async def test_replace_accepts_own_id_and_current_version(api):
    person = await api.create()
    body = {**BOB, "id": person["id"], "version": 1, "updated_at": "whatever"}

    response = await api.request("PUT", f"/persons/{person['id']}", body)

    assert response.code == 200
    assert json.loads(response.body)["version"] == 2


@pytest.mark.gen_test
async def test_replace_upper_case_ids(api):
    person = await api.create()
    upper = person["id"].upper()
    response = await api.request("PUT", f"/persons/{upper}", {**BOB, "id": upper})
    assert response.code == 200
    assert json.loads(response.body)["id"] == person["id"]


@pytest.mark.gen_test
async def test_replace_with_version_zero_is_400(api):
    person = await api.create()
    response = await api.request("PUT", f"/persons/{person['id']}", {**BOB, "version": 0})
    error = problem(response)["errors"][0]
    assert error["pointer"] == "/version"
    assert error["detail"] == "must be at least 1, got 0"


@pytest.mark.gen_test
async def test_replace_with_other_id_is_400(api):
    person = await api.create()
    response = await api.request("PUT", f"/persons/{person['id']}", {**BOB, "id": str(uuid.uuid4())})
    body = problem(response)
    assert response.code == 400
    assert [error["pointer"] for error in body["errors"]] == ["/id"]


@pytest.mark.gen_test
async def test_replace_with_stale_version_is_412(api):
    person = await api.create()
    await api.request("PUT", f"/persons/{person['id']}", BOB)

    response = await api.request("PUT", f"/persons/{person['id']}", {**ADA, "version": 1})

    assert response.code == 412
    problem(response)
    current = await api.request("GET", f"/persons/{person['id']}")
    assert json.loads(current.body)["version"] == 2


@pytest.mark.gen_test
async def test_merge_patch_changes_given_fields(api):
    person = await api.create(BOB)

    response = await api.request(
        "PATCH", f"/persons/{person['id']}", {"age": 41, "middle_name": None},
        content_type="application/merge-patch+json",
    )

    assert response.code == 200
    patched = json.loads(response.body)
    assert patched["version"] == 2
    assert patched["age"] == 41
    assert patched["middle_name"] is None
    assert patched["first_name"] == "Bob"


@pytest.mark.gen_test
async def test_merge_patch_accepts_application_json(api):
    person = await api.create()
    response = await api.request("PATCH", f"/persons/{person['id']}", {"first_name": "Augusta"})
    assert response.code == 200
    assert json.loads(response.body)["first_name"] == "Augusta"


@pytest.mark.gen_test
async def test_merge_patch_null_required_field_is_400(api):
    person = await api.create()

    response = await api.request("PATCH", f"/persons/{person['id']}", {"email": None})

    body = problem(response)
    assert response.code == 400
    assert body["errors"][0]["pointer"] == "/email"
    assert "null" in body["errors"][0]["detail"]


@pytest.mark.gen_test
async def test_merge_patch_validates_merged_result(api):
    person = await api.create()
    response = await api.request("PATCH", f"/persons/{person['id']}", {"age": 151, "nickname": "A"})
    body = problem(response)
    assert sorted(error["pointer"] for error in body["errors"]) == ["/age", "/nickname"]


@pytest.mark.gen_test
async def test_merge_patch_non_object_is_400(api):
    person = await api.create()
    response = await api.request("PATCH", f"/persons/{person['id']}", [1, 2])
    assert response.code == 400
    assert problem(response)["errors"][0]["pointer"] == ""


@pytest.mark.gen_test
async def test_read_version_returns_old_content(api):
    person = await api.create()
    await api.request("PUT", f"/persons/{person['id']}", BOB)

    first = await api.request("GET", f"/persons/{person['id']}/versions/1")
    second = await api.request("GET", f"/persons/{person['id']}/versions/2")

    assert json.loads(first.body) == person
    assert json.loads(second.body)["first_name"] == "Bob"
    assert first.headers["ETag"] != second.headers["ETag"]


@pytest.mark.gen_test
async def test_read_version_after_current_is_404(api):
    person = await api.create()
    response = await api.request("GET", f"/persons/{person['id']}/versions/2")
    assert response.code == 404
    assert "version" in problem(response)["detail"]


@pytest.mark.gen_test
async def test_history_lists_versions_oldest_first(api):
    person = await api.create()
    await api.request("PUT", f"/persons/{person['id']}", BOB)
    await api.request("PATCH", f"/persons/{person['id']}", {"age": 50})

    response = await api.request("GET", f"/persons/{person['id']}/versions")

    assert response.code == 200
    history = json.loads(response.body)
    assert [entry["version"] for entry in history] == [1, 2, 3]
    assert history[0] == person
    assert history[2]["age"] == 50


@pytest.mark.gen_test
async def test_delete_current_rolls_back(api):
    person = await api.create()
    await api.request("PUT", f"/persons/{person['id']}", BOB)

    response = await api.request("DELETE", f"/persons/{person['id']}")

    assert response.code == 200
    assert json.loads(response.body) == person
    current = await api.request("GET", f"/persons/{person['id']}")
    assert json.loads(current.body) == person
    gone = await api.request("GET", f"/persons/{person['id']}/versions/2")
    assert gone.code == 404


@pytest.mark.gen_test
async def test_delete_last_version_is_204_and_person_gone(api):
    person = await api.create()

    response = await api.request("DELETE", f"/persons/{person['id']}")

    assert response.code == 204
    assert response.body == b""
    assert (await api.request("GET", f"/persons/{person['id']}")).code == 404
    assert json.loads((await api.request("GET", "/persons")).body) == []


@pytest.mark.gen_test
async def test_write_after_delete_reuses_version(api):
    person = await api.create()
    await api.request("PUT", f"/persons/{person['id']}", BOB)
    await api.request("DELETE", f"/persons/{person['id']}")

    response = await api.request("PUT", f"/persons/{person['id']}", {**BOB, "age": 70})

    rewritten = json.loads(response.body)
    assert rewritten["version"] == 2
    assert rewritten["age"] == 70
    stored = await api.request("GET", f"/persons/{person['id']}/versions/2")
    assert json.loads(stored.body)["age"] == 70


@pytest.mark.gen_test
async def test_delete_all_versions_purges(api, redis_sync):
    person = await api.create()
    await api.request("PUT", f"/persons/{person['id']}", BOB)

    response = await api.request("DELETE", f"/persons/{person['id']}/versions")

    assert response.code == 204
    for path in ("", "/versions", "/versions/1", "/versions/2"):
        assert (await api.request("GET", f"/persons/{person['id']}{path}")).code == 404
    assert redis_sync.keys(f"person:{{{person['id']}}}*") == []
    assert redis_sync.zcard("persons:index") == 0


@pytest.mark.gen_test
async def test_read_all_in_creation_order(api):
    created = [await api.create({**ADA, "age": age}) for age in range(5)]
    await api.request("PUT", f"/persons/{created[0]['id']}", BOB)

    response = await api.request("GET", "/persons")

    assert response.code == 200
    assert response.headers["Content-Type"] == "application/json"
    listed = json.loads(response.body)
    assert [person["id"] for person in listed] == [person["id"] for person in created]
    assert listed[0]["version"] == 2


@pytest.mark.gen_test
async def test_read_all_empty_store(api):
    response = await api.request("GET", "/persons")
    assert response.code == 200
    assert json.loads(response.body) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/persons/{id}"),
        ("PUT", "/persons/{id}"),
        ("PATCH", "/persons/{id}"),
        ("DELETE", "/persons/{id}"),
        ("GET", "/persons/{id}/versions"),
        ("DELETE", "/persons/{id}/versions"),
        ("GET", "/persons/{id}/versions/1"),
    ],
)
@pytest.mark.gen_test
async def test_unknown_person_is_404(api, method, path):
    body = ADA if method in ("PUT", "PATCH") else None
    response = await api.request(method, path.format(id=uuid.uuid4()), body)
    assert response.code == 404
    assert problem(response)["type"] == "/problems/not-found"


@pytest.mark.gen_test
async def test_head_sends_headers_only(api):
    person = await api.create()
    response = await api.request("HEAD", f"/persons/{person['id']}")
    assert response.code == 200
    assert response.body == b""
    assert response.headers["ETag"]


@pytest.mark.gen_test
async def test_options_lists_allowed_methods(api):
    person = await api.create()
    response = await api.request("OPTIONS", f"/persons/{person['id']}/versions/1")
    assert response.code == 204
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
