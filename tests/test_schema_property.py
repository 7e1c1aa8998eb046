"""Property: the live service creates a person exactly when the JSON Schema accepts the body."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings

from personsvc.validation import CREATE_VALIDATOR
from tests.service import Service
from tests.test_schema_equivalence import BODIES


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = Service(tmp_path_factory.mktemp("property") / "data", "--log-level", "warning")
    yield running
    running.terminate()


def post_json(service: Service, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{service.port}/persons", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# A JSON array is a bulk create, with rules of its own, so only non-arrays here.
SINGLE_BODIES = BODIES.filter(lambda body: not isinstance(body, list))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=SINGLE_BODIES)
def test_service_accepts_exactly_what_schema_accepts(service, body):
    schema_accepts = not list(CREATE_VALIDATOR.thorough.iter_errors(body))

    status, reply = post_json(service, body)

    assert status == (201 if schema_accepts else 400), (body, reply)
    if status == 400:
        assert reply["type"] == "/problems/validation-failed", (body, reply)
