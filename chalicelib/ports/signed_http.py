"""A signed JSON POST to an outside system, as the bank's gateways expect it.

Headers ``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature`` (the hex
HMAC-SHA256 of the same string to sign as the partner API,
``chalicelib.domain.signing``) and ``X-Request-Id`` (the caller's idempotency
key). ``urllib3`` with no retries of its own (the workflows retry) and no
redirects. Failures come back as three exceptions that each port maps to its
own meaning.
"""
from __future__ import annotations

import secrets
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from chalicelib.domain.signing import sign_target


class Unreachable(Exception):
    """The connection could not be made (refused, reset, no route)."""


class NoAnswer(Exception):
    """No answer within the timeout."""


class Failed(Exception):
    """Any other transport failure."""


def endpoint(base_url: str, path: str, what: str = "base_url") -> str:
    """``base_url`` + ``path``, refusing anything but an http(s) URL without query or fragment."""
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{what} must be an http(s) URL without a query string")
    return base_url.rstrip("/") + path


class SignedPoster:
    def __init__(self, client_id: str, client_secret: str, http: Any = None, clock: Callable[[], float] = time.time):
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self.client_id = client_id
        self._secret = client_secret
        self._http = http
        self._clock = clock

    def __repr__(self) -> str:  # never the secret
        return f"SignedPoster(client_id={self.client_id!r})"

    def _pool(self) -> Any:
        if self._http is None:
            import urllib3

            self._http = urllib3.PoolManager(retries=False)
        return self._http

    def post(self, url: str, body: bytes, request_id: str, timeout_seconds: float) -> tuple[int, bytes]:
        """The answer's status and body; ``Unreachable``, ``NoAnswer`` or ``Failed`` otherwise."""
        import urllib3
        from urllib3.exceptions import HTTPError, NewConnectionError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        timestamp, nonce = str(int(self._clock())), secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "X-Client-Id": self.client_id,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": sign_target(self._secret, "POST", urlsplit(url).path, timestamp, nonce, body),
            "X-Request-Id": request_id,
        }
        try:
            response = self._pool().request(
                "POST", url, body=body, headers=headers,
                timeout=urllib3.Timeout(total=timeout_seconds), retries=False, redirect=False,
            )
        except NewConnectionError as exc:  # a subclass of ConnectTimeoutError: test it first
            raise Unreachable(type(exc).__name__) from None
        except Urllib3Timeout:
            raise NoAnswer(f"no answer within {timeout_seconds:g} s") from None
        except (HTTPError, OSError) as exc:
            raise Failed(type(exc).__name__) from None
        return response.status, response.data
