"""Status codes and problem+json bodies for every kind of failure."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from tests.conftest import ADA, problem

MISSING_ID = "0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/persons", "GET, HEAD, POST, OPTIONS"),
        ("DELETE", "/persons", "GET, HEAD, POST, OPTIONS"),
        ("POST", f"/persons/{MISSING_ID}", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"),
        ("PUT", f"/persons/{MISSING_ID}/versions", "GET, HEAD, DELETE, OPTIONS"),
        ("DELETE", f"/persons/{MISSING_ID}/versions/1", "GET, HEAD, OPTIONS"),
        ("BREW", "/persons", "GET, HEAD, POST, OPTIONS"),
    ],
)
@pytest.mark.gen_test
async def test_wrong_method_is_405_with_allow(api, method, path, allow):
    response = await api.request(method, path, raw=b"{}" if method in ("POST", "PUT") else None)
    assert response.code == 405
    assert response.headers["Allow"] == allow
    assert method in problem(response)["detail"]


@pytest.mark.parametrize(
    "path", ["/", "/people", "/persons/", f"/persons/{MISSING_ID}/", f"/persons/{MISSING_ID}/versions/1/x"]
)
@pytest.mark.gen_test
async def test_unknown_path_is_404(api, path):
    response = await api.request("GET", path)
    assert response.code == 404
    assert problem(response)["instance"] == path


@pytest.mark.parametrize(
    "raw_id",
    [
        "42",
        "not-a-uuid",
        MISSING_ID.replace("-", ""),
        "{" + MISSING_ID + "}",
        "urn:uuid:" + MISSING_ID,
        MISSING_ID + "x",
        "*",
        "%2A",
        MISSING_ID[:-1] + "%00",
    ],
)
@pytest.mark.gen_test
async def test_malformed_person_id_is_400(api, raw_id):
    response = await api.request("GET", f"/persons/{raw_id}")
    assert response.code == 400
    assert "invalid person id" in problem(response)["detail"]


@pytest.mark.parametrize("raw_version", ["0", "-1", "01", "1.0", "abc", "1e3", "%31%00"])
@pytest.mark.gen_test
async def test_malformed_version_is_400(api, raw_version):
    person = await api.create()
    response = await api.request("GET", f"/persons/{person['id']}/versions/{raw_version}")
    assert response.code == 400
    assert "invalid version" in problem(response)["detail"]


@pytest.mark.gen_test
async def test_huge_version_is_404(api):
    person = await api.create()
    response = await api.request("GET", f"/persons/{person['id']}/versions/9999999999999999")
    assert response.code == 404


@pytest.mark.parametrize(
    ("method", "content_type"),
    [
        ("POST", None),
        ("POST", "text/plain"),
        ("POST", "application/x-www-form-urlencoded"),
        ("POST", "application/merge-patch+json"),
        ("POST", "application/json; charset=latin-1"),
        ("PUT", None),
        ("PUT", "application/merge-patch+json"),
        ("PATCH", "application/json-patch+json"),
        ("PATCH", "text/json"),
    ],
)
@pytest.mark.gen_test
async def test_wrong_content_type_is_415(api, method, content_type):
    person = await api.create()
    path = "/persons" if method == "POST" else f"/persons/{person['id']}"
    response = await api.request(method, path, raw=json.dumps(ADA).encode(), content_type=content_type)
    assert response.code == 415
    assert "Content-Type" in problem(response)["detail"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=UTF-8",
        "application/json; charset = utf-8",
        'application/json; charset="utf-8"',
        "application/json; charset=utf-8; foo=bar",
        "application/json; foo=bar",
    ],
)
@pytest.mark.gen_test
async def test_json_content_type_variants_accepted(api, content_type):
    response = await api.request("POST", "/persons", ADA, content_type=content_type)
    assert response.code == 201


@pytest.fixture
def settings(settings):
    return settings.replace(max_body_size=4096)


@pytest.mark.gen_test
async def test_body_over_limit_is_413(api, redis_sync):
    body = {**ADA, "first_name": "x" * 5000}
    response = await api.request("POST", "/persons", body)
    assert response.code == 413
    assert "4096" in problem(response)["detail"]
    assert redis_sync.dbsize() == 0


@pytest.mark.gen_test
async def test_chunked_body_over_limit_is_413(api):
    async def produce(write):
        for _ in range(10):
            await write(b" " * 1000)

    response = await api.client.fetch(
        api.base_url + "/persons",
        method="POST",
        body_producer=produce,
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        raise_error=False,
    )
    assert response.code == 413
    problem(response)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/persons", 413),
        ("GET", f"/persons/{MISSING_ID}/versions/1", 413),
        ("DELETE", f"/persons/{MISSING_ID}/versions", 413),
        ("GET", "/nowhere", 404),
    ],
)
@pytest.mark.gen_test
async def test_body_over_limit_on_any_route(api, method, path, status):
    response = await api.request(method, path, raw=b" " * 5000)
    assert response.code == status
    problem(response)


@pytest.mark.gen_test
async def test_413_closes_connection(api):
    response = await api.request("POST", "/persons", raw=b" " * 5000)
    assert response.headers["Connection"] == "close"


@pytest.mark.gen_test
async def test_body_at_limit_is_parsed(api):
    raw = json.dumps(ADA).encode()
    raw = raw[:-1] + b" " * (4096 - len(raw)) + b"}"
    assert len(raw) == 4096
    response = await api.request("POST", "/persons", raw=raw)
    assert response.code == 201


@pytest.mark.gen_test
async def test_bad_path_checked_before_body(api):
    response = await api.request("PUT", "/persons/nope", raw=b"{", content_type="text/plain")
    assert response.code == 400
    assert "invalid person id" in problem(response)["detail"]


@pytest.mark.gen_test
async def test_body_checked_before_existence(api):
    response = await api.request("PUT", f"/persons/{MISSING_ID}", {"age": 1})
    assert response.code == 400


@pytest.mark.gen_test
async def test_patch_body_checked_before_existence(api):
    response = await api.request("PATCH", f"/persons/{MISSING_ID}", {"age": "x", "bogus": 1})
    assert response.code == 400
    assert sorted(error["pointer"] for error in problem(response)["errors"]) == ["/age", "/bogus"]


@pytest.mark.gen_test
async def test_existence_checked_before_precondition(api):
    response = await api.request("PUT", f"/persons/{MISSING_ID}", ADA, headers={"If-Match": '"nope"'})
    assert response.code == 404


@pytest.mark.parametrize("path", ["/persons", "/persons/{id}", "/persons/{id}/versions", "/persons/{id}/versions/1"])
@pytest.mark.gen_test
async def test_unknown_query_parameter_is_400(api, path):
    person = await api.create()
    response = await api.request("GET", path.format(id=person["id"]) + "?expand=all")
    assert response.code == 400
    assert "expand" in problem(response)["detail"]


@pytest.mark.gen_test
async def test_request_id_is_echoed(api):
    response = await api.request("GET", f"/persons/{MISSING_ID}", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert problem(response)["request_id"] == "abc-123"


@pytest.mark.gen_test
async def test_malformed_request_id_is_replaced(api):
    response = await api.request("GET", "/persons", headers={"X-Request-ID": "bad id; " + "x" * 200})
    assert response.code == 200
    assert len(response.headers["X-Request-ID"]) == 32


@pytest.mark.gen_test
async def test_corrupt_record_is_500_without_details(api, redis_sync, caplog):
    person_id = str(uuid.uuid4())
    redis_sync.hset(f"person:{{{person_id}}}", mapping={"current": 1, "writes": 1, "seq": 1})
    redis_sync.hset(f"person:{{{person_id}}}:v:1", mapping={"doc": "not json", "etag": "1-1"})

    with caplog.at_level(logging.ERROR, logger="personsvc.request"):
        response = await api.request("PATCH", f"/persons/{person_id}", {"age": 3}, headers={"X-Request-ID": "r-500"})

    assert response.code == 500
    body = problem(response)
    assert body["detail"].startswith("internal error")
    assert body["request_id"] == "r-500"
    assert "Traceback" not in response.body.decode()
    assert "JSONDecodeError" not in response.body.decode()
    logged = [record for record in caplog.records if record.name == "personsvc.request"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None


@pytest.mark.parametrize("count", [1011, 5000])
@pytest.mark.gen_test
async def test_too_many_query_parameters_is_problem(api, count):
    response = await api.request("GET", "/persons?" + "&".join(f"a{index}=1" for index in range(count)))
    assert response.code == 400
    assert "at most 1010" in problem(response)["detail"]
