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
