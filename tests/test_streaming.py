"""Read-all and version history: batches, order, NDJSON and clients that go away."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest

from tests.conftest import ADA


@pytest.fixture
def settings(settings):
    # Small batches, so that a few persons already span several round trips.
    return settings.replace(stream_batch_size=3)


async def create_many(api, count):
    return [await api.create({**ADA, "age": index % 150}) for index in range(count)]


@pytest.mark.gen_test
async def test_read_all_spans_batches_in_order(api):
    created = await create_many(api, 10)

    response = await api.request("GET", "/persons")

    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert [person["id"] for person in json.loads(response.body)] == [person["id"] for person in created]


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 6, 7])
@pytest.mark.gen_test
async def test_read_all_batch_boundaries(api, count):
    created = await create_many(api, count)
    response = await api.request("GET", "/persons")
    assert [person["id"] for person in json.loads(response.body)] == [person["id"] for person in created]


@pytest.mark.gen_test
async def test_empty_read_all_is_chunked_without_etag(api):
    response = await api.request("GET", "/persons")
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "ETag" not in response.headers


@pytest.mark.gen_test
async def test_read_all_skips_deleted_persons(api):
    created = await create_many(api, 9)
    for index in (0, 3, 4, 5, 8):
        await api.request("DELETE", f"/persons/{created[index]['id']}/versions")

    response = await api.request("GET", "/persons")

    expected = [created[index]["id"] for index in (1, 2, 6, 7)]
    assert [person["id"] for person in json.loads(response.body)] == expected


@pytest.mark.gen_test
async def test_read_all_as_ndjson(api):
    created = await create_many(api, 5)

    response = await api.request("GET", "/persons", headers={"Accept": "application/x-ndjson"})

    assert response.headers["Content-Type"] == "application/x-ndjson"
    lines = response.body.decode().split("\n")
    assert lines[-1] == ""
    assert [json.loads(line) for line in lines[:-1]] == created


@pytest.mark.gen_test
async def test_empty_read_all_as_ndjson(api):
    response = await api.request("GET", "/persons", headers={"Accept": "application/x-ndjson"})
    assert response.code == 200
    assert response.body == b""


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/x-ndjson, application/json;q=0.5", "application/x-ndjson"),
        ("application/json, application/x-ndjson;q=0.5", "application/json"),
        ("application/x-ndjson;q=0", "application/json"),
        ("*/*", "application/json"),
        ("text/html", "application/json"),
    ],
)
@pytest.mark.gen_test
async def test_accept_negotiation(api, accept, expected):
    response = await api.request("GET", "/persons", headers={"Accept": accept})
    assert response.headers["Content-Type"] == expected


@pytest.mark.gen_test
async def test_history_spans_batches(api):
    person = await api.create()
    for age in range(1, 8):
        await api.request("PATCH", f"/persons/{person['id']}", {"age": age})

    response = await api.request("GET", f"/persons/{person['id']}/versions")

    history = json.loads(response.body)
    assert [entry["version"] for entry in history] == list(range(1, 9))
    assert [entry["age"] for entry in history] == [36, 1, 2, 3, 4, 5, 6, 7]


@pytest.mark.gen_test
async def test_history_as_ndjson(api):
    person = await api.create()
    await api.request("PATCH", f"/persons/{person['id']}", {"age": 1})

    response = await api.request(
        "GET", f"/persons/{person['id']}/versions", headers={"Accept": "application/x-ndjson"}
    )

    versions = [json.loads(line)["version"] for line in response.body.decode().splitlines()]
    assert versions == [1, 2]


@pytest.mark.gen_test
async def test_head_read_all_has_no_body(api):
    await create_many(api, 4)
    response = await api.request("HEAD", "/persons")
    assert response.code == 200
    assert response.body == b""
    assert "ETag" not in response.headers
    assert "Content-Length" not in response.headers


async def store_many(store, count):
    """Create persons straight through the store, faster than over HTTP."""
    fields = '"first_name":"%s","middle_name":null,"last_name":"%s","email":"a@example.com","age":1' % (
        "x" * 200, "y" * 200,
    )
    for start in range(0, count, 500):
        await asyncio.gather(
            *(store.create(str(uuid.uuid4()), fields, "2026-01-01T00:00:00.000Z") for _ in range(start, min(count, start + 500)))
        )


@pytest.mark.gen_test
async def test_client_leaving_mid_stream_stops_walk(api, store, base_url, caplog):
    # About 3 MB of persons: more than the socket buffers hold, so the
    # server is still writing when the client goes away.
    await store_many(store, 6000)
    port = int(base_url.rsplit(":", 1)[1])

    with caplog.at_level(logging.INFO):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /persons HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        await reader.read(100)
        writer.close()
        for _ in range(50):
            if any("client closed the connection" in record.getMessage() for record in caplog.records):
                break
            await asyncio.sleep(0.1)
        response = await api.request("GET", "/persons")

    assert any("client closed the connection" in record.getMessage() for record in caplog.records)
    assert response.code == 200
    assert len(json.loads(response.body)) == 6000
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not [record for record in caplog.records if record.exc_info]
