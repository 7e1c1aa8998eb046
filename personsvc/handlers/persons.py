"""Handlers for /persons and everything below it."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import tornado.web

from personsvc import errors, store, validation
from personsvc.handlers.base import JSON_TYPE, BaseHandler
from personsvc.handlers.streaming import StreamingMixin

# A merge patch reads the current version, then writes only if it is still
# current. When another write got in between, it starts over after a short
# random pause, for at most this many seconds before answering 503.
PATCH_RETRY_SECONDS = 5.0
PATCH_MAX_PAUSE_SECONDS = 0.005


# How far past max_body_size a chunked body may run before Tornado drops the
# connection; data_received answers 413 as soon as the limit is crossed.
CHUNKED_SLACK_BYTES = 1024 * 1024


def _too_large(limit: int) -> tuple[type, BaseException, None]:
    error = errors.PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
    return type(error), error, None


def utc_timestamp() -> str:
    """Return the current time in RFC 3339 UTC form with milliseconds."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class BodyMixin(BaseHandler):
    """Collect a request body of at most ``max_body_size`` bytes with a JSON content type."""

    BODY_METHODS: dict[str, tuple[str, ...]] = {}

    def prepare_body(self) -> None:
        self._body_chunks: list[bytes] = []
        self._body_size = 0
        accepted = self.BODY_METHODS.get(self.request.method or "")
        if accepted is None:
            return
        content_type = self.request.headers.get("Content-Type", "")
        media_type, _, parameters = content_type.partition(";")
        if media_type.strip().lower() not in accepted:
            raise errors.UnsupportedMediaType(
                f"Content-Type must be {' or '.join(accepted)}, got {content_type or 'none'!r}"
            )
        charset = parameters.strip().lower().removeprefix("charset=").strip('"')
        if parameters.strip() and charset not in ("utf-8", "utf8"):
            raise errors.UnsupportedMediaType(f"Content-Type charset must be utf-8 for JSON, got {content_type!r}")

        limit = self.service_settings.max_body_size
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise errors.PayloadTooLarge(f"the body has {length} bytes; the limit is {limit} bytes")
        # Let a chunked body run past the limit, so that data_received can
        # answer 413 instead of Tornado dropping the connection.
        self.request.connection.set_max_body_size(limit + CHUNKED_SLACK_BYTES)

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._body_size += len(chunk)
        limit = self.service_settings.max_body_size
        if self._body_size > limit:
            # A chunked body has no Content-Length to check up front. Answer
            # now; Tornado closes the connection after the response.
            self._body_chunks.clear()
            self.log_exception(*_too_large(limit))
            self.send_error(413, exc_info=_too_large(limit))
            return
        self._body_chunks.append(chunk)

    def json_body(self) -> Any:
        return validation.parse_json(b"".join(self._body_chunks))


@tornado.web.stream_request_body
class PersonsHandler(StreamingMixin, BodyMixin):
    """``/persons``: create, and read all."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
    BODY_METHODS = {"POST": (JSON_TYPE,)}

    def prepare(self) -> None:
        self.prepare_body()

    async def post(self) -> None:
        self.reject_query()
        body = self.json_body()
        if isinstance(body, list):
            raise errors.BadRequest("bulk create is not supported; send one JSON object per request")
        fields = validation.validate_create(body)
        person_id = str(uuid.uuid4())
        stored = await self.store.create(person_id, validation.encode_fields(fields), utc_timestamp())
        self.set_header("Location", f"/persons/{person_id}")
        self.send_version(stored, status=201)

    async def get(self) -> None:
        self.reject_query()
        await self.stream_all()

    head = get


@tornado.web.stream_request_body
class PersonHandler(BodyMixin):
    """``/persons/{id}``: read current, replace, merge-patch, delete current version."""

    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS")
    BODY_METHODS = {"PUT": (JSON_TYPE,), "PATCH": ("application/merge-patch+json", JSON_TYPE)}

    def prepare(self) -> None:
        self.person_id = self.parse_person_id(self.path_args[0])
        self.prepare_body()

    async def get(self, _raw_id: str) -> None:
        self.reject_query()
        self.send_version(await self.store.read(self.person_id))

    head = get

    async def put(self, _raw_id: str) -> None:
        self.reject_query()
        fields, version = validation.validate_replace(self.json_body(), self.person_id)
        if_match = self.if_match()
        stored = await self.store.update(
            self.person_id, validation.encode_fields(fields), utc_timestamp(), if_match, version
        )
        self.send_version(stored)

    async def patch(self, _raw_id: str) -> None:
        self.reject_query()
        patch = self.json_body()
        validation.check_patch(patch, self.person_id)
        if_match = self.if_match()
        deadline = time.monotonic() + PATCH_RETRY_SECONDS
        while time.monotonic() < deadline:
            current = await self.store.read(self.person_id)
            fields, version = validation.validate_patch(json.loads(current.doc), patch, self.person_id)
            if if_match is not None and "*" not in if_match and current.etag not in if_match:
                raise store.PreconditionFailed()
            try:
                # The write succeeds only if the version read above is still
                # current, so the merge never overwrites a concurrent write.
                stored = await self.store.update(
                    self.person_id, validation.encode_fields(fields), utc_timestamp(), [current.etag], version
                )
            except store.PreconditionFailed:
                if (if_match is not None and "*" not in if_match) or version is not None:
                    raise
                await asyncio.sleep(random.uniform(0, PATCH_MAX_PAUSE_SECONDS))
                continue
            self.send_version(stored)
            return
        raise errors.ServiceUnavailable("too many concurrent writes to this person; retry the merge patch")

    async def delete(self, _raw_id: str) -> None:
        self.reject_query()
        stored = await self.store.delete_current(self.person_id, self.if_match())
        if stored is None:
            self.set_status(204)
            self.finish()
        else:
            self.send_version(stored)


class VersionsHandler(StreamingMixin, BaseHandler):
    """``/persons/{id}/versions``: version history, and delete every version."""

    SUPPORTED_METHODS = ("GET", "HEAD", "DELETE", "OPTIONS")

    def prepare(self) -> None:
        self.person_id = self.parse_person_id(self.path_args[0])

    async def get(self, _raw_id: str) -> None:
        self.reject_query()
        await self.stream_history(self.person_id)

    head = get

    async def delete(self, _raw_id: str) -> None:
        self.reject_query()
        await self.store.delete_all(self.person_id, self.if_match())
        self.set_status(204)
        self.finish()


class VersionHandler(BaseHandler):
    """``/persons/{id}/versions/{n}``: one version."""

    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def prepare(self) -> None:
        self.person_id = self.parse_person_id(self.path_args[0])
        self.version = self.parse_version(self.path_args[1])

    async def get(self, _raw_id: str, _raw_version: str) -> None:
        self.reject_query()
        self.send_version(await self.store.read(self.person_id, self.version))

    head = get
