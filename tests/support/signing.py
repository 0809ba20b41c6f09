"""Signed requests for Chalice's test client, built the way the contract describes (over the canonical path and query)."""
from __future__ import annotations

import json
import secrets
import time
from typing import Any

from chalicelib.domain.signing import sign_target


def signed_headers(
    partner_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {
        "content-type": "application/json",
        "x-partner-id": partner_id,
        "x-timestamp": ts,
        "x-nonce": nonce,
        "x-signature": sign_target(secret, method, path, ts, nonce, body),
    }


def body_bytes(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode("utf-8")
