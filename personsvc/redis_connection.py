"""One multiplexed Redis connection per process, shared by every request.

Requests write their commands to the same socket and get their replies in
the same order, which is how Redis replies on one connection. Measured on a
2-core machine (docs/benchmarks.md), a read script costs about a quarter of
what it costs through redis-py's connection pool, whose checkout, retry and
timeout layers dominate a sub-millisecond call.

Invariants:
- Commands of one call (a pipeline, or MULTI ... EXEC) go out in one write,
  so no other request's command can come between them.
- A call that times out closes the connection and fails every call still
  waiting on it. So a late reply can never reach another request, and a
  stalled Redis cannot hold requests longer than the timeout.
- Nothing is retried: a command that timed out may still have run.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Sequence
from typing import Any

import hiredis
from redis.connection import parse_url
from redis.exceptions import AuthenticationError, BusyLoadingError, NoScriptError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

Command = Sequence[str | bytes | int | float]

_ERROR_CLASSES = {
    "NOSCRIPT": NoScriptError,
    "LOADING": BusyLoadingError,
    "NOAUTH": AuthenticationError,
    "WRONGPASS": AuthenticationError,
}


def _as_exception(error: hiredis.ReplyError) -> ResponseError:
    message = str(error)
    return _ERROR_CLASSES.get(message.split(" ", 1)[0], ResponseError)(message)


def _check(reply: Any) -> Any:
    """Return ``reply``, or raise it if it is an error reply."""
    if isinstance(reply, hiredis.ReplyError):
        raise _as_exception(reply)
    return reply


def encode_command(command: Command) -> bytes:
    """Encode one command in RESP, the Redis protocol."""
    parts = [b"*%d\r\n" % len(command)]
    for argument in command:
        if isinstance(argument, str):
            argument = argument.encode()
        elif not isinstance(argument, bytes):
            argument = str(argument).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(argument), argument))
    return b"".join(parts)


class _RedisProtocol(asyncio.Protocol):
    """One Redis connection: matches replies to waiting futures in order."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: collections.deque[asyncio.Future] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if not self.waiting:
                self.abort(RedisConnectionError("Redis sent a reply that no command was waiting for"))
                return
            future = self.waiting.popleft()
            if not future.done():
                future.set_result(reply)

    def connection_lost(self, error: Exception | None) -> None:
        self.closed = True
        self._fail_waiting(RedisConnectionError(f"the connection to Redis was closed: {error or 'by the server'}"))

    def send(self, commands: Sequence[Command]) -> list[asyncio.Future]:
        """Write ``commands`` in one write; return one future per reply, in order."""
        if self.closed or self.transport is None:
            raise RedisConnectionError("the connection to Redis is closed")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in commands]
        self.waiting.extend(futures)
        self.transport.write(b"".join(encode_command(command) for command in commands))
        return futures

    def abort(self, error: Exception) -> None:
        self.closed = True
        self._fail_waiting(error)
        if self.transport is not None:
            self.transport.abort()

    def _fail_waiting(self, error: Exception) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class MultiplexedRedis:
    """A Redis client over one connection, opened on first use and reopened after a failure."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._options = parse_url(url)
        self._protocol: _RedisProtocol | None = None
        self._connecting: asyncio.Task | None = None

    async def execute(self, *command: str | bytes | int | float) -> Any:
        """Run one command and return its reply; raise ResponseError for an error reply."""
        replies = await self._send([command])
        return _check(replies[-1])

    async def execute_many(self, commands: Sequence[Command], transaction: bool) -> list[Any]:
        """Run commands in one round trip, as MULTI ... EXEC if ``transaction``; return their replies.

        Error replies come back as exceptions in the list, not raised.
        """
        if not transaction:
            return [_as_exception(reply) if isinstance(reply, hiredis.ReplyError) else reply
                    for reply in await self._send(commands)]
        replies = await self._send([("MULTI",), *commands, ("EXEC",)])
        for reply in replies[:-1]:
            _check(reply)  # MULTI's OK and each QUEUED; an error here means nothing ran
        results = _check(replies[-1])
        if results is None:
            raise ResponseError("the transaction was aborted")
        return [_as_exception(reply) if isinstance(reply, hiredis.ReplyError) else reply for reply in results]

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        if self._protocol is not None:
            self._protocol.abort(RedisConnectionError("the client was closed"))
            self._protocol = None

    async def _send(self, commands: Sequence[Command]) -> list[Any]:
        protocol = await self._connection()
        futures = protocol.send(commands)
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.gather(*futures) if len(futures) > 1 else [await futures[0]]
        except TimeoutError:
            protocol.abort(RedisConnectionError("the connection was closed after a command timed out"))
            raise RedisTimeoutError(f"Redis did not reply within {self.timeout} s") from None

    async def _connection(self) -> _RedisProtocol:
        protocol = self._protocol
        if protocol is not None and not protocol.closed:
            return protocol
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
            self._connecting.add_done_callback(self._forget_connecting)
        return await asyncio.shield(self._connecting)

    def _forget_connecting(self, task: asyncio.Task) -> None:
        self._connecting = None
        if not task.cancelled() and task.exception() is None:
            self._protocol = task.result()

    async def _connect(self) -> _RedisProtocol:
        loop = asyncio.get_running_loop()
        options = self._options
        try:
            async with asyncio.timeout(self.timeout):
                if "path" in options:
                    _, protocol = await loop.create_unix_connection(_RedisProtocol, options["path"])
                else:
                    tls = ssl.create_default_context() if self.url.startswith("rediss://") else None
                    _, protocol = await loop.create_connection(
                        _RedisProtocol, options.get("host", "localhost"), options.get("port", 6379), ssl=tls,
                    )
                await self._handshake(protocol)
        except TimeoutError:
            raise RedisTimeoutError(f"connecting to Redis timed out after {self.timeout} s") from None
        except OSError as error:
            raise RedisConnectionError(f"cannot connect to Redis: {error.strerror or error}") from None
        return protocol

    async def _handshake(self, protocol: _RedisProtocol) -> None:
        commands: list[Command] = []
        if self._options.get("password"):
            username = self._options.get("username")
            password = self._options["password"]
            commands.append(("AUTH", username, password) if username else ("AUTH", password))
        if self._options.get("db"):
            commands.append(("SELECT", self._options["db"]))
        if commands:
            for reply in await asyncio.gather(*protocol.send(commands)):
                _check(reply)
