"""The base handler: request ids, error rendering, logging and shared request parsing."""

from __future__ import annotations

import hmac
import itertools
import json
import logging
import re
import secrets
import time
from typing import Any

import tornado.web

from personsvc import errors, validation
from personsvc.config import Settings
from personsvc.observability import current_request_id
from personsvc.store import PersonStore, StoredVersion

log = logging.getLogger("personsvc.request")

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
VERSION_PATTERN = re.compile(r"[1-9][0-9]{0,15}")
ENTITY_TAG_PATTERN = re.compile(r'\s*(W/)?"[\x21\x23-\x7e\x80-\xff]*"\s*')
MAX_SAFE_VERSION = 2**53
# Read-many takes up to 1000 ids; a few more fields leave room for a clear
# "too many ids" message instead of this generic one.
MAX_QUERY_FIELDS = 1010
# How far past max_body_size a chunked body may run before Tornado drops the
# connection. data_received sends a 413 as soon as the limit is crossed.
CHUNKED_SLACK_BYTES = 1024 * 1024

JSON_TYPE = "application/json"
PROBLEM_TYPE = "application/problem+json"


# Request ids are a random per-process prefix and a counter: unique like a
# UUID in practice, at a fraction of uuid4's cost on every request.
_REQUEST_ID_COUNTER = itertools.count()
_request_id_prefix = secrets.token_hex(10)


def new_request_id() -> str:
    """Return a 32-character hex id, unique across processes (the prefix) and requests (the counter)."""
    return f"{_request_id_prefix}{next(_REQUEST_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"


def reset_request_ids_after_fork() -> None:
    """Give a forked worker a prefix of its own, so that two workers never issue the same id."""
    global _request_id_prefix
    _request_id_prefix = secrets.token_hex(10)


class RateLimitedLog:
    """Log a repeated warning at most once per interval.

    The next warning logged says how many were dropped before it; drops with
    no later warning are never reported.
    """

    def __init__(self, logger: logging.Logger, interval: float = 1.0) -> None:
        self.logger = logger
        self.interval = interval
        self.last = 0.0
        self.dropped = 0

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            self.dropped += 1
            return
        if self.dropped:
            message += f" ({self.dropped} similar warnings dropped in the last interval)"
        self.last = now
        self.dropped = 0
        self.logger.warning(message, *args)


unavailable_log = RateLimitedLog(log)


def check_content_type(header: str, accepted: tuple[str, ...]) -> None:
    """Raise 415 unless the media type is accepted and any charset parameter is UTF-8."""
    media_type, *parameters = header.split(";")
    if media_type.strip().lower() not in accepted:
        raise errors.UnsupportedMediaType(f"Content-Type must be {' or '.join(accepted)}, got {header[:100] or 'none'!r}")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise errors.UnsupportedMediaType(f"Content-Type charset must be utf-8 for JSON, got {header[:100]!r}")


def parse_entity_tags(header: str, name: str) -> list[str]:
    """Parse an If-Match or If-None-Match value into ['*'] or a list of tags as sent.

    Tags keep their quotes and any W/ prefix, so the wildcard * and a tag
    "*" stay apart.
    """
    if header.strip() == "*":
        return ["*"]
    tags = []
    for part in header.split(","):
        if ENTITY_TAG_PATTERN.fullmatch(part) is None:
            raise errors.BadRequest(
                f'{name} must be * or a list of quoted entity tags such as "12-3", got {header[:100]!r}'
            )
        tags.append(part.strip())
    return tags


def matches_any(given: bytes, tokens: tuple[str, ...]) -> bool:
    """Compare ``given`` with every token in constant time per token, without stopping at a match."""
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given, token.encode())
    return found


def strong_match(tags: list[str], etag: str) -> bool:
    """Return True if If-Match ``tags`` match the stored ``etag`` (strong comparison)."""
    return tags == ["*"] or f'"{etag}"' in tags


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    """Shared behaviour of every route; ``SUPPORTED_METHODS`` also feeds the Allow header.

    Every route streams its request body through ``data_received``, so that a
    body over the limit gets a 413 problem on any route, also a chunked one.
    """

    SUPPORTED_METHODS: tuple[str, ...] = ("OPTIONS",)
    # Methods that take a JSON body, each with its accepted media types.
    BODY_METHODS: dict[str, tuple[str, ...]] = {}

    store: PersonStore
    service_settings: Settings
    # set_default_headers runs before initialize, so these start as class attributes.
    _request_id: str | None = None
    _counted = False
    # Bytes of response body written, for the access log.
    response_bytes = 0
    # The route template in metrics and access logs.
    ROUTE = "unmatched"
    # Whether the route needs a bearer token when tokens are configured.
    PROTECTED = True

    def initialize(self, store: PersonStore, settings: Settings) -> None:
        self.store = store
        self.service_settings = settings
        self._counted = True
        self.application.settings["in_flight"].count += 1

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self.application.settings["in_flight"].count -= 1

    def on_finish(self) -> None:
        self._uncount()

    def on_connection_close(self) -> None:
        self._uncount()

    # -- request id -----------------------------------------------------------

    @property
    def request_id(self) -> str:
        if self._request_id is None:
            given = self.request.headers.get("X-Request-ID", "")
            self._request_id = given if given and REQUEST_ID_PATTERN.fullmatch(given) else new_request_id()
        return self._request_id

    def set_default_headers(self) -> None:
        self.set_header("X-Request-ID", self.request_id)

    # -- errors -----------------------------------------------------------------

    def _problem(self, error: BaseException | None, status: int) -> errors.Problem:
        problem = errors.problem_for(error) if error is not None else None
        if problem is not None:
            return problem
        if status >= 500:
            return errors.InternalError()
        problem = errors.generic_problem(status)
        if isinstance(error, tornado.web.HTTPError) and error.log_message and status != 405:
            problem.detail = error.log_message % error.args if error.args else error.log_message
        return problem

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        problem = self._problem(error, status_code)
        super().send_error(problem.status, **kwargs)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        problem = self._problem(error, status_code)
        for name, value in problem.headers.items():
            self.set_header(name, value)
        if problem.status == 413:
            # The rest of the body is never read, so the connection cannot be reused.
            self.set_header("Connection", "close")
        if problem.status == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
            problem.detail = f"{self.request.method} is not allowed here; allowed: {', '.join(self.allowed_methods())}"
        body = problem.body()
        body["instance"] = self.request.path
        body["request_id"] = self.request_id
        self.set_header("Content-Type", PROBLEM_TYPE)
        self.finish(json.dumps(body, ensure_ascii=False).encode())

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        """Log each caught error once: 4xx as one line, 503 rate-limited, others with traceback."""
        problem = errors.problem_for(value) if value is not None else None
        if isinstance(value, tornado.web.HTTPError) and problem is None:
            problem = self._problem(value, value.status_code)
        where = f"{self.request.method} {self.request.path} request_id={self.request_id}"
        if problem is not None and problem.status < 500:
            log.info("%s: %d %s", where, problem.status, problem.detail)
        elif problem is not None and problem.status == 503:
            if isinstance(value, errors.REDIS_UNAVAILABLE):
                self.application.settings["metrics"].count_redis_error(value)
            unavailable_log.warning("%s: %d %s: %r", where, problem.status, problem.detail, value)
        else:
            log.error("%s: unexpected error", where, exc_info=(typ, value, tb))

    def write(self, chunk: str | bytes | dict) -> None:
        # Handlers write bytes only; Tornado's str and dict forms are not counted.
        super().write(chunk)
        if isinstance(chunk, bytes):
            self.response_bytes += len(chunk)

    def compute_etag(self) -> None:
        """Turn off Tornado's body-hash ETag: handlers set the stored entity tag themselves."""
        return None


    # -- request body -------------------------------------------------------------

    def prepare(self) -> None:
        """Check the credentials, the query size, the path, then the body's headers, before any body bytes are read."""
        current_request_id.set(self.request_id)
        if self.PROTECTED:
            self.authorize()
        field_count = sum(len(values) for values in self.request.query_arguments.values())
        if field_count > MAX_QUERY_FIELDS:
            raise errors.BadRequest(
                f"the query string has {field_count} parameters; at most {MAX_QUERY_FIELDS} are allowed"
            )
        self.parse_path()
        self._body_chunks: list[bytes] = []
        self._body_size = 0
        accepted = self.BODY_METHODS.get(self.request.method or "")
        if accepted is not None:
            check_content_type(self.request.headers.get("Content-Type", ""), accepted)

        limit = self.service_settings.max_body_size
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            raise errors.PayloadTooLarge(f"the body has {length} bytes; the limit is {limit} bytes")
        # Let a chunked body run past the limit, so that data_received can
        # send a 413 instead of Tornado dropping the connection.
        self.request.connection.set_max_body_size(limit + CHUNKED_SLACK_BYTES)

    def parse_path(self) -> None:
        """Parse and check ``self.path_args``; routes with arguments override this."""

    def authorize(self) -> None:
        """Raise 401 without a valid bearer token, or 403 for a write with a read-only one.

        Does nothing when no token is configured.
        """
        settings = self.service_settings
        if not settings.api_tokens and not settings.read_only_tokens:
            return
        scheme, _, given = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise errors.Unauthorized("this request needs an Authorization: Bearer <token> header")
        given_bytes = given.strip().encode("utf-8", "replace")
        if matches_any(given_bytes, settings.api_tokens):
            return
        if not matches_any(given_bytes, settings.read_only_tokens):
            raise errors.Unauthorized("the bearer token is not valid")
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            raise errors.Forbidden(f"the bearer token is read-only; {self.request.method} needs a full-access token")

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._body_size += len(chunk)
        limit = self.service_settings.max_body_size
        if self._body_size <= limit:
            self._body_chunks.append(chunk)
            return
        # A chunked body has no Content-Length to check up front, so respond
        # now. Tornado closes the connection after the response.
        self._body_chunks.clear()
        error = errors.PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
        self.log_exception(type(error), error, None)
        self.send_error(413, exc_info=(type(error), error, None))

    def json_body(self) -> Any:
        return validation.parse_json(b"".join(self._body_chunks))

    # -- shared parsing -------------------------------------------------------------

    @classmethod
    def allowed_methods(cls) -> list[str]:
        return list(cls.SUPPORTED_METHODS)

    def options(self, *args: str) -> None:
        self.set_header("Allow", ", ".join(self.allowed_methods()))
        self.set_status(204)
        self.finish()

    @staticmethod
    def parse_person_id(raw: str) -> str:
        """Return the canonical lower-case form of a path id, or raise 400."""
        if not UUID_PATTERN.fullmatch(raw):
            raise errors.BadRequest(
                f"invalid person id {raw[:80]!r}; ids are UUIDs such as 0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10"
            )
        return raw.lower()

    @staticmethod
    def parse_version(raw: str) -> int:
        if not VERSION_PATTERN.fullmatch(raw):
            raise errors.BadRequest(f"invalid version {raw[:40]!r}; versions are positive integers such as 1")
        version = int(raw)
        if version > MAX_SAFE_VERSION:
            raise errors.NotFound("this person has no such version")
        return version

    def if_match(self) -> list[str] | None:
        header = self.request.headers.get("If-Match")
        return None if header is None else parse_entity_tags(header, "If-Match")

    def not_modified(self, etag: str) -> bool:
        """Return True if If-None-Match matches ``etag`` (weak comparison)."""
        header = self.request.headers.get("If-None-Match")
        if header is None:
            return False
        tags = parse_entity_tags(header, "If-None-Match")
        return tags == ["*"] or any(tag.removeprefix("W/") == f'"{etag}"' for tag in tags)

    def reject_query(self, allowed: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(self.request.query_arguments) - set(allowed))
        if unknown:
            hint = f"; this path takes {', '.join(allowed)}" if allowed else "; this path takes none"
            names = ", ".join(name[:40] for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            raise errors.BadRequest(f"unknown query parameter(s) {names}{hint}")

    def single_query_argument(self, name: str, default: str | None) -> str | None:
        """Return a query parameter given at most once, or raise 400 if it repeats."""
        values = self.request.query_arguments.get(name)
        if values is None:
            return default
        if len(values) > 1:
            raise errors.BadRequest(f"query parameter {name} is given {len(values)} times; give it once")
        return values[0].decode("utf-8", "replace")

    # -- responses --------------------------------------------------------------------

    def send_version(self, stored: StoredVersion, status: int = 200) -> None:
        """Send one stored version with its ETag, or 304 if If-None-Match matches on a GET."""
        self.set_header("ETag", f'"{stored.etag}"')
        if self.request.method in ("GET", "HEAD") and self.not_modified(stored.etag):
            self.set_status(304)
            self.finish()
            return
        self.set_status(status)
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(stored.doc)


class NotFoundHandler(BaseHandler):
    """Every path that no route matches."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def parse_path(self) -> None:
        raise errors.NotFound(f"no resource at {self.request.path[:200]}; the API lives under /persons")
