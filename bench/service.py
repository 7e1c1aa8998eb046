"""Start personsvc as a user would, for benchmarks: run.py with its own embedded Redis."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def person(index: int) -> dict:
    return {
        "first_name": f"First{index}",
        "middle_name": None if index % 3 else "Middle",
        "last_name": f"Last{index}",
        "email": f"person{index}@example.com",
        "age": index % 151,
    }


class BenchService:
    """A ``python run.py`` process on a free port, with its data in a temporary directory."""

    def __init__(self, *extra: str) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="personsvc-bench-")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(self.directory.name) / "service.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "run.py", "--port", str(self.port), "--data-dir", str(Path(self.directory.name) / "data"),
             "--log-level", "warning", *extra],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PERSONSVC_CONFIG": str(ROOT / "config" / "personsvc.toml")},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.base_url + "/healthz", timeout=1).read()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the service did not start; see " + self.log.name) from None
                time.sleep(0.1)

    def memory_kib(self) -> dict[str, int]:
        """Return the service process's VmRSS and VmHWM (peak RSS), in KiB, from /proc."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
        return values

    def post_json(self, path: str, body: object) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read()

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)
        self.log.close()
        self.directory.cleanup()

    def __enter__(self) -> BenchService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def seed(service: BenchService, count: int, chunk: int = 10_000) -> None:
    """Create ``count`` persons with bulk creates."""
    for start in range(0, count, chunk):
        status, _ = service.post_json("/persons", [person(index) for index in range(start, min(count, start + chunk))])
        assert status == 201
