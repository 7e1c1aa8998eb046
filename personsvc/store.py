"""Every Redis key name and Lua script of personsvc.

Key layout (see docs/design.md for the full picture):

- ``person:{<id>}``: meta hash of one person: ``current`` (current version
  number), ``writes`` (count of writes ever made, never decreases) and
  ``seq`` (creation sequence number).
- ``person:{<id>}:v:<n>``: one hash per version: ``doc`` (the record exactly
  as served, JSON) and ``etag`` (the entity tag, without quotes).
- ``persons:index``: sorted set of person ids scored by creation sequence.
- ``persons:seq``: counter that hands out creation sequence numbers.
- ``persons:cursor-key``: random key that signs paging cursors.

Atomicity invariant: every single-person operation is one Lua script, so it
runs as one atomic step in one round trip. No interleaving of requests can
leave ``current`` pointing at a missing version hash, a gap in versions
1..current, or an index entry for a person without a meta hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Sequence
from importlib import resources

from redis.exceptions import NoScriptError

from personsvc.redis_connection import MultiplexedRedis

INDEX_KEY = "persons:index"
SEQUENCE_KEY = "persons:seq"
CURSOR_KEY_KEY = "persons:cursor-key"
META_KEY_PREFIX = "person:{"
META_KEY_SUFFIX = "}"

# Scripts that read or write one person: they share prelude.lua, whose
# helpers take KEYS[1] as the person's meta key.
PER_PERSON_SCRIPTS = ("create", "update", "read", "history", "delete_current", "delete_all", "import_version")
# Scripts over many persons: they build meta keys from ids with
# META_KEY_PREFIX (passed in ARGV) and '}'.
MULTI_PERSON_SCRIPTS = ("read_batch", "create_many")

# Persons per create_many call; a bulk create of more runs several calls in
# one MULTI/EXEC transaction.
CREATE_CHUNK_SIZE = 1000
# Versions per person that read_histories returns; more than any person gets
# in practice, and it keeps one reply under Redis's 512 MiB limit.
MAX_HISTORY = 1_000_000

class StoreError(Exception):
    """Base class of the errors the store raises for a request's outcome."""


class PersonNotFound(StoreError):
    pass


class VersionNotFound(StoreError):
    pass


class PreconditionFailed(StoreError):
    pass


class IdConflict(StoreError):
    """A create picked an id that is already taken."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version as stored: the JSON document served to clients and its entity tag."""

    doc: bytes
    etag: str


def meta_key(person_id: str) -> str:
    return META_KEY_PREFIX + person_id + META_KEY_SUFFIX


def _load_script(name: str) -> str:
    package = resources.files("personsvc") / "lua"
    body = (package / f"{name}.lua").read_text(encoding="utf-8")
    if name in MULTI_PERSON_SCRIPTS:
        return body
    prelude = (package / "prelude.lua").read_text(encoding="utf-8")
    return prelude + "\n" + body


def _if_match_arg(if_match: Sequence[str] | None) -> str:
    """Encode a parsed If-Match list for the scripts: '' for none, '*' or tags."""
    if not if_match:
        return ""
    return " ".join(if_match)


def _stored(reply: list) -> StoredVersion:
    return StoredVersion(doc=reply[1], etag=reply[2].decode())


class _Script:
    """A Lua script run by its SHA1 digest, loaded into Redis on first use and again after NOSCRIPT."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


class PersonStore:
    """Person records in Redis: one instance per process, shared by all handlers."""

    def __init__(self, redis: MultiplexedRedis) -> None:
        self.redis = redis
        names = PER_PERSON_SCRIPTS + MULTI_PERSON_SCRIPTS
        self._scripts = {name: _Script(_load_script(name)) for name in names}
        self._cursor_key: bytes | None = None

    @classmethod
    def from_url(cls, url: str, timeout: float) -> PersonStore:
        """Build a store on one multiplexed connection; nothing connects until first use.

        A Redis that does not reply within ``timeout`` seconds raises
        redis.exceptions.TimeoutError, and one that cannot be reached raises
        redis.exceptions.ConnectionError. Commands are never retried: a write
        script that timed out may still have run, and running it again would
        write a second version.
        """
        return cls(MultiplexedRedis(url, timeout))

    async def close(self) -> None:
        await self.redis.close()

    async def cursor_key(self) -> bytes:
        """Return the key that signs paging cursors, creating it in Redis on first use.

        Every process of a service on the same Redis reads the same key, so a
        cursor from one process works on another.
        """
        if self._cursor_key is None:
            await self.redis.execute("SET", CURSOR_KEY_KEY, secrets.token_bytes(32), "NX")
            self._cursor_key = await self.redis.execute("GET", CURSOR_KEY_KEY)
        return self._cursor_key

    async def ping(self) -> bool:
        return await self.redis.execute("PING") == b"PONG"

    async def _run(self, name: str, keys: list[str], args: list[str | int]) -> list:
        script = self._scripts[name]
        try:
            return await self.redis.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            # Redis lost its script cache (a restart, SCRIPT FLUSH): the
            # script did not run, so loading it and running it again is safe.
            await self.redis.execute("SCRIPT", "LOAD", script.source)
            return await self.redis.execute("EVALSHA", script.sha, len(keys), *keys, *args)

    async def create(self, person_id: str, fields_json: str, updated_at: str) -> StoredVersion:
        reply = await self._run(
            "create", [meta_key(person_id), INDEX_KEY, SEQUENCE_KEY], [person_id, fields_json, updated_at]
        )
        if reply[0] == 409:
            raise IdConflict(person_id)
        return _stored(reply)

    async def update(
        self,
        person_id: str,
        fields_json: str,
        updated_at: str,
        if_match: Sequence[str] | None = None,
        expected_version: int | None = None,
    ) -> StoredVersion:
        """Write version current + 1 if the preconditions hold, in one atomic step."""
        args: list[str | int] = [
            person_id,
            fields_json,
            updated_at,
            _if_match_arg(if_match),
            "" if expected_version is None else expected_version,
        ]
        reply = await self._run("update", [meta_key(person_id)], args)
        self._raise_for_status(reply)
        return _stored(reply)

    async def read(self, person_id: str, version: int | None = None) -> StoredVersion:
        reply = await self._run("read", [meta_key(person_id)], ["" if version is None else version])
        if reply[0] == 404:
            raise PersonNotFound(person_id) if reply[1] == b"person" else VersionNotFound(person_id)
        return _stored(reply)

    async def read_history(self, person_id: str, first: int, count: int) -> tuple[int, list[bytes]]:
        """Return the current version number and the documents of versions first..first+count-1."""
        reply = await self._run("history", [meta_key(person_id)], [first, count])
        self._raise_for_status(reply)
        return reply[1], reply[2:]

    async def delete_current(self, person_id: str, if_match: Sequence[str] | None = None) -> StoredVersion | None:
        """Remove the current version; return the new current one, or None if none remains."""
        reply = await self._run(
            "delete_current", [meta_key(person_id), INDEX_KEY], [person_id, _if_match_arg(if_match)]
        )
        self._raise_for_status(reply)
        if reply[0] == 204:
            return None
        return _stored(reply)

    async def delete_all(self, person_id: str, if_match: Sequence[str] | None = None) -> None:
        reply = await self._run("delete_all", [meta_key(person_id), INDEX_KEY], [person_id, _if_match_arg(if_match)])
        self._raise_for_status(reply)

    async def read_batch(self, after_seq: int, count: int) -> tuple[int, bool, list[bytes]]:
        """Read up to ``count`` persons created after ``after_seq``, in creation order.

        Returns (last_seq, more, docs): the sequence number to continue after,
        whether the index has entries after it, and the current documents.
        Persons deleted after they were indexed are left out of ``docs``.
        """
        reply = await self._run("read_batch", [INDEX_KEY], [after_seq, count, META_KEY_PREFIX])
        last_seq = int(reply[0]) if reply[0] else after_seq
        return last_seq, reply[1] == 1, reply[2:]

    async def read_many(self, person_ids: Sequence[str]) -> list[bytes | None]:
        """Read the current version of each person in one pipelined round trip; None where missing."""
        calls = [([meta_key(person_id)], [""]) for person_id in person_ids]
        replies = await self._pipelined("read", calls, transaction=False)
        return [reply[1] if reply[0] == 200 else None for reply in replies]

    async def read_histories(self, person_ids: Sequence[str]) -> list[list[bytes]]:
        """Read every version of each person in one pipelined round trip; [] where missing."""
        calls = [([meta_key(person_id)], [1, MAX_HISTORY]) for person_id in person_ids]
        replies = await self._pipelined("history", calls, transaction=False)
        return [reply[2:] if reply[0] == 200 else [] for reply in replies]

    async def existing_ids(self, person_ids: Sequence[str]) -> set[str]:
        """Return the ids among ``person_ids`` that have a person, in one round trip."""
        replies = await self.redis.execute_many([("EXISTS", meta_key(person_id)) for person_id in person_ids],
                                                transaction=False)
        return {person_id for person_id, exists in zip(person_ids, replies, strict=True) if exists == 1}

    async def create_many(self, persons: Sequence[tuple[str, str]], updated_at: str) -> list[bytes]:
        """Create every (id, fields_json) at version 1, all or nothing, in one round trip.

        The persons go in chunks of CREATE_CHUNK_SIZE through one MULTI/EXEC
        transaction, so no other client sees some of them without the rest.
        """
        calls = []
        for start in range(0, len(persons), CREATE_CHUNK_SIZE):
            args: list[str | int] = [updated_at, META_KEY_PREFIX]
            for person_id, fields_json in persons[start : start + CREATE_CHUNK_SIZE]:
                args += [person_id, fields_json]
            calls.append(([INDEX_KEY, SEQUENCE_KEY], args))
        replies = await self._pipelined("create_many", calls, transaction=True)
        docs: list[bytes] = []
        for reply in replies:
            if reply[0] == 409:
                raise IdConflict(reply[1].decode())
            docs += reply[1:]
        return docs

    async def import_versions(self, records: Sequence[tuple[str, str, str]]) -> list[int]:
        """Write each (id, fields_json, updated_at) as a new person or its next version.

        Runs as one MULTI/EXEC transaction, in order, and returns the version
        number each record got.
        """
        calls = [([meta_key(person_id), INDEX_KEY, SEQUENCE_KEY], [person_id, fields, updated_at])
                 for person_id, fields, updated_at in records]
        replies = await self._pipelined("import_version", calls, transaction=True)
        return [reply[1] for reply in replies]

    async def _pipelined(self, name: str, calls: Sequence[tuple[list[str], list]], transaction: bool) -> list:
        """Run one script many times in one round trip and return the replies in order.

        If Redis lost its script cache, the calls that got NOSCRIPT did not
        run: load the script and run those calls again. Inside MULTI/EXEC
        either every call ran or none did.
        """
        script = self._scripts[name]
        replies: list = [None] * len(calls)
        pending = list(range(len(calls)))
        for attempt in range(2):
            commands = [("EVALSHA", script.sha, len(calls[index][0]), *calls[index][0], *calls[index][1])
                        for index in pending]
            results = await self.redis.execute_many(commands, transaction)
            missing = []
            for index, result in zip(pending, results, strict=True):
                if isinstance(result, NoScriptError) and attempt == 0:
                    missing.append(index)
                elif isinstance(result, Exception):
                    raise result
                else:
                    replies[index] = result
            if not missing:
                return replies
            await self.redis.execute("SCRIPT", "LOAD", script.source)
            pending = missing
        return replies

    @staticmethod
    def _raise_for_status(reply: list) -> None:
        status = reply[0]
        if status == 404:
            raise PersonNotFound()
        if status == 412:
            raise PreconditionFailed()


__all__ = [
    "IdConflict",
    "PersonNotFound",
    "PersonStore",
    "PreconditionFailed",
    "StoreError",
    "StoredVersion",
    "VersionNotFound",
    "meta_key",
]
