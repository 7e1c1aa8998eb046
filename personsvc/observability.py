"""Prometheus metrics, log formats and the request id that every log line carries."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# The id of the request being handled, for log lines written outside the
# handler's own methods (the store, the access log).
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="-")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of their own (one per application)."""

    def __init__(self, in_flight: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "personsvc_http_requests", "HTTP requests handled, by method, route and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "personsvc_http_request_duration_seconds", "Time from request start to response end, in seconds.",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.redis_errors = Counter(
            "personsvc_redis_errors", "Redis calls that failed because Redis was unreachable or timed out, by error class.",
            ["error"], registry=self.registry,
        )
        self.persons_streamed = Counter(
            "personsvc_persons_streamed", "Persons written to clients by streamed reads (read-all, pages, history).",
            registry=self.registry,
        )
        in_flight_gauge = Gauge(
            "personsvc_http_requests_in_flight", "Requests started and not yet finished.", registry=self.registry,
        )
        in_flight_gauge.set_function(in_flight)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def count_redis_error(self, error: BaseException) -> None:
        self.redis_errors.labels(type(error).__name__).inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            # labels() looks its child up in a locked dict on every call;
            # keeping the pair here saves that on every request.
            labels = (method, route, str(status))
            children = self._children[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)


class RequestIdFilter(logging.Filter):
    """Give every log record a ``request_id`` attribute: the current request's, or '-'."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


# Attributes of every LogRecord; anything else on a record came from `extra`.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: UTC time, level, logger, pid, message, request_id and any `extra` fields."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str) -> None:
    """Send log lines to standard error, as text or JSON, each with the request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
