"""Health, readiness, Prometheus metrics and the access log."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ADA
from tests.service import Service


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """Return the value of one sample in Prometheus text format, or 0 if absent."""
    label_text = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(label_text) + r"\}" if labels else "") + r" (\S+)"
    match = re.search("^" + pattern + "$", metrics_text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def metrics_text(api) -> str:
    response = await api.request("GET", "/metrics")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.body.decode()


@pytest.mark.gen_test
async def test_healthz_and_readyz(api):
    health = await api.request("GET", "/healthz")
    ready = await api.request("GET", "/readyz")
    assert (health.code, json.loads(health.body)) == (200, {"status": "ok"})
    assert (ready.code, json.loads(ready.body)) == (200, {"status": "ready"})


@pytest.mark.gen_test
async def test_requests_counted_by_route_and_status(api):
    person = await api.create()
    await api.request("GET", f"/persons/{person['id']}")
    await api.request("GET", f"/persons/{person['id']}")
    await api.request("GET", "/persons/nope")

    text = await metrics_text(api)

    assert sample(text, "personsvc_http_requests_total", method="GET", route="/persons/{id}", status="200") == 2
    assert sample(text, "personsvc_http_requests_total", method="GET", route="/persons/{id}", status="400") == 1
    assert sample(text, "personsvc_http_requests_total", method="POST", route="/persons", status="201") == 1
    count = sample(text, "personsvc_http_request_duration_seconds_count", method="GET", route="/persons/{id}", status="200")
    assert count == 2


@pytest.mark.gen_test
async def test_streamed_persons_counted(api):
    await api.request("POST", "/persons", [ADA] * 7)
    await api.request("GET", "/persons")
    assert sample(await metrics_text(api), "personsvc_persons_streamed_total") == 7


@pytest.mark.gen_test
async def test_in_flight_includes_metrics_request(api):
    # The /metrics request itself is in flight while it renders.
    assert sample(await metrics_text(api), "personsvc_http_requests_in_flight") == 1


class TestRedisDown:
    @pytest.fixture
    def store(self, io_loop):
        from personsvc.store import PersonStore
        from tests.conftest import free_port

        person_store = PersonStore.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0)
        yield person_store
        io_loop.run_sync(person_store.close)

    @pytest.mark.gen_test
    async def test_redis_errors_counted(self, api):
        await api.request("GET", "/persons")
        await api.request("GET", "/persons")
        text = await metrics_text(api)
        assert sample(text, "personsvc_redis_errors_total", error="ConnectionError") == 2
        assert sample(text, "personsvc_http_requests_total", method="GET", route="/persons", status="503") == 2


def test_json_access_log_has_every_field(tmp_path):
    service = Service(tmp_path / "data", "--log-format", "json")
    try:
        status, person = service.request("POST", "/persons", ADA)
        assert status == 201
    finally:
        service.terminate()

    lines = [json.loads(line) for line in service.log.splitlines()]
    access = [line for line in lines if line["logger"] == "personsvc.access"]
    assert len(access) >= 2  # the readiness probe of Service, then the create
    created = access[-1]
    assert created["method"] == "POST"
    assert created["route"] == "/persons"
    assert created["status"] == 201
    assert created["bytes"] == len(json.dumps(person, separators=(",", ":"), ensure_ascii=False).encode())
    assert created["duration_ms"] > 0
    assert re.fullmatch(r"[0-9a-f]{32}", created["request_id"])
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)


def test_text_log_lines_carry_request_id(tmp_path):
    service = Service(tmp_path / "data")
    try:
        service.request("GET", "/persons/not-a-uuid")
    finally:
        service.terminate()
    failed = [line for line in service.log.splitlines() if "/persons/not-a-uuid" in line]
    assert len(failed) == 2  # the caught error, then the access line
    ids = {re.search(r"request_id=(\w+)", line).group(1) for line in failed}
    assert len(ids) == 1
