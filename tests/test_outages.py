"""Redis outages: every request gets a quick 503 with Retry-After, never a hang or a 500."""

from __future__ import annotations

import time

import pytest

from personsvc.store import PersonStore
from tests.conftest import ADA, free_port, problem

MISSING_ID = "0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10"

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
]


class TestRedisNotListening:
    @pytest.fixture
    def store(self, io_loop):
        person_store = PersonStore.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0, max_connections=4)
        yield person_store
        io_loop.run_sync(person_store.close)

    @pytest.mark.parametrize(("method", "path", "body"), ALL_OPERATIONS)
    @pytest.mark.gen_test
    async def test_request_is_503(self, api, method, path, body):
        started = time.monotonic()
        response = await api.request(method, path, body)

        assert response.code == 503
        assert time.monotonic() - started < 3
        assert response.headers["Retry-After"] == "2"
        assert "retry" in problem(response)["detail"]
