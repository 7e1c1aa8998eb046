"""run.py as a user runs it: the embedded Redis, crashes, restarts and shutdown."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ADA, free_port
from tests.service import ROOT, Service

@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def create_persons(service: Service, count: int) -> list[str]:
    ids = []
    for index in range(count):
        status, person = service.request("POST", "/persons", {**ADA, "age": index})
        assert status == 201
        ids.append(person["id"])
    return ids


def listed_ids(service: Service) -> list[str]:
    status, persons = service.request("GET", "/persons")
    assert status == 200
    return [person["id"] for person in persons]


def test_restart_after_sigkill_keeps_acknowledged_writes(data_dir):
    service = Service(data_dir)
    ids = create_persons(service, 20)
    status, _ = service.request("PUT", f"/persons/{ids[0]}", {**ADA, "first_name": "Changed"})
    assert status == 200
    time.sleep(1.5)  # appendfsync everysec: writes older than a second are on disk
    service.kill_group()

    restarted = Service(data_dir)
    try:
        assert listed_ids(restarted) == ids
        status, person = restarted.request("GET", f"/persons/{ids[0]}")
        assert person["version"] == 2
        assert person["first_name"] == "Changed"
    finally:
        restarted.terminate()


def test_fsync_always_keeps_every_acknowledged_write(data_dir):
    service = Service(data_dir, "--redis-fsync", "always")
    ids = create_persons(service, 10)
    service.kill_group()

    restarted = Service(data_dir, "--redis-fsync", "always")
    try:
        assert listed_ids(restarted) == ids
    finally:
        restarted.terminate()


def test_sigterm_exits_cleanly_and_stops_redis(data_dir):
    service = Service(data_dir)
    create_persons(service, 1)

    assert service.terminate() == 0

    log = service.log
    assert "embedded redis-server stopped (exit status 0)" in log
    assert "Traceback" not in log
    with pytest.raises(ProcessLookupError):
        os.kill(redis_pid(service), 0)


def redis_pid(service: Service) -> int:
    return int(re.search(r"started \(pid (\d+)\)", service.log).group(1))


def test_sigterm_finishes_in_flight_request(data_dir):
    service = Service(data_dir, "--redis-timeout", "10")
    ids = create_persons(service, 1)
    pid = redis_pid(service)
    results: list[tuple[int, object]] = []

    # Hold a request in flight by pausing Redis under it.
    os.kill(pid, signal.SIGSTOP)
    try:
        reader = threading.Thread(target=lambda: results.append(service.request("GET", f"/persons/{ids[0]}")))
        reader.start()
        time.sleep(0.5)
        service.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", service.port), timeout=2).close()
    finally:
        os.kill(pid, signal.SIGCONT)
    reader.join(20)

    assert results[0][0] == 200
    assert service.process.wait(20) == 0
    service.log_file.close()


def test_second_service_on_same_data_dir_fails(data_dir):
    first = Service(data_dir)
    try:
        second = subprocess.run(
            [sys.executable, "run.py", "--port", str(free_port()), "--data-dir", str(data_dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )
        assert second.returncode == 1
        assert "another personsvc" in second.stderr
        assert first.request("GET", "/persons")[0] == 200
    finally:
        first.terminate()


def test_log_says_where_it_listens_and_stores(data_dir):
    service = Service(data_dir)
    service.terminate()
    assert f"listening on http://127.0.0.1:{service.port}" in service.log
    assert f"data in {data_dir}" in service.log


def test_killed_redis_is_restarted(data_dir):
    service = Service(data_dir)
    try:
        ids = create_persons(service, 3)
        old_pid = redis_pid(service)
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and service.log.count("started (pid") < 2:
            time.sleep(0.2)
        time.sleep(0.5)
        assert listed_ids(service) == ids
        assert f"embedded redis-server (pid {old_pid}) exited" in service.log
    finally:
        service.terminate()


def test_two_processes_serve_and_stop(data_dir):
    service = Service(data_dir, "--processes", "2")
    try:
        ids = create_persons(service, 4)
        assert listed_ids(service) == ids
        assert "started 2 worker processes" in service.log
    finally:
        code = service.terminate()
    assert code == 0
    assert "embedded redis-server stopped (exit status 0)" in service.log
