"""Opaque paging cursors: a position in the creation index, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import re

from personsvc import errors

_PREFIX = "p1:"
_DECODED = re.compile(r"p1:(0|[1-9][0-9]{0,15})")
_ENCODED = re.compile(r"[A-Za-z0-9_-]{1,64}")


def encode_cursor(after_seq: int) -> str:
    """Encode the creation sequence number to continue after."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{after_seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the sequence number in ``cursor``, or raise 400 for anything not made by encode_cursor."""
    invalid = errors.BadRequest(
        f"invalid cursor {cursor[:80]!r}; use the cursor from the Link header of the previous page"
    )
    if not _ENCODED.fullmatch(cursor):
        raise invalid
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid from None
    match = _DECODED.fullmatch(decoded)
    if match is None or encode_cursor(int(match.group(1))) != cursor:
        raise invalid
    return int(match.group(1))
