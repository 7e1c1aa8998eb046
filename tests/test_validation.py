"""Field rules of the person record and strict JSON parsing, over HTTP."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ADA, problem


def with_field(name, value):
    return {**ADA, name: value}


def without_field(name):
    return {key: value for key, value in ADA.items() if key != name}


VALID = [
    pytest.param(with_field("age", 0), id="age-0"),
    pytest.param(with_field("age", 150), id="age-150"),
    pytest.param(with_field("first_name", "x" * 200), id="name-200-chars"),
    pytest.param(with_field("last_name", "é" * 200), id="name-200-two-byte-chars"),
    pytest.param(with_field("last_name", "😀" * 200), id="name-200-astral-chars"),
    pytest.param(with_field("first_name", "Jean Luc"), id="name-with-space"),
    pytest.param(with_field("middle_name", None), id="middle-name-null"),
    pytest.param(with_field("middle_name", "Augusta"), id="middle-name-string"),
    pytest.param(with_field("email", "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + ".com"), id="email-long"),
    pytest.param(with_field("email", "ü@exämple.com"), id="email-international"),
    pytest.param(with_field("updated_at", 12), id="updated-at-ignored"),
]


@pytest.mark.parametrize("body", VALID)
@pytest.mark.gen_test
async def test_valid_person_is_created(api, body):
    response = await api.request("POST", "/persons", body)
    assert response.code == 201, response.body


@pytest.mark.gen_test
async def test_integral_float_age_is_stored_as_integer(api):
    response = await api.request("POST", "/persons", raw=b'{"first_name": "A", "last_name": "B", '
                                 b'"email": "a@example.com", "age": 30.0}')
    assert response.code == 201
    assert b'"age":30,' in response.body
    person = json.loads(response.body)
    stored = await api.request("GET", f"/persons/{person['id']}")
    assert b'"age":30,' in stored.body


INVALID = [
    pytest.param(with_field("age", -1), "/age", "from 0 to 150", id="age-minus-1"),
    pytest.param(with_field("age", 151), "/age", "from 0 to 150", id="age-151"),
    pytest.param(with_field("age", 36.5), "/age", "whole number", id="age-fraction"),
    pytest.param(with_field("age", True), "/age", "boolean", id="age-boolean"),
    pytest.param(with_field("age", "36"), "/age", "string", id="age-string"),
    pytest.param(with_field("age", None), "/age", "null", id="age-null"),
    pytest.param(without_field("age"), "/age", "required", id="age-missing"),
    pytest.param(with_field("first_name", "x" * 201), "/first_name", "at most 200", id="name-201-chars"),
    pytest.param(with_field("last_name", "😀" * 201), "/last_name", "at most 200", id="name-201-astral"),
    pytest.param(with_field("first_name", ""), "/first_name", "empty", id="name-empty"),
    pytest.param(with_field("first_name", "   "), "/first_name", "blank", id="name-blank"),
    pytest.param(with_field("first_name", "\u3000"), "/first_name", "blank", id="name-ideographic-space"),
    pytest.param(with_field("first_name", "A\tB"), "/first_name", "U+0009", id="name-tab"),
    pytest.param(with_field("first_name", "A\nB"), "/first_name", "U+000A", id="name-newline"),
    pytest.param(with_field("last_name", "A\x7fB"), "/last_name", "U+007F", id="name-delete"),
    pytest.param(with_field("last_name", "A\x85B"), "/last_name", "U+0085", id="name-c1-control"),
    pytest.param(with_field("first_name", "Ada\n"), "/first_name", "U+000A", id="name-trailing-newline"),
    pytest.param(with_field("middle_name", "B\n"), "/middle_name", "U+000A", id="middle-name-trailing-newline"),
    pytest.param(with_field("first_name", "\x00"), "/first_name", "U+0000", id="name-nul"),
    pytest.param(with_field("first_name", [[[[1]]]]), "/first_name", "string", id="name-nested-array"),
    pytest.param(with_field("first_name", 7), "/first_name", "string", id="name-number"),
    pytest.param(without_field("first_name"), "/first_name", "required", id="first-name-missing"),
    pytest.param(without_field("last_name"), "/last_name", "required", id="last-name-missing"),
    pytest.param(with_field("middle_name", ""), "/middle_name", "empty", id="middle-name-empty"),
    pytest.param(with_field("middle_name", " "), "/middle_name", "blank", id="middle-name-blank"),
    pytest.param(with_field("middle_name", 3), "/middle_name", "string or null", id="middle-name-number"),
    pytest.param(with_field("email", "ada.example.com"), "/email", "e-mail", id="email-no-at"),
    pytest.param(with_field("email", "a@b"), "/email", "e-mail", id="email-no-dot-in-domain"),
    pytest.param(with_field("email", "a@@example.com"), "/email", "e-mail", id="email-two-ats"),
    pytest.param(with_field("email", "a b@example.com"), "/email", "e-mail", id="email-space"),
    pytest.param(with_field("email", "a" * 250 + "@example.com"), "/email", "254", id="email-255-chars"),
    pytest.param(with_field("email", "a" * 65 + "@example.com"), "/email", "before the @", id="email-local-part-65"),
    pytest.param(with_field("email", "ada@example.com\n"), "/email", "e-mail", id="email-trailing-newline"),
    pytest.param(without_field("email"), "/email", "required", id="email-missing"),
    pytest.param(with_field("nickname", "Ada"), "/nickname", "not a known field", id="unknown-field"),
    pytest.param(with_field("id", "0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10"), "/id", "assigned by the server",
                 id="create-with-id"),
    pytest.param(with_field("version", 1), "/version", "assigned by the server", id="create-with-version"),
]


@pytest.mark.parametrize(("body", "pointer", "detail"), INVALID)
@pytest.mark.gen_test
async def test_invalid_person_is_400(api, body, pointer, detail):
    response = await api.request("POST", "/persons", body)

    assert response.code == 400
    body = problem(response)
    assert body["type"] == "/problems/validation-failed"
    assert [error["pointer"] for error in body["errors"]] == [pointer]
    assert detail in body["errors"][0]["detail"]


@pytest.mark.gen_test
async def test_email_local_part_64_is_valid(api):
    response = await api.request("POST", "/persons", with_field("email", "a" * 64 + "@example.com"))
    assert response.code == 201


@pytest.mark.gen_test
async def test_long_value_is_shortened_in_detail(api):
    response = await api.request("POST", "/persons", raw=b'{"first_name": "A", "last_name": "B", '
                                 b'"email": "a@example.com", "age": ' + b"9" * 4000 + b"}")
    detail = problem(response)["errors"][0]["detail"]
    assert len(detail) < 100


@pytest.mark.gen_test
async def test_every_error_is_listed(api):
    body = {"first_name": "", "last_name": "x" * 201, "email": "nope", "age": 200, "extra": 1}

    response = await api.request("POST", "/persons", body)

    pointers = sorted(error["pointer"] for error in problem(response)["errors"])
    assert pointers == ["/age", "/email", "/extra", "/first_name", "/last_name"]


@pytest.mark.gen_test
async def test_empty_object_lists_each_missing_field_once(api):
    response = await api.request("POST", "/persons", {})
    pointers = [error["pointer"] for error in problem(response)["errors"]]
    assert pointers == ["/first_name", "/last_name", "/email", "/age"]


@pytest.mark.gen_test
async def test_invalid_body_writes_nothing(api, redis_sync):
    await api.request("POST", "/persons", with_field("age", 151))
    assert redis_sync.dbsize() == 0


MALFORMED = [
    pytest.param(b'{"first_name": "A"', "line 1", id="truncated"),
    pytest.param(b"", "empty", id="empty"),
    pytest.param(b"   ", "empty", id="whitespace-only"),
    pytest.param(b'{"first_name": "A\xff"}', "UTF-8", id="invalid-utf8"),
    pytest.param(b"\xef\xbb\xbf{}", "byte order mark", id="bom"),
    pytest.param(b'{"age": NaN}', "NaN", id="nan"),
    pytest.param(b'{"age": Infinity}', "Infinity", id="infinity"),
    pytest.param(b'{"age": -Infinity}', "Infinity", id="minus-infinity"),
    pytest.param(b'{"age": 1e400}', "too large", id="overflowing-float"),
    pytest.param(b'{"age": 1e-400}', "cannot be represented exactly", id="underflowing-float"),
    pytest.param(b'{"age": 36.00000000000000001}', "cannot be represented exactly", id="fraction-below-precision"),
    pytest.param(b'{"age": ' + b"9" * 5000 + b"}", "too many digits", id="5000-digit-integer"),
    pytest.param(b'{"age": 1, "age": 2}', "duplicate key", id="duplicate-key"),
    pytest.param(b'{"a": {"b": 1, "b": "x"}}', "duplicate key", id="nested-duplicate-key"),
    pytest.param(b'{"first_name": "\\ud800"}', "surrogate", id="lone-surrogate"),
    pytest.param(b"[" * 100_000, "nested too deeply", id="deep-nesting"),
    pytest.param(b'{"first_name": ' + b"[" * 979 + b"1" + b"]" * 979 + b"}", "nested too deeply",
                 id="deep-nesting-in-field"),
    pytest.param(b'{"first_name": "A\tB"}', "Invalid control character (line 1", id="raw-tab-in-string"),
    pytest.param(b"{} {}", "Extra data", id="two-documents"),
]


@pytest.mark.parametrize(("raw", "detail"), MALFORMED)
@pytest.mark.gen_test
async def test_malformed_json_is_400(api, raw, detail):
    response = await api.request("POST", "/persons", raw=raw)

    assert response.code == 400
    body = problem(response)
    assert body["type"] == "/problems/invalid-json"
    assert detail in body["detail"]


NON_OBJECTS = [
    pytest.param(b'"Ada"', id="string"),
    pytest.param(b"36", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="boolean"),
]


@pytest.mark.parametrize("raw", NON_OBJECTS)
@pytest.mark.gen_test
async def test_non_object_body_is_400(api, raw):
    response = await api.request("POST", "/persons", raw=raw)
    assert response.code == 400
    errors = problem(response)["errors"]
    assert errors == [{"pointer": "", "detail": errors[0]["detail"]}]
    assert "JSON object" in errors[0]["detail"]
