"""Run the hostile-input corpus against a live service, then check it is unharmed."""

from __future__ import annotations

import socket
import time

import pytest

from tests.hostile.corpus import CASES, CLOSED, VALID, Case
from tests.service import Service

# Small limits, so that each case hits its limit quickly.
SERVICE_FLAGS = (
    "--max-body-size", "1048576", "--max-bulk-size", "100", "--idle-timeout", "2", "--body-timeout", "2",
)


def send_case(port: int, case: Case, person_id: str) -> bytes:
    """Send one case on a fresh connection and return everything the server sent before closing."""
    pieces = case.pieces or (case.request,)
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(case.pause)
            try:
                sock.sendall(piece.replace(b"PERSON", person_id.encode()))
            except OSError:
                break  # the server closed the connection, as it may for an oversized request
        if case.pieces:
            time.sleep(case.pause)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return received


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = Service(tmp_path_factory.mktemp("hostile") / "data", *SERVICE_FLAGS)
    yield running
    running.terminate()


@pytest.fixture(scope="module")
def person_id(service):
    status, person = service.request("POST", "/persons", VALID)
    assert status == 201
    return person["id"]


def test_corpus_has_at_least_60_cases():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_request(service, person_id, case):
    received = send_case(service.port, case, person_id)

    if case.expected == CLOSED:
        assert received == b"", received[:200]
        return
    assert received, "the server closed the connection without a response"
    status_line, _, rest = received.partition(b"\r\n")
    assert int(status_line.split(b" ")[1]) == case.expected, received[:300]
    headers = rest.partition(b"\r\n\r\n")[0].lower()
    if case.expected >= 400:
        assert b"content-type: application/problem+json" in headers, received[:300]


def test_service_unharmed_after_corpus(service, person_id):
    # Runs after the parametrized cases, in file order.
    status, person = service.request("GET", f"/persons/{person_id}")
    assert status == 200
    assert person["id"] == person_id
    assert service.request("POST", "/persons", VALID)[0] == 201
    log = service.log
    assert "Traceback" not in log
    assert "Uncaught exception" not in log
    assert "unexpected error" not in log
