"""The Tornado application factory, shared by run.py and the tests."""

from __future__ import annotations

import logging

import tornado.httputil
import tornado.web

from personsvc.config import Settings
from personsvc.handlers.base import BaseHandler, NotFoundHandler
from personsvc.handlers.docs import DocsHandler, OpenApiHandler
from personsvc.handlers.ops import HealthHandler, MetricsHandler, ReadyHandler
from personsvc.observability import Metrics
from personsvc.handlers.persons import PersonHandler, PersonsHandler, VersionHandler, VersionsHandler
from personsvc.store import PersonStore

access_log = logging.getLogger("personsvc.access")


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Count the request in the metrics and write its access-log line.

    The line carries method, route, status, duration, response bytes and
    request id, as text and as fields for the JSON log format.
    """
    status = handler.get_status()
    seconds = handler.request.request_time()
    route = getattr(handler, "ROUTE", "unmatched")
    metrics: Metrics = handler.application.settings["metrics"]
    metrics.observe_request(handler.request.method or "-", route, status, seconds)

    if status < 400:
        level = logging.INFO
    elif status < 500:
        level = logging.WARNING
    else:
        level = logging.ERROR
    if not access_log.isEnabledFor(level):
        return
    request_id = handler.request_id if isinstance(handler, BaseHandler) else "-"
    response_bytes = handler.response_bytes if isinstance(handler, BaseHandler) else 0
    if handler.request.method == "HEAD":
        response_bytes = 0  # Tornado drops the body of a HEAD response
    fields = {
        "method": handler.request.method,
        "route": route,
        "path": handler.request.path,
        "status": status,
        "duration_ms": round(1000.0 * seconds, 2),
        "bytes": response_bytes,
        "request_id": request_id,
    }
    access_log.log(
        level,
        "%s %s %d %.1fms %dB request_id=%s",
        fields["method"], handler.request.uri, status, fields["duration_ms"], response_bytes, request_id,
        extra=fields,
    )


class InFlight:
    """Count of requests that have started and not yet finished, for a clean shutdown."""

    def __init__(self) -> None:
        self.count = 0


def _raise_tornado_query_limit() -> None:
    """Let Tornado parse query strings of any field count, so our own check can reject them.

    Tornado 6.5.8+ responds to a request with more than 1000 query fields with a
    bare 400 (no body) before any handler runs. The query string is already
    bounded by the 64 KiB header limit, so parsing it all is cheap;
    BaseHandler.prepare then rejects more than MAX_QUERY_FIELDS with a
    problem+json 400. Tornado keeps this limit in a process-wide setting.
    """
    config = tornado.httputil.ParseBodyConfig()
    config.urlencoded.max_arguments = 1_000_000
    tornado.httputil.set_parse_body_config(config)


def make_app(settings: Settings, store: PersonStore) -> tornado.web.Application:
    _raise_tornado_query_limit()
    context = {"store": store, "settings": settings}
    handlers = [
        PersonsHandler, PersonHandler, VersionsHandler, VersionHandler,
        HealthHandler, ReadyHandler, MetricsHandler, OpenApiHandler,
    ]
    routes = [(handler.PATTERN, handler, context) for handler in handlers]
    routes.append((r"/docs(?:/assets/([^/]+))?", DocsHandler, context))
    in_flight = InFlight()
    return tornado.web.Application(
        routes,
        default_handler_class=NotFoundHandler,
        default_handler_args=context,
        log_function=log_request,
        compress_response=False,
        in_flight=in_flight,
        metrics=Metrics(lambda: in_flight.count),
    )
