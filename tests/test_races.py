"""Concurrent requests on one person never leave a gap or a duplicate version."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import ADA

WRITERS = 40


@pytest.mark.gen_test(timeout=120)
async def test_racing_puts_leave_contiguous_versions(api):
    person = await api.create()
    path = f"/persons/{person['id']}"

    responses = await asyncio.gather(
        *(api.request("PUT", path, {**ADA, "age": writer}) for writer in range(WRITERS))
    )

    assert [response.code for response in responses] == [200] * WRITERS
    versions = sorted(json.loads(response.body)["version"] for response in responses)
    assert versions == list(range(2, WRITERS + 2))
    history = json.loads((await api.request("GET", f"{path}/versions")).body)
    assert [entry["version"] for entry in history] == list(range(1, WRITERS + 2))
    assert sorted(entry["age"] for entry in history[1:]) == list(range(WRITERS))
    assert (await api.request("GET", f"{path}/versions/{WRITERS + 2}")).code == 404


@pytest.mark.gen_test(timeout=120)
async def test_racing_patches_lose_no_update(api):
    person = await api.create({**ADA, "age": 0})
    path = f"/persons/{person['id']}"

    responses = await asyncio.gather(
        *(api.request("PATCH", path, {"first_name": f"Writer{writer}"}) for writer in range(WRITERS))
    )

    assert [response.code for response in responses] == [200] * WRITERS
    history = json.loads((await api.request("GET", f"{path}/versions")).body)
    assert [entry["version"] for entry in history] == list(range(1, WRITERS + 2))
    names = sorted(entry["first_name"] for entry in history[1:])
    assert names == sorted(f"Writer{writer}" for writer in range(WRITERS))


@pytest.mark.gen_test(timeout=120)
async def test_racing_creates_get_unique_ids(api):
    responses = await asyncio.gather(*(api.request("POST", "/persons", ADA) for _ in range(WRITERS)))

    ids = [json.loads(response.body)["id"] for response in responses]
    assert len(set(ids)) == WRITERS
    listed = [person["id"] for person in json.loads((await api.request("GET", "/persons")).body)]
    assert sorted(listed) == sorted(ids)
    assert len(listed) == WRITERS


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.gen_test(timeout=120)
async def test_writers_with_same_etag_one_wins(api, method):
    created = await api.request("POST", "/persons", ADA)
    person = json.loads(created.body)
    path = f"/persons/{person['id']}"
    await api.request("PUT", path, {**ADA, "age": 1})
    current = await api.request("GET", path)
    body = {**ADA, "age": 2} if method != "DELETE" else None

    responses = await asyncio.gather(
        *(api.request(method, path, body, headers={"If-Match": current.headers["ETag"]}) for _ in range(WRITERS))
    )

    codes = sorted(response.code for response in responses)
    assert codes == [200] + [412] * (WRITERS - 1)


@pytest.mark.gen_test(timeout=120)
async def test_mixed_put_and_delete_storm_keeps_versions_contiguous(api):
    person = await api.create()
    path = f"/persons/{person['id']}"
    for age in range(WRITERS):
        await api.request("PUT", path, {**ADA, "age": age})

    requests = [api.request("PUT", path, {**ADA, "age": 100}) for _ in range(WRITERS)]
    requests += [api.request("DELETE", path) for _ in range(WRITERS)]
    responses = await asyncio.gather(*requests)

    assert {response.code for response in responses} == {200}
    current = json.loads((await api.request("GET", path)).body)
    assert current["version"] == WRITERS + 1
    history = json.loads((await api.request("GET", f"{path}/versions")).body)
    assert [entry["version"] for entry in history] == list(range(1, current["version"] + 1))
    assert (await api.request("GET", f"{path}/versions/{current['version'] + 1}")).code == 404
    for entry in history:
        single = await api.request("GET", f"{path}/versions/{entry['version']}")
        assert json.loads(single.body) == entry
