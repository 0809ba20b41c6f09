"""The partner request signature (see the partner API contract, "Signing every request").

String to sign: METHOD, PATH (with query string), TIMESTAMP, NONCE and the
lowercase hex SHA-256 of the raw body, joined with "\\n"; the signature is the
lowercase hex HMAC-SHA256 of it, keyed with the partner's secret.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

TIMESTAMP_WINDOW_SECONDS = 300
NONCE_PATTERN = re.compile(r"[A-Za-z0-9]{16,64}")
SIGNATURE_PATTERN = re.compile(r"[0-9a-f]{64}")
TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")  # fullmatch: no full-width digits, no trailing newline


class AuthFailure(Exception):
    """A request that fails authentication; ``code`` is the contract's 401 code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    partner_id: str | None
    timestamp: str | None
    nonce: str | None
    signature: str | None
    body: bytes


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def check_headers(request: SignedRequest, now: float) -> None:
    """Checks that need no secret: presence, formats and the timestamp window."""
    if not request.partner_id:
        raise AuthFailure("PARTNER_UNKNOWN", "X-Partner-Id is missing")
    if not request.signature or not SIGNATURE_PATTERN.fullmatch(request.signature):
        raise AuthFailure("SIGNATURE_INVALID", "X-Signature must be 64 lowercase hex characters")
    if not request.nonce or not NONCE_PATTERN.fullmatch(request.nonce):
        raise AuthFailure("SIGNATURE_INVALID", "X-Nonce must be 16 to 64 characters of [A-Za-z0-9]")
    if not request.timestamp or not TIMESTAMP_PATTERN.fullmatch(request.timestamp):
        raise AuthFailure("TIMESTAMP_EXPIRED", "X-Timestamp must be Unix time in seconds")
    if abs(now - int(request.timestamp)) > TIMESTAMP_WINDOW_SECONDS:
        raise AuthFailure("TIMESTAMP_EXPIRED", f"X-Timestamp is more than {TIMESTAMP_WINDOW_SECONDS} s from the server's clock")


def verify(request: SignedRequest, secret: str) -> None:
    assert request.timestamp is not None and request.nonce is not None and request.signature is not None
    expected = sign(secret, request.method, request.path, request.timestamp, request.nonce, request.body)
    if not hmac.compare_digest(expected, request.signature):
        raise AuthFailure("SIGNATURE_INVALID", "the signature does not match the request")
