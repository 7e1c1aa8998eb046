"""Errors that become application/problem+json responses (RFC 9457).

Handlers raise; ``BaseHandler.write_error`` renders. The ``type`` of each
problem is a relative URI listed in docs/api.md.
"""

from __future__ import annotations

import dataclasses
from http import HTTPStatus

from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError

from personsvc import store

RETRY_AFTER_SECONDS = 2


@dataclasses.dataclass
class FieldError:
    """One problem with one part of the request body, located by a JSON Pointer."""

    pointer: str
    detail: str


class Problem(Exception):
    """An error response: status, problem type, a detail for this case, extra headers."""

    status = 500
    type_name = "internal-error"
    title = "Internal server error"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    @property
    def type_uri(self) -> str:
        return f"/problems/{self.type_name}"

    def body(self) -> dict[str, object]:
        return {"type": self.type_uri, "title": self.title, "status": self.status, "detail": self.detail}


class BadRequest(Problem):
    status = 400
    type_name = "bad-request"
    title = "Bad request"


class InvalidJson(Problem):
    status = 400
    type_name = "invalid-json"
    title = "Body is not valid JSON"


class ValidationFailed(Problem):
    status = 400
    type_name = "validation-failed"
    title = "Body is not a valid person"

    def __init__(self, errors: list[FieldError]) -> None:
        count = len(errors)
        super().__init__(f"{count} field{'s' if count != 1 else ''} failed validation; see errors")
        self.errors = errors

    def body(self) -> dict[str, object]:
        body = super().body()
        body["errors"] = [dataclasses.asdict(error) for error in self.errors]
        return body


class Unauthorized(Problem):
    status = 401
    type_name = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="personsvc"'})


class Forbidden(Problem):
    status = 403
    type_name = "forbidden"
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    type_name = "not-found"
    title = "Not found"


class PreconditionFailed(Problem):
    status = 412
    type_name = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(Problem):
    status = 413
    type_name = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(Problem):
    status = 415
    type_name = "unsupported-media-type"
    title = "Unsupported media type"


class ServiceUnavailable(Problem):
    status = 503
    type_name = "service-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class InternalError(Problem):
    def __init__(self) -> None:
        super().__init__("internal error; the server log has the details under this request id")


def generic_problem(status: int) -> Problem:
    """Build the problem for a bare status, such as one Tornado raises itself."""
    problem = Problem(HTTPStatus(status).description or HTTPStatus(status).phrase)
    problem.status = status
    problem.type_name = HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    problem.title = HTTPStatus(status).phrase
    return problem


REDIS_UNAVAILABLE = (ConnectionError, TimeoutError, BusyLoadingError)


def problem_for(error: BaseException) -> Problem | None:
    """Map a domain or Redis error to its problem, or None for an unexpected error."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, store.PersonNotFound):
        return NotFound("no person with this id; it may have been deleted")
    if isinstance(error, store.VersionNotFound):
        return NotFound("this person has no such version; GET /persons/{id}/versions lists them")
    if isinstance(error, store.PreconditionFailed):
        return PreconditionFailed(
            "the person has changed since the given If-Match or version; read it again and retry"
        )
    if isinstance(error, REDIS_UNAVAILABLE):
        return ServiceUnavailable("the data store is unreachable or timed out; retry later")
    return None
