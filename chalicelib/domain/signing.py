"""The partner request signature (see the partner API contract, "Signing every request").

String to sign: METHOD, the canonical path and query
(``chalicelib.domain.canonical_request``), TIMESTAMP, NONCE and the lowercase hex
SHA-256 of the raw body, joined with "\\n"; the signature is the lowercase hex
HMAC-SHA256 of it, keyed with the partner's secret. Until
``canonical_request.AS_SENT_ACCEPTED_UNTIL`` a signature over the path and query
as sent verifies as well (``SignedRequest.as_sent``).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.domain.canonical_request import AS_SENT_ACCEPTED_UNTIL, canonical_target

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
    path: str  # the canonical path and query
    partner_id: str | None
    timestamp: str | None
    nonce: str | None
    signature: str | None
    body: bytes
    as_sent: tuple[str, ...] = ()  # the other spellings of the same path and query, accepted until the transition's end


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_target(secret: str, method: str, target: str, timestamp: str, nonce: str, body: bytes) -> str:
    """A client's signature of a request to ``target``, its path and query as it sends them: over their canonical form."""
    return sign(secret, method, canonical_target(target), timestamp, nonce, body)


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


def accepts_as_sent(now: float) -> bool:
    """Whether a signature over the path and query as sent still verifies (the server's UTC date)."""
    return datetime.fromtimestamp(now, timezone.utc).date().isoformat() <= AS_SENT_ACCEPTED_UNTIL


def verify(request: SignedRequest, secret: str, now: float) -> None:
    """The signature is over the canonical path and query (or, until the transition's end, as sent)."""
    assert request.timestamp is not None and request.nonce is not None and request.signature is not None
    paths = (request.path, *request.as_sent) if accepts_as_sent(now) else (request.path,)
    matches = [hmac.compare_digest(sign(secret, request.method, path, request.timestamp, request.nonce, request.body), request.signature) for path in paths]
    if not any(matches):
        raise AuthFailure(
            "SIGNATURE_INVALID", f"the signature does not match the request (the canonical path and query signed: {request.path})"
        )
