"""The OpenAPI document, the docs page and a schemathesis run against the live service."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from personsvc.openapi import build_document
from personsvc.validation import SCHEMA
from tests.service import Service

ROOT = Path(__file__).resolve().parent.parent

# The checks that fail on any 5xx, any response that does not match the
# document, and any status code that the document does not list.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"


def test_document_is_valid_openapi_31():
    validate(build_document())


def test_document_uses_the_validation_schema():
    schemas = build_document()["components"]["schemas"]
    for name, definition in SCHEMA["$defs"].items():
        expected = json.loads(json.dumps(definition).replace("#/$defs/", "#/components/schemas/"))
        assert schemas[name] == expected, name


def test_every_route_is_documented():
    from personsvc.app import make_app
    from personsvc.config import Settings

    app = make_app(Settings(), store=None)
    documented = set(build_document()["paths"])
    routes = {rule.target.ROUTE for rule in app.wildcard_router.rules}
    assert routes <= documented


@pytest.mark.gen_test
async def test_openapi_json_is_served(api):
    response = await api.request("GET", "/openapi.json")
    assert response.code == 200
    assert json.loads(response.body) == build_document()


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/docs", "text/html; charset=utf-8", b"swagger-ui-bundle.js"),
        ("/docs/assets/swagger-ui-bundle.js", "text/javascript", b"SwaggerUIBundle"),
        ("/docs/assets/swagger-ui.css", "text/css", b".swagger-ui"),
        ("/docs/assets/init.js", "text/javascript", b"/openapi.json"),
    ],
)
@pytest.mark.gen_test
async def test_docs_page_is_served_from_package(api, path, content_type, marker):
    response = await api.request("GET", path)
    assert response.code == 200
    assert response.headers["Content-Type"] == content_type
    assert marker in response.body


@pytest.mark.gen_test
async def test_unknown_docs_asset_is_404(api):
    response = await api.request("GET", "/docs/assets/..%2Fsecrets")
    assert response.code == 404


@pytest.mark.timeout(600)
def test_schemathesis_finds_no_failure(tmp_path):
    service = Service(tmp_path / "data", "--log-level", "warning")
    try:
        result = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run", f"http://127.0.0.1:{service.port}/openapi.json",
                "--checks", CHECKS, "--max-examples", "30", "--seed", "20261204", "--no-color",
                "--generation-database", "none",
            ],
            cwd=ROOT, capture_output=True, text=True, timeout=540,
        )
    finally:
        service.terminate()

    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert generated is not None, summary
    assert int(generated.group(1)) >= 300, summary
    assert generated.group(1) == generated.group(2), summary
    assert "Traceback" not in service.log
