"""Request ids: "req_" + 26 Crockford base32 characters (48-bit ms time + 80 random bits)."""

from __future__ import annotations

import os
import re
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REQUEST_ID_PATTERN = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")


def new_request_id() -> str:
    """A time-sortable, unguessable request id."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(ALPHABET[index])
    return "req_" + "".join(reversed(chars))


def is_request_id(value: str) -> bool:
    """True when ``value`` has the request id format."""
    return REQUEST_ID_PATTERN.match(value) is not None
