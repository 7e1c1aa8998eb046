"""Operational endpoints: liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from personsvc import errors
from personsvc.handlers.base import JSON_TYPE, BaseHandler

# Readiness must report an outage quickly, whatever the Redis timeout is.
READY_TIMEOUT_SECONDS = 0.5


class HealthHandler(BaseHandler):
    """``/healthz``: the process is alive and serving HTTP. It never touches Redis."""

    PATTERN = ROUTE = "/healthz"

    PROTECTED = False
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def get(self) -> None:
        self.reject_query()
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(b'{"status":"ok"}')

    head = get


class ReadyHandler(BaseHandler):
    """``/readyz``: 200 only when Redis replies to PING within READY_TIMEOUT_SECONDS."""

    PATTERN = ROUTE = "/readyz"

    PROTECTED = False
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    async def get(self) -> None:
        self.reject_query()
        try:
            await asyncio.wait_for(self.store.ping(), READY_TIMEOUT_SECONDS)
        except TimeoutError as error:
            raise errors.ServiceUnavailable(f"Redis did not reply to PING within {READY_TIMEOUT_SECONDS} s") from error
        except errors.REDIS_UNAVAILABLE as error:
            raise errors.ServiceUnavailable(f"Redis is unreachable: {error}") from error
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(b'{"status":"ready"}')

    head = get


class MetricsHandler(BaseHandler):
    """``/metrics``: the Prometheus metrics in the text exposition format."""

    PATTERN = ROUTE = "/metrics"
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def get(self) -> None:
        self.reject_query()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(self.application.settings["metrics"].registry))

    head = get
