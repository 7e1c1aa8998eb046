"""``python -m personsvc export|import``: copy persons between Redis and JSON-lines files.

Both commands talk to Redis directly through the store module, with the
same settings as the service (``--redis-url``, or the embedded Redis in
``--data-dir``), not over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tqdm import tqdm

from personsvc.config import ConfigError, Settings, add_setting_arguments, settings_from_arguments
from personsvc.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from personsvc.errors import REDIS_UNAVAILABLE, InvalidJson, ValidationFailed
from personsvc.handlers.persons import utc_timestamp
from personsvc.store import PersonStore
from personsvc.validation import encode_fields, parse_json, validate_import

# The settings that matter to export and import: where Redis is.
CLI_SETTINGS = ("redis_url", "data_dir", "redis_fsync", "redis_timeout")
# Lines per import round trip, at most: a MULTI/EXEC of more would hold
# Redis for seconds and could outlast the client's timeout.
MAX_BATCH_SIZE = 5000
# The commands wait at least this long for Redis: a batch of thousands of
# script calls takes longer than one request of the service.
MIN_CLI_TIMEOUT = 30.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m personsvc",
        description="Export persons to, or import them from, a JSON-lines file (one person per line).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    export = commands.add_parser("export", help="write every person as JSON lines")
    export.add_argument("file", metavar="FILE", help="output file, or - for standard output")
    export.add_argument("--all-versions", action="store_true", help="write every version, oldest first, not only the current one")
    add_setting_arguments(export, CLI_SETTINGS)

    load = commands.add_parser("import", help="create persons from JSON lines")
    load.add_argument("file", metavar="FILE", help="input file, or - for standard input")
    load.add_argument(
        "--on-error",
        choices=("stop", "skip"),
        default="stop",
        help="on an invalid line: stop there (after writing the lines before it), or skip it and go on (default: stop)",
    )
    load.add_argument("--batch-size", type=int, default=500, metavar="COUNT",
                      help=f"lines written per Redis round trip, 1 to {MAX_BATCH_SIZE} (default: 500)")
    add_setting_arguments(load, CLI_SETTINGS)
    return parser


# -- export -----------------------------------------------------------------------


async def _current_batches(store: PersonStore, batch_size: int) -> AsyncIterator[list[bytes]]:
    after_seq, more = 0, True
    while more:
        after_seq, more, docs = await store.read_batch(after_seq, batch_size)
        yield docs


async def export_persons(store: PersonStore, output: IO[bytes], all_versions: bool, progress: tqdm) -> tuple[int, int]:
    """Write every person (or every version) as one JSON line; return (persons, lines) written."""
    persons = lines = 0
    async for docs in _current_batches(store, 500):
        if all_versions:
            ids = [json.loads(doc)["id"] for doc in docs]
            docs = [doc for history in await store.read_histories(ids) for doc in history]
        output.write(b"".join(doc + b"\n" for doc in docs))
        persons += len(docs) if not all_versions else len({json.loads(doc)["id"] for doc in docs})
        lines += len(docs)
        progress.update(len(docs))
    return persons, lines


# -- import ------------------------------------------------------------------------


@dataclass
class ImportReport:
    """Counts of an import, and the message of each invalid line."""

    lines: int = 0
    written: int = 0
    new_persons: int = 0
    invalid: list[str] = field(default_factory=list)


def _parse_line(number: int, raw: bytes) -> tuple[str, str, str | None] | str:
    """Return (id, fields_json, updated_at) for a valid line, or an error message for an invalid one."""
    try:
        body = parse_json(raw.rstrip(b"\r\n"))
        person_id, fields, updated_at = validate_import(body)
    except InvalidJson as error:
        # The line is parsed alone, so "line 1" in the parser's message means this line.
        return f"line {number}: invalid JSON: {error.detail.replace('(line 1, column', '(column')}"
    except ValidationFailed as error:
        details = "; ".join(f"{item.pointer or '/'} {item.detail}" for item in error.errors)
        return f"line {number}: {details}"
    return person_id, encode_fields(fields), updated_at


def _numbered_lines(source: IO[bytes], progress: tqdm) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(source, start=1):
        progress.update(len(raw))
        if raw.strip():
            yield number, raw


class _Importer:
    """Write imported lines in batches; a person that existed before the import is never changed.

    The first line with an id creates that person, and later lines with the
    same id add versions to it. An id that is already in the store makes
    its lines invalid, so importing a file twice cannot add versions.
    """

    def __init__(self, store: PersonStore, on_error: str) -> None:
        self.store = store
        self.on_error = on_error
        self.report = ImportReport()
        self.batch: list[tuple[int, str, str, str]] = []
        self.created: set[str] = set()  # ids this import created
        self.refused: set[str] = set()  # ids that existed before it
        self.stopped = False

    def reject(self, message: str) -> None:
        self.report.invalid.append(message)
        print(message, file=sys.stderr)
        if self.on_error == "stop":
            self.stopped = True

    async def flush(self) -> None:
        """Write the batch up to the first line to refuse (under stop) or without those lines (under skip)."""
        unknown = sorted({person_id for _, person_id, _, _ in self.batch} - self.created - self.refused)
        self.refused |= await self.store.existing_ids(unknown) if unknown else set()
        records = []
        for number, person_id, fields_json, updated_at in self.batch:
            if person_id in self.refused:
                self.reject(f"line {number}: /id {person_id} already exists in the store; "
                            "import into an empty store, or remove the id to create a new person")
                if self.stopped:
                    break
                continue
            self.created.add(person_id)
            records.append((person_id, fields_json, updated_at))
        self.batch.clear()
        if records:
            versions = await self.store.import_versions(records)
            self.report.written += len(versions)
            self.report.new_persons += versions.count(1)


async def import_persons(store: PersonStore, source: IO[bytes], on_error: str, batch_size: int, progress: tqdm) -> ImportReport:
    """Validate each line and write valid ones in batches; stop or skip at invalid ones."""
    importer = _Importer(store, on_error)
    for number, raw in _numbered_lines(source, progress):
        importer.report.lines += 1
        parsed = _parse_line(number, raw)
        if isinstance(parsed, str):
            importer.reject(parsed)
        else:
            person_id, fields_json, updated_at = parsed
            importer.batch.append((number, person_id, fields_json, updated_at or utc_timestamp()))
        if importer.stopped:
            break
        if len(importer.batch) >= batch_size:
            await importer.flush()
            if importer.stopped:
                break
    await importer.flush()  # the lines before a stop are written too
    return importer.report


# -- running -----------------------------------------------------------------------


@contextlib.contextmanager
def _redis_url(settings: Settings) -> Iterator[str]:
    """Yield the URL of the configured Redis, starting the embedded one for the duration if needed."""
    if settings.redis_url is not None:
        yield settings.redis_url
        return
    embedded = EmbeddedRedis(settings.data_dir, settings.redis_fsync)
    embedded.start()
    try:
        yield embedded.url
    finally:
        embedded.stop()


@contextlib.contextmanager
def _open(path: str, mode: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdout.buffer if "w" in mode else sys.stdin.buffer
        return
    with open(path, mode) as file:
        yield file


async def _run(arguments: argparse.Namespace, settings: Settings, redis_url: str) -> int:
    store = PersonStore.from_url(redis_url, max(settings.redis_timeout, MIN_CLI_TIMEOUT))
    started = time.monotonic()
    show_progress = sys.stderr.isatty()
    try:
        if arguments.command == "export":
            with _open(arguments.file, "wb") as output, tqdm(unit=" lines", disable=not show_progress) as progress:
                persons, lines = await export_persons(store, output, arguments.all_versions, progress)
            target = "standard output" if arguments.file == "-" else arguments.file
            print(f"exported {persons} persons ({lines} lines) to {target} in {time.monotonic() - started:.1f} s",
                  file=sys.stderr)
            return 0

        total = None if arguments.file == "-" else Path(arguments.file).stat().st_size
        with _open(arguments.file, "rb") as source, tqdm(
            total=total, unit="B", unit_scale=True, disable=not show_progress
        ) as progress:
            report = await import_persons(store, source, arguments.on_error, arguments.batch_size, progress)
        stopped = " (stopped at the first invalid line)" if report.invalid and arguments.on_error == "stop" else ""
        print(
            f"imported {report.written} of {report.lines} lines "
            f"({report.new_persons} new person{'s' if report.new_persons != 1 else ''}) "
            f"from {arguments.file} in {time.monotonic() - started:.1f} s; "
            f"{len(report.invalid)} invalid{stopped}",
            file=sys.stderr,
        )
        return 1 if report.invalid else 0
    finally:
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if not 1 <= getattr(arguments, "batch_size", 1) <= MAX_BATCH_SIZE:
        parser.error(f"--batch-size must be from 1 to {MAX_BATCH_SIZE}")
    try:
        settings = settings_from_arguments(arguments)
    except ConfigError as error:
        print(f"personsvc: error: {error}", file=sys.stderr)
        return 2
    try:
        with _redis_url(settings) as redis_url:
            return asyncio.run(_run(arguments, settings, redis_url))
    except EmbeddedRedisError as error:
        print(f"personsvc: error: cannot start the embedded Redis: {error}", file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(f"personsvc: error: {error.filename}: no such file", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of standard output went away (as with `| head`); stop quietly.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 1
    except OSError as error:
        print(f"personsvc: error: {error.filename or arguments.file}: {error.strerror or error}", file=sys.stderr)
        return 1
    except REDIS_UNAVAILABLE as error:
        print(f"personsvc: error: Redis is unreachable or timed out: {error}", file=sys.stderr)
        return 1

