"""Bulk create vs single creates, read-all throughput and memory, and import speed.

Run: .venv/bin/python bench/bulk.py   (about a minute on 2 cores)
Prints one Markdown table; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import asyncio
import json
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient

from service import ROOT, BenchService, person, seed
from stream_memory import reset_peak

BULK_COUNT = 10_000
READ_ALL_COUNT = 100_000
IMPORT_COUNT = 100_000


def time_bulk_create(service: BenchService) -> float:
    body = [person(index) for index in range(BULK_COUNT)]
    started = time.perf_counter()
    status, _ = service.post_json("/persons", body)
    elapsed = time.perf_counter() - started
    assert status == 201
    return BULK_COUNT / elapsed


async def _single_creates(base_url: str, count: int, concurrency: int) -> float:
    client = AsyncHTTPClient(force_instance=True, max_clients=concurrency)
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            response = await client.fetch(
                base_url + "/persons", method="POST", body=json.dumps(person(index)),
                headers={"Content-Type": "application/json"},
            )
            assert response.code == 201

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client.close()
    return count / elapsed


def time_read_all(service: BenchService) -> tuple[float, int, int]:
    """Return persons/s of one NDJSON read-all, and the service's RSS before and at its peak (KiB)."""
    before = reset_peak(service)
    started = time.perf_counter()
    count = 0
    request = urllib.request.Request(service.base_url + "/persons", headers={"Accept": "application/x-ndjson"})
    with urllib.request.urlopen(request, timeout=600) as response:
        for _line in response:
            count += 1
    elapsed = time.perf_counter() - started
    assert count == READ_ALL_COUNT, count
    return count / elapsed, before, service.memory_kib()["VmHWM"]


def time_import() -> float:
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "persons.jsonl"
        source.write_text("".join(json.dumps(person(index)) + "\n" for index in range(IMPORT_COUNT)))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "personsvc", "import", str(source), "--data-dir", str(Path(directory) / "data")],
            cwd=ROOT, check=True, capture_output=True,
        )
        return IMPORT_COUNT / (time.perf_counter() - started)


def main() -> None:
    rows = []
    with BenchService() as service:
        bulk_rate = time_bulk_create(service)
        single_rate = asyncio.run(_single_creates(service.base_url, BULK_COUNT, concurrency=16))
        rows.append(("bulk create, 10,000 persons in one request", f"{bulk_rate:,.0f} persons/s"))
        rows.append(("10,000 single POSTs, 16 at a time", f"{single_rate:,.0f} persons/s"))
        rows.append(("bulk / single", f"{bulk_rate / single_rate:.1f}x"))
    with BenchService() as service:
        seed(service, READ_ALL_COUNT)
        read_rate, before, peak = time_read_all(service)
        rows.append((f"read-all of {READ_ALL_COUNT:,} persons (NDJSON)", f"{read_rate:,.0f} persons/s"))
        rows.append(("service RSS when read-all starts / at its peak during it", f"{before / 1024:.0f} / {peak / 1024:.0f} MiB"))
    import_rate = time_import()
    rows.append((f"import of a {IMPORT_COUNT:,}-line file (includes starting Redis)", f"{import_rate:,.0f} lines/s"))

    print(f"Python {platform.python_version()} on {platform.machine()}, {__import__('os').cpu_count()} cores\n")
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
