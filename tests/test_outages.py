"""Redis outages: a quick 503 with Retry-After, never a hang or a 500, and recovery without a restart.

These tests stop, pause (SIGSTOP) and restart a redis-server of their own,
so that the session's shared server is never disturbed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from tornado.simple_httpclient import HTTPStreamClosedError

from personsvc.embedded_redis import EmbeddedRedis
from personsvc.store import PersonStore
from tests.conftest import ADA, free_port, problem

MISSING_ID = "0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10"
REDIS_TIMEOUT = 1.0

ALL_OPERATIONS = [
    ("GET", "/persons", None),
    ("POST", "/persons", ADA),
    ("GET", f"/persons/{MISSING_ID}", None),
    ("PUT", f"/persons/{MISSING_ID}", ADA),
    ("PATCH", f"/persons/{MISSING_ID}", {"age": 1}),
    ("DELETE", f"/persons/{MISSING_ID}", None),
    ("GET", f"/persons/{MISSING_ID}/versions", None),
    ("DELETE", f"/persons/{MISSING_ID}/versions", None),
    ("GET", f"/persons/{MISSING_ID}/versions/1", None),
    ("GET", "/readyz", None),
]


async def assert_all_unavailable(api) -> None:
    """Send every operation at once and check each gets a 503 within a few seconds."""
    started = time.monotonic()
    responses = await asyncio.gather(*(api.request(method, path, body) for method, path, body in ALL_OPERATIONS))
    elapsed = time.monotonic() - started

    assert elapsed < 3 * REDIS_TIMEOUT + 1
    for (method, path, _), response in zip(ALL_OPERATIONS, responses, strict=True):
        assert response.code == 503, f"{method} {path}: {response.code}"
        assert response.headers["Retry-After"] == "2"
        problem(response)


class TestRedisNotListening:
    @pytest.fixture
    def store(self, io_loop):
        person_store = PersonStore.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=REDIS_TIMEOUT)
        yield person_store
        io_loop.run_sync(person_store.close)

    @pytest.mark.gen_test
    async def test_every_request_is_503(self, api):
        await assert_all_unavailable(api)

    @pytest.mark.gen_test
    async def test_liveness_stays_up(self, api):
        response = await api.request("GET", "/healthz")
        assert response.code == 200


class TestRedisPausedOrRestarted:
    @pytest.fixture
    def own_redis(self, tmp_path) -> Iterator[EmbeddedRedis]:
        server = EmbeddedRedis(tmp_path / "redis", fsync="always", port=free_port())
        server.start()
        yield server
        if server.process is not None and server.process.poll() is None:
            os.kill(server.process.pid, signal.SIGCONT)
        server.stop()

    @pytest.fixture
    def store(self, own_redis, io_loop):
        person_store = PersonStore.from_url(own_redis.url, timeout=REDIS_TIMEOUT)
        yield person_store
        io_loop.run_sync(person_store.close)

    @pytest.fixture
    def settings(self, settings):
        return settings.replace(stream_batch_size=5)

    @staticmethod
    def pause(server: EmbeddedRedis) -> None:
        os.kill(server.process.pid, signal.SIGSTOP)

    @staticmethod
    def resume(server: EmbeddedRedis) -> None:
        os.kill(server.process.pid, signal.SIGCONT)

    @pytest.mark.gen_test(timeout=60)
    async def test_paused_redis_is_503_then_recovers(self, api, own_redis):
        person = await api.create()

        self.pause(own_redis)
        try:
            await assert_all_unavailable(api)
        finally:
            self.resume(own_redis)

        response = await api.request("GET", f"/persons/{person['id']}")
        assert response.code == 200
        assert (await api.request("GET", "/readyz")).code == 200

    @pytest.mark.gen_test(timeout=60)
    async def test_restarted_redis_recovers_without_service_restart(self, api, own_redis):
        person = await api.create()
        own_redis.stop()

        await assert_all_unavailable(api)

        own_redis.start()
        response = await api.request("GET", f"/persons/{person['id']}")
        assert response.code == 200
        assert json.loads(response.body) == person
        written = await api.request("PUT", f"/persons/{person['id']}", {**ADA, "age": 1})
        assert written.code == 200
        assert (await api.request("POST", "/persons", ADA)).code == 201

    @pytest.mark.gen_test(timeout=60)
    async def test_script_flush_recovers(self, api, own_redis):
        person = await api.create()
        with redis.Redis.from_url(own_redis.url) as client:
            client.script_flush()

        read = await api.request("GET", f"/persons/{person['id']}")
        written = await api.request("PATCH", f"/persons/{person['id']}", {"age": 2})
        listed = await api.request("GET", "/persons")

        assert read.code == 200
        assert written.code == 200
        assert listed.code == 200

    @pytest.mark.gen_test(timeout=60)
    async def test_timed_out_reply_never_reaches_next_request(self, api, own_redis):
        first = await api.create({**ADA, "first_name": "First"})
        second = await api.create({**ADA, "first_name": "Second"})

        # While Redis is paused, these commands sit unanswered on pooled
        # connections and time out. Redis replies to them once resumed.
        self.pause(own_redis)
        try:
            stalled = await asyncio.gather(
                *(api.request("GET", f"/persons/{person['id']}") for person in (first, second) * 4)
            )
        finally:
            self.resume(own_redis)
        assert [response.code for response in stalled] == [503] * 8

        for _ in range(20):
            for person in (first, second):
                response = await api.request("GET", f"/persons/{person['id']}")
                assert response.code == 200
                assert json.loads(response.body)["id"] == person["id"]

    @pytest.mark.gen_test(timeout=60)
    async def test_failure_mid_stream_truncates_response(self, api, own_redis, store, caplog):
        fields = '"first_name":"A","middle_name":null,"last_name":"B","email":"a@example.com","age":1'
        for _ in range(40):
            await store.create(str(uuid.uuid4()), fields, "2026-01-01T00:00:00.000Z")
        chunks: list[bytes] = []

        def on_chunk(chunk: bytes) -> None:
            # Pause Redis as soon as the first batch has arrived.
            if not chunks:
                self.pause(own_redis)
            chunks.append(chunk)

        try:
            with caplog.at_level(logging.WARNING), pytest.raises(HTTPStreamClosedError):
                await api.client.fetch(api.base_url + "/persons", streaming_callback=on_chunk, request_timeout=30)
        finally:
            self.resume(own_redis)

        body = b"".join(chunks)
        assert body.startswith(b"[")
        assert not body.endswith(b"]")
        assert any("closing the stream" in record.getMessage() for record in caplog.records)
        assert not [record for record in caplog.records if record.exc_info]
