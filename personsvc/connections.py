"""The HTTP server's connection handling: limits that respond in problem+json.

Out of the box, Tornado 6.6 closes a connection without a response when the
request line and headers exceed ``max_header_size``. It responds to a
malformed request (a bad request line, an invalid header, a bad
Content-Length) with a bare ``400 Bad Request`` that has no body. Here both become problem+json
responses that name the limit or the fault, and connections beyond
``max_connections`` get a 503 problem instead of being served.
"""

from __future__ import annotations

import json
import logging
import uuid
from http import HTTPStatus
from typing import Any

import tornado.httpserver
from tornado.iostream import IOStream, UnsatisfiableReadError

log = logging.getLogger("personsvc.connections")

# The bare response that Tornado's HTTP1Connection writes for a malformed request.
TORNADO_BARE_400 = b"HTTP/1.1 400 Bad Request\r\n\r\n"


def problem_response(status: int, type_name: str, detail: str, extra_headers: str = "") -> bytes:
    """Return a complete HTTP/1.1 problem+json response that closes the connection."""
    request_id = uuid.uuid4().hex
    phrase = HTTPStatus(status).phrase
    body = json.dumps({
        "type": f"/problems/{type_name}",
        "title": phrase,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n"
        f"{extra_headers}"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedIOStream(IOStream):
    """An IOStream that sends a problem+json response where Tornado would send none or a bare one.

    GuardedHTTPServer turns each accepted connection's IOStream into this
    class before Tornado's HTTP code reads from it.
    """

    server: GuardedHTTPServer
    _pending_read_limit: int | None = None
    _counted = False

    def read_until_regex(self, regex: bytes, max_bytes: int | None = None) -> Any:
        self._pending_read_limit = max_bytes
        return super().read_until_regex(regex, max_bytes)

    def write(self, data: bytes | memoryview) -> Any:
        if data == TORNADO_BARE_400:
            data = problem_response(
                400, "bad-request",
                "the request is not valid HTTP/1.1: check the request line, the header syntax and Content-Length",
            )
        return super().write(data)

    def close(self, exc_info: Any = False) -> None:
        header_read = self._pending_read_limit == self.server.max_header_size
        if isinstance(exc_info, UnsatisfiableReadError) and header_read and not self.closed():
            self._send_now(problem_response(
                431, "request-header-fields-too-large",
                f"the request line and headers are larger than the limit of {self.server.max_header_size} bytes",
            ))
        if self._counted:
            self._counted = False
            self.server.open_connections -= 1
        super().close(exc_info)

    def _send_now(self, response: bytes) -> None:
        # The stream is about to close, so write straight to the socket; a
        # response this small fits in any socket buffer.
        try:
            self.socket.send(response)
        except OSError:
            pass


class GuardedHTTPServer(tornado.httpserver.HTTPServer):
    """HTTPServer that responds in problem+json to oversized headers and malformed requests, and caps connections."""

    def initialize(self, *args: Any, max_connections: int = 1000, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.max_connections = max_connections
        self.max_header_size = kwargs.get("max_header_size") or 65536
        self.open_connections = 0

    def handle_stream(self, stream: IOStream, address: tuple) -> None:
        stream.__class__ = GuardedIOStream
        assert isinstance(stream, GuardedIOStream)
        stream.server = self
        if self.open_connections >= self.max_connections:
            log.warning("refusing a connection from %s: %d connections are open, the limit is %d",
                        address[0] if address else "?", self.open_connections, self.max_connections)
            stream._send_now(problem_response(
                503, "service-unavailable",
                f"the server has {self.max_connections} open connections, its limit; retry later",
                extra_headers="Retry-After: 2\r\n",
            ))
            stream.close()
            return
        stream._counted = True
        self.open_connections += 1
        super().handle_stream(stream, address)
