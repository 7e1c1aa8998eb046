"""Opaque paging cursors: a position in the creation index, signed with the store's key.

A cursor is base64url of the creation sequence number to continue after (8
bytes) and the first 8 bytes of its HMAC-SHA256 under a key kept in Redis.
So a cursor made up by a client, or made by a server on another data
store, is rejected instead of being taken as a position.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct

from personsvc import errors

_ENCODED = re.compile(r"[A-Za-z0-9_-]{22}")
_SIGNATURE_BYTES = 8


def _signature(key: bytes, position: bytes) -> bytes:
    return hmac.new(key, b"cursor:" + position, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode_cursor(after_seq: int, key: bytes) -> str:
    """Encode the creation sequence number to continue after."""
    position = struct.pack(">Q", after_seq)
    return base64.urlsafe_b64encode(position + _signature(key, position)).decode().rstrip("=")


def decode_cursor(cursor: str, key: bytes) -> int:
    """Return the sequence number in ``cursor``, or raise 400 for a cursor this store did not make."""
    invalid = errors.BadRequest(
        f"invalid cursor {cursor[:80]!r}; use the cursor from the Link header of the previous page"
    )
    if not _ENCODED.fullmatch(cursor):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "==")
    except (binascii.Error, ValueError):
        raise invalid from None
    position, signature = raw[:8], raw[8:]
    if len(raw) != 16 or not hmac.compare_digest(signature, _signature(key, position)):
        raise invalid
    if encode_cursor(struct.unpack(">Q", position)[0], key) != cursor:
        raise invalid  # another spelling of the same bytes
    return struct.unpack(">Q", position)[0]
