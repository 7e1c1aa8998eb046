"""The OpenAPI 3.1 document of the service, built from the person JSON Schema file.

The record schemas come from ``schemas/person.json`` unchanged (only their
``$ref`` targets move to ``#/components/schemas``), so the document and the
validation cannot drift apart.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from personsvc import __version__
from personsvc.validation import SCHEMA

PROBLEM = "application/problem+json"
JSON = "application/json"
NDJSON = "application/x-ndjson"
# `*`, or quoted entity tags separated by commas; anything else is a 400.
ENTITY_TAGS_PATTERN = r'^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$'
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _component_schemas() -> dict[str, Any]:
    text = json.dumps(SCHEMA["$defs"]).replace("#/$defs/", "#/components/schemas/")
    schemas = json.loads(text)
    schemas["FieldError"] = {
        "type": "object",
        "required": ["pointer", "detail"],
        "properties": {
            "pointer": {"type": "string", "description": "JSON Pointer into the request body; '' is the whole body."},
            "detail": {"type": "string"},
        },
    }
    schemas["Problem"] = {
        "type": "object",
        "description": "An RFC 9457 problem. `errors` is present on validation failures.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "request_id": {"type": "string"},
            "errors": {"type": "array", "items": _ref("FieldError")},
        },
    }
    schemas["Status"] = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
    return schemas


# -- headers and parameters -------------------------------------------------------------

HEADERS: dict[str, Any] = {
    "ETag": {"description": "Strong entity tag of the version in the body.", "schema": {"type": "string"}},
    "Location": {"description": "Path of the created person.", "schema": {"type": "string"}},
    "Link": {"description": 'URL of the next page, as `<...>; rel="next"`, while more remain.', "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
    "Allow": {"description": "Methods that the path allows.", "schema": {"type": "string"}},
    "X-Request-ID": {"description": "Id of this request in the server's logs.", "schema": {"type": "string"}},
}


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in ("X-Request-ID", *names)}


PARAMETERS: dict[str, Any] = {
    "PersonId": {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The person's UUID; upper-case letters mean the same person.",
        "schema": {"type": "string", "pattern": UUID_PATTERN},
    },
    "Version": {
        "name": "version",
        "in": "path",
        "required": True,
        "description": "A version number, 1 or more, without leading zeros.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "`*` or a list of entity tags; the write happens only if one matches the current version (else 412).",
        "schema": {"type": "string", "pattern": ENTITY_TAGS_PATTERN},
    },
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "`*` or a list of entity tags; 304 without a body if one matches.",
        "schema": {"type": "string", "pattern": ENTITY_TAGS_PATTERN},
    },
    "RequestId": {
        "name": "X-Request-ID",
        "in": "header",
        "required": False,
        "description": "Id to use for this request in logs and errors: 1 to 128 of `A-Z a-z 0-9 . _ : -`; otherwise the server makes one.",
        "schema": {"type": "string"},
    },
}


def _parameter_refs(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in (*names, "RequestId")]


# -- responses --------------------------------------------------------------------------

PROBLEM_WHEN = {
    "400": "Invalid request: path, query, header or body; a body error lists every field in `errors`.",
    "404": "No such person, version or path.",
    "405": "Method not allowed on this path; `Allow` lists the allowed ones.",
    "412": "`If-Match` or `version` does not match the current version; nothing changed.",
    "413": "The body, or the number of persons in a bulk create, is over the limit.",
    "415": "The body's Content-Type is not JSON (or not UTF-8).",
    "503": "Redis is unreachable or timed out; retry after `Retry-After` seconds.",
}


def _problem_responses(*statuses: str) -> dict[str, Any]:
    responses = {}
    for status in ("400", "405", *statuses, "503"):
        if status == "503":
            headers = _header_refs("Retry-After")
        elif status == "405":
            headers = _header_refs("Allow")
        else:
            headers = _header_refs()
        responses[status] = {
            "description": PROBLEM_WHEN[status],
            "headers": headers,
            "content": {PROBLEM: {"schema": _ref("Problem")}},
        }
    return responses


def _person_response(description: str, *headers: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _header_refs("ETag", *headers),
        "content": {JSON: {"schema": _ref("Person")}},
    }


def _list_response(description: str, *headers: str) -> dict[str, Any]:
    return {
        "description": description + " Streamed; with `Accept: application/x-ndjson`, one person per line.",
        "headers": _header_refs(*headers),
        "content": {
            JSON: {"schema": {"type": "array", "items": _ref("Person")}},
            NDJSON: {"schema": {"type": "string", "description": "One Person object per line."}},
        },
    }


NOT_MODIFIED = {"description": "If-None-Match matched; no body.", "headers": _header_refs("ETag")}
NO_CONTENT = {"description": "Done; no body.", "headers": _header_refs()}


def _write_body(schema: dict[str, Any], *media_types: str) -> dict[str, Any]:
    return {"required": True, "content": {media_type: {"schema": schema} for media_type in media_types}}


def _paths() -> dict[str, Any]:
    person_path = {"parameters": [{"$ref": "#/components/parameters/PersonId"}]}
    return {
        "/persons": {
            "get": {
                "operationId": "listPersons",
                "summary": "Read all persons, many by id, or one page",
                "description": (
                    "Without parameters, every person at its current version, oldest-created first. "
                    "`id` (repeated, at most 1000) reads those persons in request order and leaves out unknown ones. "
                    "`limit` and `cursor` read one page; `id` cannot be combined with them."
                ),
                "parameters": [
                    {"name": "id", "in": "query", "required": False, "explode": True,
                     "schema": {"type": "array", "maxItems": 1000, "items": {"type": "string", "pattern": UUID_PATTERN}}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    {"name": "cursor", "in": "query", "required": False,
                     "description": "Opaque; copy it from a `Link` header.", "schema": {"type": "string"}},
                    *_parameter_refs(),
                ],
                "responses": {"200": _list_response("The persons.", "Link"), **_problem_responses()},
            },
            "post": {
                "operationId": "createPersons",
                "summary": "Create a person, or many (all or nothing)",
                "requestBody": _write_body(
                    {"oneOf": [_ref("PersonCreate"), {"type": "array", "items": _ref("PersonCreate")}]}, JSON
                ),
                "parameters": _parameter_refs(),
                "responses": {
                    "201": {
                        "description": "Created: one person (with `Location` and `ETag`), or an array in input order.",
                        "headers": _header_refs("Location", "ETag"),
                        "content": {JSON: {"schema": {"oneOf": [_ref("Person"), {"type": "array", "items": _ref("Person")}]}}},
                    },
                    **_problem_responses("413", "415"),
                },
            },
        },
        "/persons/{id}": {
            **person_path,
            "get": {
                "operationId": "readPerson",
                "summary": "Read a person's current version",
                "parameters": _parameter_refs("IfNoneMatch"),
                "responses": {"200": _person_response("The current version."), "304": NOT_MODIFIED,
                              **_problem_responses("404")},
            },
            "put": {
                "operationId": "replacePerson",
                "summary": "Replace a person, as a new version",
                "parameters": _parameter_refs("IfMatch"),
                "requestBody": _write_body(_ref("PersonReplace"), JSON),
                "responses": {"200": _person_response("The new version."),
                              **_problem_responses("404", "412", "413", "415")},
            },
            "patch": {
                "operationId": "patchPerson",
                "summary": "Merge-patch a person (RFC 7396), as a new version",
                "parameters": _parameter_refs("IfMatch"),
                "requestBody": _write_body({"type": "object"}, "application/merge-patch+json", JSON),
                "responses": {"200": _person_response("The new version."),
                              **_problem_responses("404", "412", "413", "415")},
            },
            "delete": {
                "operationId": "deleteCurrentVersion",
                "summary": "Delete the current version; the previous one becomes current",
                "parameters": _parameter_refs("IfMatch"),
                "responses": {
                    "200": _person_response("The version that is now current."),
                    "204": {"description": "That was the only version; the person is gone.", "headers": _header_refs()},
                    **_problem_responses("404", "412", "413"),
                },
            },
        },
        "/persons/{id}/versions": {
            **person_path,
            "get": {
                "operationId": "readHistory",
                "summary": "Read every version, oldest first",
                "parameters": _parameter_refs(),
                "responses": {"200": _list_response("Every stored version."), **_problem_responses("404")},
            },
            "delete": {
                "operationId": "deletePerson",
                "summary": "Delete the person and every version",
                "parameters": _parameter_refs("IfMatch"),
                "responses": {"204": NO_CONTENT, **_problem_responses("404", "412", "413")},
            },
        },
        "/persons/{id}/versions/{version}": {
            "parameters": [{"$ref": "#/components/parameters/PersonId"}, {"$ref": "#/components/parameters/Version"}],
            "get": {
                "operationId": "readVersion",
                "summary": "Read one version",
                "parameters": _parameter_refs("IfNoneMatch"),
                "responses": {"200": _person_response("That version."), "304": NOT_MODIFIED,
                              **_problem_responses("404")},
            },
        },
        "/healthz": {
            "get": {
                "operationId": "liveness",
                "summary": "Liveness: the process serves HTTP (never touches Redis)",
                "responses": {"200": {"description": "Alive.", "headers": _header_refs(),
                                      "content": {JSON: {"schema": _ref("Status")}}},
                              **_problem_responses()},
            },
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics of this process, in the text exposition format",
                "responses": {"200": {"description": "The metrics.", "headers": _header_refs(),
                                      "content": {"text/plain": {"schema": {"type": "string"}}}},
                              "401": {"description": "Tokens are configured and none was sent.",
                                      "headers": _header_refs(), "content": {PROBLEM: {"schema": _ref("Problem")}}},
                              **_problem_responses()},
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {"description": "The OpenAPI 3.1 document.", "headers": _header_refs(),
                                      "content": {JSON: {"schema": {"type": "object"}}}},
                              **_problem_responses()},
            },
        },
        "/docs": {
            "get": {
                "operationId": "docs",
                "summary": "A Swagger UI page that renders this document",
                "responses": {"200": {"description": "The page.", "headers": _header_refs(),
                                      "content": {"text/html": {"schema": {"type": "string"}}}},
                              **_problem_responses()},
            },
        },
        "/readyz": {
            "get": {
                "operationId": "readiness",
                "summary": "Readiness: Redis replies to PING within 0.5 s",
                "responses": {"200": {"description": "Ready.", "headers": _header_refs(),
                                      "content": {JSON: {"schema": _ref("Status")}}},
                              **_problem_responses()},
            },
        },
    }


def build_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document as a new dict."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "personsvc",
            "version": __version__,
            "description": "Versioned person records. Every write makes a new version; any version can be read back.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": _paths(),
        "components": {
            "schemas": _component_schemas(),
            "headers": copy.deepcopy(HEADERS),
            "parameters": copy.deepcopy(PARAMETERS),
        },
    }
