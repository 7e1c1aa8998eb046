"""HTTP throughput of personsvc against the Tornado ceiling and a Flask + redis-py stack, with wrk.

Run: .venv/bin/python bench/throughput.py [--rounds 3] [--duration 3] [--processes 1]
Needs wrk (Debian/Ubuntu: sudo apt-get install wrk) and the packages in
bench/requirements.txt. Takes about three minutes with the defaults.

Every server runs as one process (or --processes of them) on 127.0.0.1
against one Redis. Each scenario runs `wrk -t1 -c32` for --duration seconds
per round; the rounds interleave the three servers, and the table shows
the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from service import ROOT, free_port, person

sys.path.insert(0, str(ROOT))

from personsvc.embedded_redis import EmbeddedRedis
from personsvc.store import PersonStore
from personsvc.validation import encode_fields

READ_ALL_COUNT = 10_000
BODY = (
    '{"first_name":"First1","middle_name":null,"last_name":"Last1",'
    '"email":"person1@example.com","age":1}'
)


def wrk_script(directory: Path, method: str) -> Path:
    path = directory / f"{method.lower()}.lua"
    path.write_text(
        f'wrk.method = "{method}"\n'
        f"wrk.body = '{BODY}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return path


def run_wrk(url: str, duration: int, script: Path | None = None, connections: int = 32) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests for {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not respond within {timeout} s")


async def seed(redis_url: str) -> str:
    """Create READ_ALL_COUNT persons and one with three versions; return that one's id."""
    store = PersonStore.from_url(redis_url, 10.0)
    await store.redis.execute("FLUSHDB")
    for start in range(0, READ_ALL_COUNT - 1, 1000):
        batch = [(str(uuid.uuid4()), encode_fields(person(index))) for index in range(start, min(start + 1000, READ_ALL_COUNT - 1))]
        await store.create_many(batch, "2026-12-04T00:00:00.000Z")
    hot_id = str(uuid.uuid4())
    await store.create(hot_id, encode_fields(person(1)), "2026-12-04T00:00:00.000Z")
    for version in (2, 3):
        await store.update(hot_id, encode_fields(person(version)), "2026-12-04T00:00:00.000Z")
    await store.close()
    return hot_id


def start_servers(redis_url: str, processes: int, log_level: str) -> dict[str, tuple[str, subprocess.Popen]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PERSONSVC_CONFIG": str(ROOT / "config" / "personsvc.toml")}
    ports = {name: free_port() for name in ("personsvc", "ceiling", "flask")}
    commands = {
        "personsvc": [sys.executable, "run.py", "--port", str(ports["personsvc"]), "--redis-url", redis_url,
                      "--log-level", log_level, "--processes", str(processes)],
        "ceiling": [sys.executable, "bench/ceiling_app.py", str(ports["ceiling"]), str(processes)],
        "flask": [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(processes), "--bind",
                  f"127.0.0.1:{ports['flask']}", "--chdir", "bench", "--log-level", "warning",
                  f'flask_app:create_app("{redis_url}")'],
    }
    servers = {}
    for name, command in commands.items():
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        base_url = f"http://127.0.0.1:{ports[name]}"
        servers[name] = (base_url, process)
    return servers


def stop_servers(servers: dict[str, tuple[str, subprocess.Popen]]) -> None:
    for _, process in servers.values():
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def measure(servers: dict, hot_id: str, rounds: int, duration: int, scripts: dict[str, Path]) -> dict:
    scenarios = {
        "GET person": (f"/persons/{hot_id}", None),
        "GET version": (f"/persons/{hot_id}/versions/2", None),
        f"read-all of {READ_ALL_COUNT:,}": ("/persons", None),
        "POST create": ("/persons", scripts["POST"]),
        "PUT update": (f"/persons/{hot_id}", scripts["PUT"]),
    }
    results: dict[tuple[str, str], list[float]] = {}
    # Reads first, so that the creates do not change what read-all returns.
    for scenario, (path, script) in scenarios.items():
        for _ in range(rounds):
            for name, (base_url, _) in servers.items():
                rate = run_wrk(base_url + path, duration, script)
                results.setdefault((scenario, name), []).append(rate)
    return {key: statistics.median(rates) for key, rates in results.items()}, list(scenarios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--processes", type=int, default=1, help="server processes of each kind")
    parser.add_argument("--log-level", default="warning", help="personsvc log level (info writes an access line per request)")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed; on Debian or Ubuntu: sudo apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="personsvc-bench-") as directory:
        redis_server = EmbeddedRedis(Path(directory) / "redis", port=free_port())
        redis_server.start()
        try:
            hot_id = asyncio.run(seed(redis_server.url))
            servers = start_servers(redis_server.url, arguments.processes, arguments.log_level)
            try:
                for name, (base_url, process) in servers.items():
                    wait_until_up(f"{base_url}/persons/{hot_id}", process)
                scripts = {method: wrk_script(Path(directory), method) for method in ("POST", "PUT")}
                medians, scenarios = measure(servers, hot_id, arguments.rounds, arguments.duration, scripts)
            finally:
                stop_servers(servers)
        finally:
            redis_server.stop()

    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{arguments.processes} process(es) per server, wrk -t1 -c32 -d{arguments.duration}s, "
          f"median of {arguments.rounds} interleaved rounds; personsvc --log-level {arguments.log_level}\n")
    print("| scenario | personsvc req/s | ceiling req/s | Flask req/s | personsvc / ceiling | personsvc / Flask |")
    print("|---|---|---|---|---|---|")
    for scenario in scenarios:
        ours, ceiling, flask = (medians[(scenario, name)] for name in ("personsvc", "ceiling", "flask"))
        print(f"| {scenario} | {ours:,.0f} | {ceiling:,.0f} | {flask:,.0f} | {ours / ceiling:.2f} | {ours / flask:.2f} |")


if __name__ == "__main__":
    main()
