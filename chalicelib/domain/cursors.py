"""Opaque cursors: a position in a list or a scan, as JSON in unpadded base64url.

``encode`` and ``decode`` only wrap and unwrap; what a position may hold, and
whether it belongs to the list it is given to, each list checks itself.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


def encode(position: Any) -> str:
    text = json.dumps(position, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode(cursor: Any, max_length: int) -> Any:
    """The position ``encode`` made; ``ValueError`` for anything that is not such a cursor."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= max_length or not _ALPHABET.fullmatch(cursor):
        raise ValueError("not a cursor")
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor") from exc
