"""Handlers for /persons and everything below it."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime

from personsvc import errors, store, validation
from personsvc.handlers.base import JSON_TYPE, BaseHandler, strong_match
from personsvc.handlers.streaming import StreamingMixin

# A merge patch reads the current version, then writes only if it is still
# current. When another write got in between, it starts over after a short
# random pause, for at most this many seconds before it responds 503.
PATCH_RETRY_SECONDS = 5.0
PATCH_MAX_PAUSE_SECONDS = 0.005


def utc_timestamp() -> str:
    """Return the current time in RFC 3339 UTC form with milliseconds."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class PersonsHandler(StreamingMixin):
    """``/persons``: create, and read all."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
    BODY_METHODS = {"POST": (JSON_TYPE,)}

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


class PersonHandler(BaseHandler):
    """``/persons/{id}``: read current, replace, merge-patch, delete current version."""

    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS")
    BODY_METHODS = {"PUT": (JSON_TYPE,), "PATCH": ("application/merge-patch+json", JSON_TYPE)}

    def parse_path(self) -> None:
        self.person_id = self.parse_person_id(self.path_args[0])

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
            if if_match is not None and not strong_match(if_match, current.etag):
                raise store.PreconditionFailed()
            try:
                # The write succeeds only if the version read above is still
                # current, so the merge never overwrites a concurrent write.
                stored = await self.store.update(
                    self.person_id, validation.encode_fields(fields), utc_timestamp(), [f'"{current.etag}"'], version
                )
            except store.PreconditionFailed:
                if (if_match is not None and if_match != ["*"]) or version is not None:
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

    def parse_path(self) -> None:
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

    def parse_path(self) -> None:
        self.person_id = self.parse_person_id(self.path_args[0])
        self.version = self.parse_version(self.path_args[1])

    async def get(self, _raw_id: str, _raw_version: str) -> None:
        self.reject_query()
        self.send_version(await self.store.read(self.person_id, self.version))

    head = get
