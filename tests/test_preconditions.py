"""If-Match, If-None-Match and version preconditions, checked inside the write."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ADA, problem

BOB = {**ADA, "first_name": "Bob"}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param('""', id="empty-tag"),
        pytest.param('"*"', id="quoted-star"),
        pytest.param('"nope"', id="other-tag"),
        pytest.param('W/"{etag}"', id="weak-form-of-current"),
        pytest.param('"nope", ""', id="list-without-current"),
    ],
)
@pytest.mark.gen_test
async def test_if_match_that_does_not_match_is_412(api, method, if_match):
    created = await api.request("POST", "/persons", ADA)
    person = json.loads(created.body)
    etag = created.headers["ETag"].strip('"')
    path = f"/persons/{person['id']}"
    body = BOB if method in ("PUT", "PATCH") else None

    response = await api.request(method, path, body, headers={"If-Match": if_match.format(etag=etag)})

    assert response.code == 412
    problem(response)
    current = json.loads((await api.request("GET", path)).body)
    assert current == person


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("form", ["{etag}", '"nope", {etag}', "*"])
@pytest.mark.gen_test
async def test_if_match_that_matches_writes(api, method, form):
    created = await api.request("POST", "/persons", ADA)
    person = json.loads(created.body)
    body = BOB if method in ("PUT", "PATCH") else None

    response = await api.request(
        method, f"/persons/{person['id']}", body, headers={"If-Match": form.format(etag=created.headers["ETag"])}
    )

    assert response.code in (200, 204)


@pytest.mark.gen_test
async def test_delete_all_honours_if_match(api):
    person = await api.create()
    path = f"/persons/{person['id']}/versions"

    stale = await api.request("DELETE", path, headers={"If-Match": '"nope"'})
    assert stale.code == 412
    assert (await api.request("GET", f"/persons/{person['id']}")).code == 200


@pytest.mark.parametrize("header", ["nope", '"unterminated', "W/nope", ""])
@pytest.mark.gen_test
async def test_malformed_if_match_is_400(api, header):
    person = await api.create()
    response = await api.request("PUT", f"/persons/{person['id']}", BOB, headers={"If-Match": header})
    assert response.code == 400
    assert "If-Match" in problem(response)["detail"]


@pytest.mark.parametrize("form", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
@pytest.mark.gen_test
async def test_if_none_match_gives_304(api, form):
    created = await api.request("POST", "/persons", ADA)
    person = json.loads(created.body)
    etag = created.headers["ETag"]

    for path in (f"/persons/{person['id']}", f"/persons/{person['id']}/versions/1"):
        response = await api.request("GET", path, headers={"If-None-Match": form.format(etag=etag)})
        assert response.code == 304
        assert response.body == b""
        assert response.headers["ETag"] == etag


@pytest.mark.gen_test
async def test_if_none_match_stale_gives_200(api):
    created = await api.request("POST", "/persons", ADA)
    person = json.loads(created.body)
    await api.request("PUT", f"/persons/{person['id']}", BOB)

    response = await api.request(
        "GET", f"/persons/{person['id']}", headers={"If-None-Match": created.headers["ETag"]}
    )

    assert response.code == 200
    assert json.loads(response.body)["version"] == 2


@pytest.mark.gen_test
async def test_etag_of_rewritten_version_differs(api):
    person = await api.create()
    path = f"/persons/{person['id']}"
    first_v2 = await api.request("PUT", path, BOB)
    old_etag = first_v2.headers["ETag"]
    await api.request("DELETE", path)
    second_v2 = await api.request("PUT", path, {**BOB, "age": 80})
    assert json.loads(second_v2.body)["version"] == 2

    response = await api.request("PUT", path, ADA, headers={"If-Match": old_etag})

    assert second_v2.headers["ETag"] != old_etag
    assert response.code == 412


@pytest.mark.gen_test
async def test_etag_consumed_by_delete_no_longer_matches(api):
    person = await api.create()
    path = f"/persons/{person['id']}"
    v2_etag = (await api.request("PUT", path, BOB)).headers["ETag"]

    deleted = await api.request("DELETE", path, headers={"If-Match": v2_etag})
    response = await api.request("PUT", path, ADA, headers={"If-Match": v2_etag})

    assert deleted.code == 200
    assert response.code == 412


@pytest.mark.gen_test
async def test_patch_version_precondition(api):
    person = await api.create()
    path = f"/persons/{person['id']}"
    await api.request("PATCH", path, {"age": 1})

    stale = await api.request("PATCH", path, {"age": 2, "version": 1})
    fresh = await api.request("PATCH", path, {"age": 3, "version": 2})

    assert stale.code == 412
    assert fresh.code == 200
    assert json.loads(fresh.body)["version"] == 3
