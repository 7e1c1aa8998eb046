"""A ``python run.py`` process for tests that need the service as users run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


class Service:
    """One ``python run.py`` process in its own process group."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.log_path = data_dir.parent / f"service-{self.port}.log"
        self.log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "run.py", "--port", str(self.port), "--data-dir", str(data_dir), *extra],
            cwd=ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PERSONSVC_CONFIG": str(ROOT / "config" / "personsvc.toml")},
        )
        self.wait_until_ready()

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"service exited with {self.process.returncode}:\n{self.log}")
            try:
                self.request("GET", "/persons")
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"service did not answer within {timeout} s:\n{self.log}")

    def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def kill_group(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log_file.close()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(20)
        self.log_file.close()
        return code
