"""Start the service: settings, embedded Redis, HTTP server and clean shutdown."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import tornado.ioloop
import tornado.netutil
import tornado.web

from personsvc.app import make_app
from personsvc.config import ConfigError, Settings, load_settings
from personsvc.connections import GuardedHTTPServer
from personsvc.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from personsvc.handlers.base import reset_request_ids_after_fork
from personsvc.observability import configure_logging
from personsvc.store import PersonStore

log = logging.getLogger("personsvc")

# A worker that crashes is restarted; after this many restarts the service stops.
MAX_WORKER_RESTARTS = 10


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by '***', for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


async def _wait_for_requests(app_settings: dict, timeout: float) -> None:
    in_flight = app_settings["in_flight"]
    deadline = time.monotonic() + timeout
    while in_flight.count > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if in_flight.count > 0:
        log.warning("%d requests still running after %.1f s; closing them", in_flight.count, timeout)


def make_server(app: tornado.web.Application, settings: Settings) -> GuardedHTTPServer:
    # Handlers raise 413 themselves while a body arrives, and they raise the
    # connection's cap above max_body_size, so that cap applies only before them.
    return GuardedHTTPServer(
        app,
        max_body_size=settings.max_body_size,
        max_header_size=settings.max_header_size,
        idle_connection_timeout=settings.idle_timeout,
        body_timeout=settings.body_timeout,
        max_connections=settings.max_connections,
    )


def bind(settings: Settings) -> list[socket.socket]:
    """Bind the listening sockets, log where, and warn about a public address without tokens."""
    sockets = tornado.netutil.bind_sockets(settings.port, settings.host)
    for sock in sockets:
        host, port = sock.getsockname()[:2]
        log.info("listening on http://%s:%d", f"[{host}]" if ":" in host else host, port)
        if not ipaddress.ip_address(host.split("%")[0]).is_loopback and not (
            settings.api_tokens or settings.read_only_tokens
        ):
            log.warning(
                "listening on %s with no API token set: anyone who can reach this address can read and change "
                "every person; set --api-tokens (see SECURITY.md)", host,
            )
    return sockets


async def serve(
    settings: Settings, redis_url: str, sockets: list[socket.socket], embedded: EmbeddedRedis | None = None
) -> None:
    """Serve HTTP until SIGTERM or SIGINT, then drain in-flight requests and close the connection.

    With ``embedded``, a redis-server that exits is started again within a second.
    """
    store = PersonStore.from_url(redis_url, settings.redis_timeout)
    app = make_app(settings, store)
    server = make_server(app, settings)
    server.add_sockets(sockets)
    if embedded is not None:
        tornado.ioloop.PeriodicCallback(embedded.restart_if_exited, 1000).start()

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    await stopping.wait()

    log.info("shutting down: no new connections, waiting up to %.1f s for requests", settings.shutdown_timeout)
    server.stop()
    await _wait_for_requests(app.settings, settings.shutdown_timeout)
    await server.close_all_connections()
    await store.close()


def _run_worker(settings: Settings, redis_url: str, sockets: list[socket.socket]) -> None:
    """Run one worker process to the end; never returns."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    reset_request_ids_after_fork()
    code = 0
    try:
        asyncio.run(serve(settings, redis_url, sockets))
    except BaseException:
        log.exception("worker %d failed", os.getpid())
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def serve_processes(
    settings: Settings, redis_url: str, sockets: list[socket.socket], count: int, embedded: EmbeddedRedis | None
) -> int:
    """Fork ``count`` workers sharing the sockets; restart a crashed one; stop all on SIGTERM or SIGINT.

    Each worker has its own event loop and Redis pool. Returns the exit status.
    """
    watched = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}
    signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    workers: dict[int, int] = {}
    restarts = 0

    def start(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            _run_worker(settings, redis_url, sockets)
        workers[pid] = slot

    for slot in range(count):
        start(slot)
    log.info("started %d worker processes: %s", count, ", ".join(map(str, workers)))

    while True:
        received = signal.sigwait(watched)
        if received in (signal.SIGTERM, signal.SIGINT):
            break
        while workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            slot = workers.pop(pid, None)
            if slot is None:
                if embedded is not None:
                    embedded.restart_if_exited()
                continue
            log.error("worker %d exited with status %d", pid, os.waitstatus_to_exitcode(status))
            if embedded is not None:
                embedded.restart_if_exited()
            if restarts >= MAX_WORKER_RESTARTS:
                log.error("workers keep failing (%d restarts); stopping", restarts)
                _stop_workers(workers, settings.shutdown_timeout)
                return 1
            restarts += 1
            start(slot)

    log.info("stopping %d worker processes", len(workers))
    _stop_workers(workers, settings.shutdown_timeout)
    return 0


def _stop_workers(workers: dict[int, int], timeout: float) -> None:
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout + 5
    while workers and time.monotonic() < deadline:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid:
            workers.pop(pid, None)
        else:
            time.sleep(0.05)
    for pid in workers:
        log.warning("worker %d did not stop in time; killing it", pid)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = load_settings(argv)
    except ConfigError as error:
        print(f"run.py: error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    processes = settings.processes or os.cpu_count() or 1

    embedded = None
    redis_url = settings.redis_url
    code = 0
    try:
        if redis_url is None:
            embedded = EmbeddedRedis(settings.data_dir, settings.redis_fsync)
            embedded.start()
            redis_url = embedded.url
        else:
            log.info("using Redis at %s", redact_url(redis_url))
        sockets = bind(settings)
        if processes == 1:
            asyncio.run(serve(settings, redis_url, sockets, embedded))
        else:
            code = serve_processes(settings, redis_url, sockets, processes, embedded)
    except EmbeddedRedisError as error:
        log.error("cannot start the embedded Redis: %s", error)
        return 1
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        return 1
    finally:
        if embedded is not None:
            embedded.stop()
    log.info("stopped")
    return code
