"""Bulk create, read-many and keyset paging."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest

from personsvc.handlers.cursor import encode_cursor
from tests.conftest import ADA, problem


def people(count: int) -> list[dict]:
    return [{**ADA, "first_name": f"P{index}", "age": index % 151} for index in range(count)]


def next_link(response) -> str | None:
    header = response.headers.get("Link")
    if header is None:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', header)
    assert match, header
    return match.group(1)


async def walk_pages(api, limit: int, between_pages=None) -> list[dict]:
    """Follow Link headers from the first page to the last; return every person seen."""
    seen: list[dict] = []
    path: str | None = f"/persons?limit={limit}"
    while path is not None:
        response = await api.request("GET", path)
        assert response.code == 200, response.body
        page = json.loads(response.body)
        assert len(page) <= limit
        seen += page
        path = next_link(response)
        if between_pages is not None:
            await between_pages()
    return seen


# -- bulk create ------------------------------------------------------------


@pytest.mark.gen_test
async def test_bulk_create_keeps_input_order(api):
    response = await api.request("POST", "/persons", people(5))

    assert response.code == 201
    created = json.loads(response.body)
    assert [person["first_name"] for person in created] == [f"P{index}" for index in range(5)]
    assert all(person["version"] == 1 for person in created)
    assert len({person["id"] for person in created}) == 5
    listed = json.loads((await api.request("GET", "/persons")).body)
    assert listed == created


@pytest.mark.gen_test
async def test_bulk_create_empty_array(api):
    response = await api.request("POST", "/persons", [])
    assert response.code == 201
    assert json.loads(response.body) == []


@pytest.mark.gen_test
async def test_bulk_create_one_bad_item_writes_nothing(api, redis_sync):
    items = people(50)
    items[3]["email"] = "nope"
    items[41]["age"] = -1
    del items[7]["last_name"]

    response = await api.request("POST", "/persons", items)

    assert response.code == 400
    pointers = [error["pointer"] for error in problem(response)["errors"]]
    assert pointers == ["/3/email", "/7/last_name", "/41/age"]
    assert redis_sync.dbsize() == 0


@pytest.mark.gen_test
async def test_bulk_create_non_object_item(api):
    response = await api.request("POST", "/persons", [ADA, "Ada", None])
    pointers = [error["pointer"] for error in problem(response)["errors"]]
    assert pointers == ["/1", "/2"]


@pytest.mark.gen_test(timeout=60)
async def test_bulk_create_spanning_chunks(api):
    response = await api.request("POST", "/persons", people(2500))

    assert response.code == 201
    created = json.loads(response.body)
    assert [person["first_name"] for person in created] == [f"P{index}" for index in range(2500)]
    listed = json.loads((await api.request("GET", "/persons")).body)
    assert [person["id"] for person in listed] == [person["id"] for person in created]


@pytest.mark.gen_test
async def test_bulk_create_after_script_flush(api, redis_sync):
    redis_sync.script_flush()
    response = await api.request("POST", "/persons", people(3))
    assert response.code == 201
    assert redis_sync.zcard("persons:index") == 3


class TestBulkLimit:
    @pytest.fixture
    def settings(self, settings):
        return settings.replace(max_bulk_size=100)

    @pytest.mark.gen_test
    async def test_over_limit_is_413(self, api, redis_sync):
        response = await api.request("POST", "/persons", people(101))
        assert response.code == 413
        assert "at most 100" in problem(response)["detail"]
        assert redis_sync.dbsize() == 0

    @pytest.mark.gen_test
    async def test_at_limit_is_created(self, api):
        response = await api.request("POST", "/persons", people(100))
        assert response.code == 201


# -- read many -----------------------------------------------------------------


@pytest.mark.gen_test
async def test_read_many_in_request_order(api):
    created = json.loads((await api.request("POST", "/persons", people(4))).body)
    ids = [created[2]["id"], str(uuid.uuid4()), created[0]["id"].upper(), created[2]["id"]]

    response = await api.request("GET", "/persons?" + "&".join(f"id={person_id}" for person_id in ids))

    assert response.code == 200
    listed = json.loads(response.body)
    assert [person["id"] for person in listed] == [created[2]["id"], created[0]["id"], created[2]["id"]]


@pytest.mark.gen_test
async def test_read_many_after_script_flush(api, redis_sync):
    created = json.loads((await api.request("POST", "/persons", people(2))).body)
    redis_sync.script_flush()
    response = await api.request("GET", f"/persons?id={created[1]['id']}")
    assert [person["id"] for person in json.loads(response.body)] == [created[1]["id"]]


@pytest.mark.gen_test
async def test_read_many_as_ndjson(api):
    created = json.loads((await api.request("POST", "/persons", people(2))).body)
    response = await api.request(
        "GET", f"/persons?id={created[0]['id']}&id={created[1]['id']}", headers={"Accept": "application/x-ndjson"}
    )
    assert [json.loads(line) for line in response.body.decode().splitlines()] == created


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("id=nope", "invalid person id"),
        ("id=" + "&id=".join([str(uuid.UUID(int=n)) for n in range(1001)]), "at most 1000"),
        (f"id={uuid.UUID(int=1)}&limit=5", "cannot be combined"),
        (f"id={uuid.UUID(int=1)}&cursor=abc", "cannot be combined"),
        ("id=", "invalid person id"),
    ],
)
@pytest.mark.gen_test
async def test_read_many_bad_request(api, query, detail):
    response = await api.request("GET", "/persons?" + query)
    assert response.code == 400
    assert detail in problem(response)["detail"]


@pytest.mark.gen_test
async def test_read_many_1000_ids(api):
    ids = [str(uuid.UUID(int=n)) for n in range(1000)]
    response = await api.request("GET", "/persons?" + "&".join(f"id={person_id}" for person_id in ids))
    assert response.code == 200
    assert json.loads(response.body) == []


# -- paging --------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 7, 1000])
@pytest.mark.gen_test(timeout=60)
async def test_pages_cover_everyone_once(api, limit):
    created = json.loads((await api.request("POST", "/persons", people(7))).body)
    seen = await walk_pages(api, limit)
    assert [person["id"] for person in seen] == [person["id"] for person in created]


@pytest.mark.gen_test
async def test_last_page_has_no_link(api):
    await api.request("POST", "/persons", people(4))
    first = await api.request("GET", "/persons?limit=2")
    second = await api.request("GET", next_link(first))
    assert len(json.loads(second.body)) == 2
    assert "Link" not in second.headers


@pytest.mark.gen_test
async def test_cursor_alone_defaults_to_100(api):
    await api.request("POST", "/persons", people(100))
    created = json.loads((await api.request("POST", "/persons", people(150))).body)
    first = await api.request("GET", "/persons?limit=100")
    cursor = next_link(first).split("cursor=")[1]

    response = await api.request("GET", f"/persons?cursor={cursor}")

    page = json.loads(response.body)
    assert [person["id"] for person in page] == [person["id"] for person in created[:100]]
    assert next_link(response) is not None


@pytest.mark.gen_test
async def test_cursor_of_deleted_person_still_works(api):
    created = json.loads((await api.request("POST", "/persons", people(5))).body)
    first = await api.request("GET", "/persons?limit=2")
    await api.request("DELETE", f"/persons/{created[1]['id']}/versions")

    response = await api.request("GET", next_link(first))

    assert [person["id"] for person in json.loads(response.body)] == [created[2]["id"], created[3]["id"]]


@pytest.mark.gen_test(timeout=60)
async def test_paging_during_writes_sees_survivors_once(api):
    created = json.loads((await api.request("POST", "/persons", people(60))).body)
    survivors = {person["id"] for person in created[::2]}
    doomed = [person["id"] for person in created[1::2]]

    async def churn():
        # Between pages: delete some, update survivors, create newcomers.
        for _ in range(3):
            if doomed:
                await api.request("DELETE", f"/persons/{doomed.pop()}/versions")
        await asyncio.gather(*(api.request("PATCH", f"/persons/{person_id}", {"age": 1}) for person_id in list(survivors)[:5]))
        await api.request("POST", "/persons", people(2))

    seen = [person["id"] for person in await walk_pages(api, 7, between_pages=churn)]

    assert len(seen) == len(set(seen))
    assert survivors <= set(seen)


@pytest.mark.gen_test
async def test_cursor_from_other_store_is_400(api):
    await api.request("POST", "/persons", people(3))
    other_store_cursor = encode_cursor(1, b"another store's key")

    response = await api.request("GET", f"/persons?limit=1&cursor={other_store_cursor}")

    assert response.code == 400
    assert "invalid cursor" in problem(response)["detail"]


@pytest.mark.gen_test
async def test_tampered_cursor_is_400(api):
    await api.request("POST", "/persons", people(3))
    cursor = next_link(await api.request("GET", "/persons?limit=1")).split("cursor=")[1]
    tampered = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    response = await api.request("GET", f"/persons?limit=1&cursor={tampered}")
    assert response.code == 400


@pytest.mark.gen_test
async def test_page_as_ndjson(api):
    created = json.loads((await api.request("POST", "/persons", people(3))).body)
    response = await api.request("GET", "/persons?limit=2", headers={"Accept": "application/x-ndjson"})
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert [json.loads(line) for line in response.body.decode().splitlines()] == created[:2]
    assert next_link(response) is not None


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("limit=0", "invalid limit"),
        ("limit=1001", "invalid limit"),
        ("limit=-1", "invalid limit"),
        ("limit=abc", "invalid limit"),
        ("limit=1.5", "invalid limit"),
        ("limit=", "invalid limit"),
        ("limit=2&limit=3", "given 2 times"),
        ("cursor=abc", "invalid cursor"),
        ("cursor=", "invalid cursor"),
        ("cursor=%00", "invalid cursor"),
        ("cursor=cDE6MQ==", "invalid cursor"),
        ("cursor=cDE6MA", "invalid cursor"),
        ("cursor=AAAAAAAAAAAAAAAAAAAAAA", "invalid cursor"),
        ("cursor=AAAAAAAAAAEAAAAAAAAAAA", "invalid cursor"),
        ("cursor=" + "A" * 500, "invalid cursor"),
    ],
)
@pytest.mark.gen_test
async def test_bad_paging_parameter_is_400(api, query, detail):
    response = await api.request("GET", "/persons?" + query)
    assert response.code == 400
    assert detail in problem(response)["detail"]
