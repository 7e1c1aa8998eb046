"""Malformed and malicious requests, each with the response it must get.

Every case is raw bytes on a fresh connection, so that nothing in an HTTP
client library cleans the request up first. ``PERSON`` in a request is
replaced with the id of a person that exists when the case runs.
``expected`` is a status code, or CLOSED when the server must close the
connection without a response (only for clients that stall past a timeout).
"""

from __future__ import annotations

import dataclasses
import json

CLOSED = "closed"
VALID = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "age": 36}
VALID_JSON = json.dumps(VALID).encode()


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    request: bytes
    expected: int | str
    # Pieces sent one after another with this pause (seconds) between them;
    # an empty tuple sends ``request`` at once.
    pieces: tuple[bytes, ...] = ()
    pause: float = 0.0


def http(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         content_type: str | None = "application/json") -> bytes:
    """Build a request with Host, Connection: close and, for a body, Content-Length."""
    lines = [f"{method} {path} HTTP/1.1", "Host: test", "Connection: close"]
    all_headers = dict(headers or {})
    if body is not None:
        if content_type is not None:
            all_headers.setdefault("Content-Type", content_type)
        all_headers.setdefault("Content-Length", str(len(body)))
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def post(body: bytes, **kwargs: object) -> bytes:
    return http("POST", "/persons", body, **kwargs)


def with_field(name: str, raw_value: bytes) -> bytes:
    """A valid person body with one field's raw JSON value replaced."""
    fields = {key: json.dumps(value).encode() for key, value in VALID.items()}
    fields[name] = raw_value
    return b"{" + b",".join(b'"' + key.encode() + b'":' + value for key, value in fields.items()) + b"}"


def chunked(*chunks: bytes, terminator: bytes = b"0\r\n\r\n") -> bytes:
    return b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks) + terminator


CHUNKED_HEADERS = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}

CASES: list[Case] = [
    # -- broken JSON --------------------------------------------------------------
    Case("truncated-json", post(VALID_JSON[:-5]), 400),
    Case("empty-body", post(b""), 400),
    Case("only-whitespace", post(b" \n\t "), 400),
    Case("trailing-garbage", post(VALID_JSON + b"x"), 400),
    Case("two-documents", post(VALID_JSON + VALID_JSON), 400),
    Case("single-quotes", post(b"{'first_name': 'Ada'}"), 400),
    Case("trailing-comma", post(VALID_JSON[:-1] + b",}"), 400),
    Case("comment-in-json", post(b"/* hi */" + VALID_JSON), 400),
    Case("bom-prefix", post(b"\xef\xbb\xbf" + VALID_JSON), 400),
    Case("utf16-body", post(VALID_JSON.decode().encode("utf-16")), 400),
    Case("invalid-utf8-in-string", post(with_field("first_name", b'"Ad\xc3\x28a"')), 400),
    Case("overlong-utf8-encoding", post(with_field("first_name", b'"\xc0\xaf"')), 400),
    Case("lone-surrogate-escape", post(with_field("last_name", b'"\\udc00"')), 400),
    Case("lone-surrogate-in-key", post(b'{"\\ud800": 1}'), 400),
    Case("raw-control-char-in-string", post(with_field("first_name", b'"A\x01B"')), 400),
    Case("nul-escape-in-name", post(with_field("first_name", b'"A\\u0000B"')), 400),
    # -- numbers ---------------------------------------------------------------------
    Case("nan", post(with_field("age", b"NaN")), 400),
    Case("infinity", post(with_field("age", b"Infinity")), 400),
    Case("minus-infinity", post(with_field("age", b"-Infinity")), 400),
    Case("float-overflow-1e400", post(with_field("age", b"1e400")), 400),
    Case("5000-digit-integer", post(with_field("age", b"9" * 5000)), 400),
    Case("4000-digit-integer", post(with_field("age", b"9" * 4000)), 400),
    Case("tiny-float", post(with_field("age", b"1e-400")), 400),
    Case("negative-zero-age", post(with_field("age", b"-0")), 201),
    Case("age-as-float-36.0", post(with_field("age", b"36.0")), 201),
    Case("age-as-exponent", post(with_field("age", b"3.6e1")), 201),
    Case("age-36.5", post(with_field("age", b"36.5")), 400),
    Case("age-as-hex", post(with_field("age", b"0x24")), 400),
    Case("age-leading-zero", post(with_field("age", b"036")), 400),
    # -- duplicate keys and types -----------------------------------------------------
    Case("duplicate-key-same-type", post(b'{"age": 1, "age": 2}'), 400),
    Case("duplicate-key-other-type-first", post(with_field("age", b'"36", "age": 36')), 400),
    Case("duplicate-key-nested", post(b'{"a": {"b": 1, "b": []}}'), 400),
    Case("age-boolean", post(with_field("age", b"true")), 400),
    Case("age-string", post(with_field("age", b'"36"')), 400),
    Case("name-array", post(with_field("first_name", b'["Ada"]')), 400),
    Case("name-object", post(with_field("first_name", b'{"x": 1}')), 400),
    Case("prototype-pollution-key", post(with_field("email", b'"a@example.com", "__proto__": {"admin": true}')), 400),
    # -- sizes and nesting --------------------------------------------------------------
    Case("name-10k-chars", post(with_field("first_name", b'"' + b"x" * 10_000 + b'"')), 400),
    Case("body-over-limit-by-length", post(b" " * 1_100_000), 413),
    Case("content-length-lies-huge", http("POST", "/persons", None, {"Content-Length": "99999999999",
                                                                      "Content-Type": "application/json"}), 413),
    Case("deep-nesting-100k", post(b"[" * 100_000 + b"]" * 100_000), 400),
    Case("deep-nesting-unclosed", post(b"[" * 100_000), 400),
    Case("deep-nesting-in-field", post(with_field("first_name", b"[" * 979 + b"1" + b"]" * 979)), 400),
    Case("deep-objects", post(b'{"a":' * 5000 + b"1" + b"}" * 5000), 400),
    Case("bulk-over-limit", post(json.dumps([VALID] * 101).encode()), 413),
    Case("bulk-of-scalars", post(b"[1, 2, 3]"), 400),
    Case("huge-array-of-nulls", post(b"[" + b"null," * 200_000 + b"null]"), 413),
    # -- content types ------------------------------------------------------------------------
    Case("missing-content-type", post(VALID_JSON, content_type=None), 415),
    Case("text-plain", post(VALID_JSON, content_type="text/plain"), 415),
    Case("form-urlencoded", post(b"first_name=Ada", content_type="application/x-www-form-urlencoded"), 415),
    Case("multipart", post(b"--x\r\n\r\n", content_type="multipart/form-data; boundary=x"), 415),
    Case("latin1-charset", post(VALID_JSON, content_type="application/json; charset=latin-1"), 415),
    Case("json-patch-on-patch", http("PATCH", "/persons/PERSON", b'[{"op":"remove","path":"/age"}]',
                                     content_type="application/json-patch+json"), 415),
    Case("content-type-with-nul", post(VALID_JSON, content_type="application/json\x00"), 400),
    # -- chunked bodies ---------------------------------------------------------------------------
    Case("chunked-valid", http("POST", "/persons", None, CHUNKED_HEADERS) + chunked(VALID_JSON[:10], VALID_JSON[10:]),
         201),
    Case("chunked-over-limit", http("POST", "/persons", None, CHUNKED_HEADERS) + chunked(*[b" " * 65536] * 20), 413),
    Case("chunked-bad-size", http("POST", "/persons", None, CHUNKED_HEADERS) + b"zz\r\n{}\r\n0\r\n\r\n", 400),
    Case("chunked-and-content-length", http("POST", "/persons", None, {**CHUNKED_HEADERS, "Content-Length": "2"})
         + chunked(b"{}"), 400),
    # -- methods and overrides -----------------------------------------------------------------------
    Case("method-override-header", http("POST", "/persons/PERSON", VALID_JSON, {"X-HTTP-Method-Override": "DELETE"}),
         405),
    Case("method-override-query", http("POST", "/persons/PERSON?_method=DELETE", VALID_JSON), 405),
    Case("unknown-method", http("BREW", "/persons"), 405),
    Case("lower-case-method", http("get", "/persons"), 405),
    Case("trace-method", http("TRACE", "/persons"), 405),
    Case("connect-method", b"CONNECT 127.0.0.1:6379 HTTP/1.1\r\nHost: test\r\n\r\n", 405),
    # -- paths, ids and queries -------------------------------------------------------------------------
    Case("path-traversal", http("GET", "/persons/../../etc/passwd"), 404),
    Case("encoded-traversal", http("GET", "/persons/%2e%2e%2f%2e%2e%2fetc"), 400),
    Case("redis-glob-id", http("GET", "/persons/*"), 400),
    Case("hash-tag-injection", http("GET", "/persons/x%7D:v:1"), 400),
    Case("nul-in-path", http("GET", "/persons/%00"), 400),
    Case("absolute-form-uri", b"GET http://evil.example/persons HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
         404),
    Case("too-many-query-fields", http("GET", "/persons?" + "&".join(f"a{n}=1" for n in range(5000))), 400),
    Case("query-id-injection", http("GET", "/persons?id=*&id=person:%7Bx%7D"), 400),
    Case("cursor-forged", http("GET", "/persons?cursor=AAAAAAAAAAAAAAAAAAAAAA"), 400),
    Case("limit-negative", http("GET", "/persons?limit=-5"), 400),
    # -- headers ---------------------------------------------------------------------------------------------
    Case("header-70k", http("GET", "/persons", headers={"X-Big": "a" * 70_000}), 431),
    Case("request-line-70k", http("GET", "/persons/" + "a" * 70_000), 431),
    Case("many-small-headers", http("GET", "/persons", headers={f"X-H{n}": "v" for n in range(8000)}), 431),
    Case("header-without-colon", b"GET /persons HTTP/1.1\r\nHost: test\r\nNoColonHere\r\n\r\n", 400),
    Case("control-char-in-header", b"GET /persons HTTP/1.1\r\nHost: test\r\nX-A: a\x01b\r\n\r\n", 400),
    Case("if-match-garbage", http("PUT", "/persons/PERSON", VALID_JSON, {"If-Match": "not-quoted"}), 400),
    Case("if-match-empty-tag", http("PUT", "/persons/PERSON", VALID_JSON, {"If-Match": '""'}), 412),
    Case("authorization-junk-without-tokens", http("GET", "/persons", headers={"Authorization": "Bearer " + "x" * 5000}),
         200),
    Case("request-id-injection", http("GET", "/persons", headers={"X-Request-ID": "a\tb<script>"}), 200),
    Case("http-1.0-no-host", b"GET /healthz HTTP/1.0\r\n\r\n", 200),
    Case("http-2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    # -- slow clients ------------------------------------------------------------------------------------------
    Case("slow-headers-within-timeout", b"", 200,
         pieces=(b"GET /healthz HTTP/1.1\r\n", b"Host: test\r\n", b"Connection: close\r\n\r\n"), pause=0.3),
    Case("slowloris-headers", b"", CLOSED, pieces=(b"GET /persons HTTP/1.1\r\n", b"X-A: 1\r\n"), pause=2.5),
    Case("slow-body-past-timeout", b"", CLOSED,
         pieces=(http("POST", "/persons", None, {"Content-Length": "100", "Content-Type": "application/json"}), b"{"),
         pause=2.5),
]
