"""python -m personsvc export and import, against the session's Redis."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADA

ROOT = Path(__file__).resolve().parent.parent
PERSON_ID = "0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10"


def run_cli(redis_server, *arguments: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "personsvc", *arguments, "--redis-url", redis_server.url],
        cwd=ROOT, input=stdin, capture_output=True, timeout=60,
    )


def write_lines(path: Path, *lines: object) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def exported(redis_server, *flags: str) -> list[dict]:
    result = run_cli(redis_server, "export", "-", *flags)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_import_then_export(redis_server, redis_sync, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", ADA, {**ADA, "first_name": "Bob"}, "", {**ADA, "age": 9})

    result = run_cli(redis_server, "import", str(source))

    assert result.returncode == 0, result.stderr
    assert "imported 3 of 3 lines (3 new persons)" in result.stderr.decode()
    persons = exported(redis_server)
    assert [person["first_name"] for person in persons] == ["Ada", "Bob", "Ada"]
    assert [person["version"] for person in persons] == [1, 1, 1]


def test_import_stops_at_invalid_line(redis_server, redis_sync, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", ADA, {**ADA, "age": 200}, ADA)

    result = run_cli(redis_server, "import", str(source))

    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert "line 2: /age must be from 0 to 150, got 200" in stderr
    assert "stopped at the first invalid line" in stderr
    assert len(exported(redis_server)) == 1


def test_import_skips_invalid_lines(redis_server, redis_sync, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", "{broken", ADA, {**ADA, "email": "x"}, ADA)

    result = run_cli(redis_server, "import", str(source), "--on-error", "skip")

    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert "line 1: invalid JSON" in stderr
    assert "line 3: /email" in stderr
    assert "imported 2 of 4 lines" in stderr
    assert len(exported(redis_server)) == 2


def test_import_keeps_ids_and_history(redis_server, redis_sync, tmp_path):
    first = {**ADA, "id": PERSON_ID.upper(), "version": 1, "updated_at": "2020-01-01T00:00:00.000Z"}
    second = {**ADA, "id": PERSON_ID, "version": 2, "age": 40}
    source = write_lines(tmp_path / "in.jsonl", first, second)

    assert run_cli(redis_server, "import", str(source)).returncode == 0

    history = exported(redis_server, "--all-versions")
    assert [(person["id"], person["version"], person["age"]) for person in history] == [
        (PERSON_ID, 1, 36),
        (PERSON_ID, 2, 40),
    ]
    assert history[0]["updated_at"] == "2020-01-01T00:00:00.000Z"
    assert history[1]["updated_at"] > "2026"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({**ADA, "updated_at": "2026-99-99T99:99:99.999Z"}, "line 1: /updated_at must be an RFC 3339 UTC time"),
        ({**ADA, "updated_at": 5}, "line 1: /updated_at must be"),
        ({**ADA, "id": "00000000-0000-0000-0000-000000000000"}, "line 1: /id must be a version 4 UUID"),
        ({**ADA, "id": "12345678-1234-1234-1234-123456789abc"}, "line 1: /id must be a version 4 UUID"),
        ({**ADA, "id": "nope"}, "line 1: /id must be a UUID"),
    ],
)
def test_import_rejects_bad_ids_and_times(redis_server, redis_sync, tmp_path, line, message):
    result = run_cli(redis_server, "import", str(write_lines(tmp_path / "in.jsonl", line)))
    assert result.returncode == 1
    assert message in result.stderr.decode()
    assert redis_sync.dbsize() == 0


def test_import_error_names_column_not_inner_line(redis_server, redis_sync, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", ADA, "{broken")
    result = run_cli(redis_server, "import", str(source))
    assert "line 2: invalid JSON: Expecting property name enclosed in double quotes (column 2)" in result.stderr.decode()


def test_export_import_round_trip(redis_server, redis_sync, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", *({**ADA, "age": index % 151} for index in range(1200)))
    assert run_cli(redis_server, "import", str(source), "--batch-size", "250").returncode == 0
    dump = tmp_path / "dump.jsonl"
    assert run_cli(redis_server, "export", str(dump), "--all-versions").returncode == 0
    before = dump.read_text()

    redis_sync.flushdb()
    assert run_cli(redis_server, "import", str(dump)).returncode == 0

    assert run_cli(redis_server, "export", str(dump), "--all-versions").returncode == 0
    assert dump.read_text() == before
    assert len(before.splitlines()) == 1200


def test_reimport_into_same_store_changes_nothing(redis_server, redis_sync, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", {**ADA, "id": PERSON_ID}, {**ADA, "id": PERSON_ID, "age": 50})
    assert run_cli(redis_server, "import", str(source)).returncode == 0
    before = exported(redis_server, "--all-versions")

    again = run_cli(redis_server, "import", str(source), "--on-error", "skip")

    assert again.returncode == 1
    assert f"line 1: /id {PERSON_ID} already exists in the store" in again.stderr.decode()
    assert f"line 2: /id {PERSON_ID} already exists in the store" in again.stderr.decode()
    assert exported(redis_server, "--all-versions") == before


def test_import_stops_at_existing_id(redis_server, redis_sync, tmp_path):
    assert run_cli(redis_server, "import", "-", stdin=(json.dumps({**ADA, "id": PERSON_ID}) + "\n").encode()).returncode == 0
    source = write_lines(tmp_path / "in.jsonl", ADA, {**ADA, "id": PERSON_ID}, {**ADA, "first_name": "Late"})

    result = run_cli(redis_server, "import", str(source))

    assert result.returncode == 1
    names = [person["first_name"] for person in exported(redis_server)]
    assert names == ["Ada", "Ada"]


def test_import_from_standard_input(redis_server, redis_sync):
    result = run_cli(redis_server, "import", "-", stdin=(json.dumps(ADA) + "\n").encode())
    assert result.returncode == 0
    assert len(exported(redis_server)) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["import", "/nonexistent.jsonl"], "no such file"),
        (["import", "-", "--batch-size", "0"], "--batch-size must be from 1 to 5000"),
        (["import", "-", "--batch-size", "5001"], "--batch-size must be from 1 to 5000"),
        (["import", "/tmp"], "Is a directory"),
        (["export", "/proc/version"], "personsvc: error:"),
        (["export", "-", "--redis-timeout", "-1"], "invalid value for redis_timeout"),
    ],
)
def test_cli_errors_are_messages(redis_server, arguments, message):
    result = run_cli(redis_server, *arguments)
    assert result.returncode in (1, 2)
    assert message in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def test_unreachable_redis_is_message(tmp_path):
    from tests.conftest import free_port

    result = subprocess.run(
        [sys.executable, "-m", "personsvc", "export", "-", "--redis-url", f"redis://127.0.0.1:{free_port()}/0"],
        cwd=ROOT, capture_output=True, timeout=60,
    )
    assert result.returncode == 1
    assert b"Redis is unreachable" in result.stderr
    assert b"Traceback" not in result.stderr
