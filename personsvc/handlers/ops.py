"""Operational endpoints: liveness and readiness."""

from __future__ import annotations

import asyncio

from personsvc import errors
from personsvc.handlers.base import JSON_TYPE, BaseHandler

# Readiness must report an outage quickly, whatever the Redis timeout is.
READY_TIMEOUT_SECONDS = 0.5


class HealthHandler(BaseHandler):
    """``/healthz``: the process is alive and serving HTTP. It never touches Redis."""

    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def get(self) -> None:
        self.reject_query()
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(b'{"status":"ok"}')

    head = get


class ReadyHandler(BaseHandler):
    """``/readyz``: 200 only when Redis replies to PING within READY_TIMEOUT_SECONDS."""

    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    async def get(self) -> None:
        self.reject_query()
        try:
            await asyncio.wait_for(self.store.ping(), READY_TIMEOUT_SECONDS)
        except (TimeoutError, *errors.REDIS_UNAVAILABLE) as error:
            raise errors.ServiceUnavailable(f"Redis did not reply to PING within {READY_TIMEOUT_SECONDS} s") from error
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(b'{"status":"ready"}')

    head = get
