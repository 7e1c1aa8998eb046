"""Service memory while streaming read-all: 2,000 vs 60,000 persons, fast and pausing clients.

Run: .venv/bin/python bench/stream_memory.py   (about 30 s on 2 cores)
The peak resident memory (VmHWM) of the service process is reset through
/proc/PID/clear_refs before each read, so each row shows what that read
alone added on top of the memory in use when it started.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from service import BenchService, seed

SMALL, LARGE = 2_000, 60_000


def reset_peak(service: BenchService) -> int:
    Path(f"/proc/{service.process.pid}/clear_refs").write_text("5")
    return service.memory_kib()["VmRSS"]


def read_all(service: BenchService, pause_seconds: float) -> int:
    """Read GET /persons over a raw socket; pause mid-way if asked. Return the bytes read."""
    sock = socket.create_connection(("127.0.0.1", service.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(b"GET /persons HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    total = 0
    paused = False
    while chunk := sock.recv(65536):
        total += len(chunk)
        if pause_seconds and not paused and total > 100_000:
            time.sleep(pause_seconds)  # the server must wait, not buffer the rest
            paused = True
    sock.close()
    return total


def measure(service: BenchService, pause_seconds: float) -> tuple[float, int]:
    baseline = reset_peak(service)
    size = read_all(service, pause_seconds)
    growth_kib = service.memory_kib()["VmHWM"] - baseline
    return growth_kib / 1024, size


def main() -> None:
    rows = []
    with BenchService() as service:
        seed(service, SMALL, chunk=1000)
        for pause in (0.0, 3.0):
            growth, size = measure(service, pause)
            rows.append((SMALL, pause, growth, size))
        seed(service, LARGE - SMALL, chunk=1000)
        for pause in (0.0, 3.0):
            growth, size = measure(service, pause)
            rows.append((LARGE, pause, growth, size))

    # Control: one batch for the whole store, which is what an unbatched
    # read-all would hold in memory. It shows that the measurement detects growth.
    with BenchService("--stream-batch-size", str(LARGE)) as service:
        seed(service, LARGE, chunk=1000)
        growth, size = measure(service, 0.0)
        control = (LARGE, growth, size)

    print("| persons | batch size | client pauses | response size | peak RSS growth of the service |")
    print("|---|---|---|---|---|")
    for persons, pause, growth, size in rows:
        pause_text = f"{pause:.0f} s after 100 kB" if pause else "no"
        print(f"| {persons:,} | 500 | {pause_text} | {size / 1e6:.1f} MB | {growth:.1f} MiB |")
    print(f"| {control[0]:,} | {LARGE:,} (control) | no | {control[2] / 1e6:.1f} MB | {control[1]:.1f} MiB |")
    small = max(growth for persons, _, growth, _ in rows if persons == SMALL)
    large = max(growth for persons, _, growth, _ in rows if persons == LARGE)
    print(f"\nlargest growth for {LARGE:,} persons minus largest for {SMALL:,}: {large - small:.1f} MiB")


if __name__ == "__main__":
    main()
