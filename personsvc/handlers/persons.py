"""Handlers for /persons and everything below it."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from personsvc import errors, store, validation
from personsvc.handlers.base import JSON_TYPE, BaseHandler, strong_match
from personsvc.handlers.cursor import decode_cursor, encode_cursor
from personsvc.handlers.streaming import StreamingMixin

# A merge patch reads the current version, then writes only if it is still
# current. When another write got in between, it starts over after a short
# random pause, for at most this many seconds before it responds 503.
PATCH_RETRY_SECONDS = 5.0
PATCH_MAX_PAUSE_SECONDS = 0.005


# Read-many and paging bounds, from the contract.
MAX_READ_MANY = 1000
MAX_PAGE_LIMIT = 1000
PAGE_LIMIT_PATTERN = re.compile(r"[1-9][0-9]{0,3}")


async def _one_batch(docs: list[bytes]) -> AsyncIterator[list[bytes]]:
    yield docs


_formatted_second: tuple[int, str] = (-1, "")


def utc_timestamp() -> str:
    """Return the current time in RFC 3339 UTC form with milliseconds."""
    global _formatted_second
    now = time.time()
    second = int(now)
    if second != _formatted_second[0]:
        # strftime runs once per second, not once per write.
        _formatted_second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S."))
    return f"{_formatted_second[1]}{int((now - second) * 1000):03d}Z"


class PersonsHandler(StreamingMixin):
    """``/persons``: create, and read all."""

    PATTERN = r"/persons"
    ROUTE = "/persons"

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
    BODY_METHODS = {"POST": (JSON_TYPE,)}

    async def post(self) -> None:
        self.reject_query()
        body = self.json_body()
        if isinstance(body, list):
            await self.create_many(body)
            return
        fields = validation.validate_create(body)
        person_id = str(uuid.uuid4())
        stored = await self.store.create(person_id, validation.encode_fields(fields), utc_timestamp())
        self.set_header("Location", f"/persons/{person_id}")
        self.send_version(stored, status=201)

    async def create_many(self, items: list) -> None:
        """Create every person of a JSON array, all or nothing, and send them in input order."""
        limit = self.service_settings.max_bulk_size
        if len(items) > limit:
            raise errors.PayloadTooLarge(f"the array has {len(items)} persons; a bulk create takes at most {limit}")
        persons = [(str(uuid.uuid4()), validation.encode_fields(fields)) for fields in validation.validate_bulk(items)]
        docs = await self.store.create_many(persons, utc_timestamp()) if persons else []
        self.set_status(201)
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(b"[" + b",".join(docs) + b"]")

    async def get(self) -> None:
        self.reject_query(allowed=("id", "limit", "cursor"))
        query = self.request.query_arguments
        if "id" in query:
            if "limit" in query or "cursor" in query:
                raise errors.BadRequest("id cannot be combined with limit or cursor; read many or page, not both")
            await self.read_many([raw.decode("utf-8", "replace") for raw in query["id"]])
        elif "limit" in query or "cursor" in query:
            await self.read_page()
        else:
            await self.stream_all()

    head = get

    async def read_many(self, raw_ids: list[str]) -> None:
        if len(raw_ids) > MAX_READ_MANY:
            raise errors.BadRequest(f"{len(raw_ids)} ids requested; at most {MAX_READ_MANY} per request")
        person_ids = [self.parse_person_id(raw_id) for raw_id in raw_ids]
        docs = await self.store.read_many(person_ids)
        await self.stream_documents(_one_batch([doc for doc in docs if doc is not None]))

    async def read_page(self) -> None:
        limit = self.single_query_argument("limit", default="100")
        if not PAGE_LIMIT_PATTERN.fullmatch(limit) or not 1 <= int(limit) <= MAX_PAGE_LIMIT:
            raise errors.BadRequest(f"invalid limit {limit[:40]!r}; use an integer from 1 to {MAX_PAGE_LIMIT}")
        cursor = self.single_query_argument("cursor", default=None)
        key = await self.store.cursor_key()
        after_seq = 0 if cursor is None else decode_cursor(cursor, key)

        last_seq, more, docs = await self.store.read_batch(after_seq, int(limit))
        if more:
            self.set_header("Link", f'</persons?limit={limit}&cursor={encode_cursor(last_seq, key)}>; rel="next"')
        await self.stream_documents(_one_batch(docs))


class PersonHandler(BaseHandler):
    """``/persons/{id}``: read current, replace, merge-patch, delete current version."""

    PATTERN = r"/persons/([^/]+)"
    ROUTE = "/persons/{id}"

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


class VersionsHandler(StreamingMixin):
    """``/persons/{id}/versions``: version history, and delete every version."""

    PATTERN = r"/persons/([^/]+)/versions"
    ROUTE = "/persons/{id}/versions"

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

    PATTERN = r"/persons/([^/]+)/versions/([^/]+)"
    ROUTE = "/persons/{id}/versions/{version}"

    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def parse_path(self) -> None:
        self.person_id = self.parse_person_id(self.path_args[0])
        self.version = self.parse_version(self.path_args[1])

    async def get(self, _raw_id: str, _raw_version: str) -> None:
        self.reject_query()
        self.send_version(await self.store.read(self.person_id, self.version))

    head = get
