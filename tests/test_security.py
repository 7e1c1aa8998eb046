"""Bearer tokens, safe defaults, connection limits and key safety."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import uuid

import pytest

from personsvc.config import ConfigError, load_settings
from tests.conftest import ADA, free_port, problem
from tests.service import ROOT, Service

FULL = "full-access-token-0123456789"
READER = "read-only-token-0123456789ab"


class TestTokens:
    @pytest.fixture
    def settings(self, settings):
        return settings.replace(api_tokens=(FULL,), read_only_tokens=(READER,))

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param({}, id="no-header"),
            pytest.param({"Authorization": "Bearer"}, id="empty-bearer"),
            pytest.param({"Authorization": f"Basic {FULL}"}, id="other-scheme"),
            pytest.param({"Authorization": "Bearer wrong-token-0123456789"}, id="wrong-token"),
            pytest.param({"Authorization": f"Bearer {FULL[:-1]}"}, id="token-prefix"),
            pytest.param({"Authorization": f"Bearer {FULL}x"}, id="token-longer"),
        ],
    )
    @pytest.mark.parametrize("path", ["/persons", f"/persons/{uuid.UUID(int=1)}", "/metrics", "/nowhere"])
    @pytest.mark.gen_test
    async def test_missing_or_bad_token_is_401(self, api, headers, path):
        response = await api.request("GET", path, headers=headers)
        assert response.code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        problem(response)

    @pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json"])
    @pytest.mark.gen_test
    async def test_open_paths_need_no_token(self, api, path):
        response = await api.request("GET", path)
        assert response.code == 200

    @pytest.mark.gen_test
    async def test_full_token_reads_and_writes(self, api):
        created = await api.request("POST", "/persons", ADA, headers=self.bearer(FULL))
        assert created.code == 201
        person_id = json.loads(created.body)["id"]
        read = await api.request("GET", f"/persons/{person_id}", headers={"Authorization": f"bearer  {FULL} "})
        assert read.code == 200

    @pytest.mark.gen_test
    async def test_read_only_token_reads(self, api):
        created = await api.request("POST", "/persons", ADA, headers=self.bearer(FULL))
        person_id = json.loads(created.body)["id"]
        for path in (f"/persons/{person_id}", "/persons", f"/persons/{person_id}/versions", "/metrics"):
            assert (await api.request("GET", path, headers=self.bearer(READER))).code == 200

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("POST", "/persons", ADA),
            ("PUT", "/persons/{id}", ADA),
            ("PATCH", "/persons/{id}", {"age": 1}),
            ("DELETE", "/persons/{id}", None),
            ("DELETE", "/persons/{id}/versions", None),
        ],
    )
    @pytest.mark.gen_test
    async def test_read_only_token_cannot_write(self, api, redis_sync, method, path, body):
        created = await api.request("POST", "/persons", ADA, headers=self.bearer(FULL))
        person = json.loads(created.body)

        response = await api.request(method, path.format(id=person["id"]), body, headers=self.bearer(READER))

        assert response.code == 403
        assert "read-only" in problem(response)["detail"]
        current = await api.request("GET", f"/persons/{person['id']}", headers=self.bearer(FULL))
        assert json.loads(current.body) == person
        assert redis_sync.zcard("persons:index") == 1

    @pytest.mark.gen_test
    async def test_token_never_logged(self, api, caplog):
        with caplog.at_level(logging.DEBUG):
            await api.request("GET", "/persons", headers=self.bearer(FULL))
            await api.request("GET", "/persons", headers={"Authorization": "Bearer not-the-token-0123456789"})
        text = "\n".join(record.getMessage() + str(vars(record)) for record in caplog.records)
        assert FULL not in text
        assert "not-the-token-0123456789" not in text


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PERSONSVC_API_TOKENS": "short"}, "token 1 of 1 is invalid"),
        ({"PERSONSVC_API_TOKENS": f"{FULL}, has space inside it!"}, "token 2 of 2 is invalid"),
        ({"PERSONSVC_READ_ONLY_TOKENS": "x" * 300}, "token 1 of 1 is invalid"),
    ],
)
def test_invalid_token_setting_is_rejected_without_echo(environ, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings([], environ=environ)
    for value in environ.values():
        for token in value.split(","):
            assert token.strip() not in str(caught.value) or len(token.strip()) < 3


def test_token_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"# comment\n\n{FULL}\nread-only {READER}\n")
    settings = load_settings(["--api-tokens-file", str(path), "--api-token", "another-token-0123456789"], environ={})
    assert settings.api_tokens == ("another-token-0123456789", FULL)
    assert settings.read_only_tokens == (READER,)
    assert FULL not in repr(settings)


def test_token_file_bad_line_names_line_not_token(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"{FULL}\nread-only tiny\n")
    with pytest.raises(ConfigError, match="line 2") as caught:
        load_settings(["--api-tokens-file", str(path)], environ={})
    assert "tiny" not in str(caught.value)


def test_public_bind_without_token_warns(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "run.py", "--host", "0.0.0.0", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "listening on" in line:
                lines.append(process.stderr.readline())
                break
    finally:
        process.terminate()
        process.wait(20)
        process.stderr.close()
    assert "with no API token set" in "".join(lines)


def test_default_bind_is_loopback():
    assert load_settings([], environ={}).host == "127.0.0.1"


def test_redis_password_never_shown(tmp_path):
    url = f"redis://user:sekrit-password@127.0.0.1:{free_port()}/0"
    service = Service(tmp_path / "data", "--redis-url", url, "--redis-timeout", "0.5")
    try:
        status, body = service.request("GET", "/persons")
    finally:
        service.terminate()
    assert status == 503
    assert "sekrit-password" not in json.dumps(body)
    assert "sekrit-password" not in service.log
    assert "user:***@127.0.0.1" in service.log


# -- connection-level limits ----------------------------------------------------------


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def response_problem(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert b"Content-Type: application/problem+json" in head
    return status, json.loads(body)


class TestConnectionLimits:
    @pytest.fixture
    def settings(self, settings):
        return settings.replace(max_connections=5)

    @pytest.mark.gen_test
    async def test_oversized_headers_are_431(self, api, http_port):
        raw = await raw_exchange(http_port, b"GET /persons HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
        status, body = response_problem(raw)
        assert status == 431
        assert "65536" in body["detail"]

    @pytest.mark.gen_test
    async def test_overlong_request_line_is_431(self, api, http_port):
        raw = await raw_exchange(http_port, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        assert response_problem(raw)[0] == 431

    @pytest.mark.parametrize(
        "request_bytes",
        [
            pytest.param(b"GARBAGE\r\n\r\n", id="bad-request-line"),
            pytest.param(b"GET /persons HTTP/1.1\r\nBad\x01Name: y\r\n\r\n", id="bad-header-name"),
            pytest.param(b"GET /persons HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                         id="two-content-lengths"),
            pytest.param(b"GET /persons HTTP/9.9\r\n\r\n", id="bad-version"),
        ],
    )
    @pytest.mark.gen_test
    async def test_malformed_request_is_400_problem(self, api, http_port, request_bytes):
        status, body = response_problem(await raw_exchange(http_port, request_bytes))
        assert status == 400
        assert "not valid HTTP/1.1" in body["detail"]

    @pytest.mark.gen_test
    async def test_connections_over_limit_get_503(self, http_port, api):
        held = [await asyncio.open_connection("127.0.0.1", http_port) for _ in range(5)]
        await asyncio.sleep(0.1)  # let the server accept them
        try:
            status, body = response_problem(await raw_exchange(http_port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"))
        finally:
            for _, writer in held:
                writer.close()
        assert status == 503
        assert "5 open connections" in body["detail"]


# -- key safety -----------------------------------------------------------------------------


HOSTILE_IDS = ["*", "?", "[", "]", "{", "}", "%7B", "%7D", "..", "%2E%2E", "%2F", "a%2Fb", "%00", "x%00",
               str(uuid.UUID(int=1)) + "::v:1", str(uuid.UUID(int=1)) + "}", "{" + str(uuid.UUID(int=1)) + "}",
               "urn:uuid:" + str(uuid.UUID(int=1)), uuid.UUID(int=1).hex, "%20" + str(uuid.UUID(int=1)),
               "person:{x}", "persons:index"]


@pytest.mark.parametrize("raw_id", HOSTILE_IDS)
@pytest.mark.parametrize("suffix", ["", "/versions", "/versions/1"])
@pytest.mark.gen_test
async def test_hostile_id_never_reaches_redis(api, redis_sync, raw_id, suffix):
    await api.create()
    keys_before = sorted(redis_sync.keys("*"))

    for method in ("GET", "DELETE"):
        response = await api.request(method, f"/persons/{raw_id}{suffix}")
        assert response.code in (400, 404, 405), (method, raw_id, response.code)
        problem(response)

    assert sorted(redis_sync.keys("*")) == keys_before


@pytest.mark.parametrize("raw_version", ["*", "1*", "[1]", "1::v:2", "..", "%2F1", "1%00", "0x1", "+1", " 1"])
@pytest.mark.gen_test
async def test_hostile_version_is_400(api, raw_version):
    person = await api.create()
    response = await api.request("GET", f"/persons/{person['id']}/versions/{raw_version}")
    assert response.code == 400


@pytest.mark.gen_test
async def test_every_key_is_a_known_shape(api, redis_sync):
    created = await api.create()
    await api.request("PUT", f"/persons/{created['id'].upper()}", ADA)
    await api.request("POST", "/persons", [ADA, ADA])
    pattern = r"person:\{[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\}(:v:[1-9][0-9]*)?"
    for key in redis_sync.keys("*"):
        text = key.decode()
        assert text in ("persons:index", "persons:seq") or re.fullmatch(pattern, text), text

