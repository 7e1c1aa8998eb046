"""The Tornado application factory, shared by run.py and the tests."""

from __future__ import annotations

import logging

import tornado.httputil
import tornado.web

from personsvc.config import Settings
from personsvc.handlers.base import BaseHandler, NotFoundHandler
from personsvc.handlers.ops import HealthHandler, ReadyHandler
from personsvc.handlers.persons import PersonHandler, PersonsHandler, VersionHandler, VersionsHandler
from personsvc.store import PersonStore

access_log = logging.getLogger("personsvc.access")


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Write one access-log line per request: method, path, status, duration, request id."""
    status = handler.get_status()
    if status < 400:
        level = logging.INFO
    elif status < 500:
        level = logging.WARNING
    else:
        level = logging.ERROR
    if not access_log.isEnabledFor(level):
        return
    request_id = handler.request_id if isinstance(handler, BaseHandler) else "-"
    duration_ms = 1000.0 * handler.request.request_time()
    access_log.log(
        level,
        "%s %s %d %.1fms request_id=%s",
        handler.request.method,
        handler.request.uri,
        status,
        duration_ms,
        request_id,
    )


class InFlight:
    """Count of requests that have started and not yet finished, for a clean shutdown."""

    def __init__(self) -> None:
        self.count = 0


def _raise_tornado_query_limit() -> None:
    """Let Tornado parse query strings of any field count, so our own check can reject them.

    Tornado 6.5.8+ answers a request with more than 1000 query fields with a
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
    uuid_segment = r"([^/]+)"
    routes = [
        (r"/healthz", HealthHandler, context),
        (r"/readyz", ReadyHandler, context),
        (r"/persons", PersonsHandler, context),
        (rf"/persons/{uuid_segment}", PersonHandler, context),
        (rf"/persons/{uuid_segment}/versions", VersionsHandler, context),
        (rf"/persons/{uuid_segment}/versions/([^/]+)", VersionHandler, context),
    ]
    return tornado.web.Application(
        routes,
        default_handler_class=NotFoundHandler,
        default_handler_args=context,
        log_function=log_request,
        compress_response=False,
        in_flight=InFlight(),
    )
