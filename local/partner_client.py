"""A partner's signed HTTP client, as a partner would write it from the contract.

``PartnerSignature`` signs a request as ``requests`` is about to send it: its method,
the canonical form of its path and query exactly as they go on the wire
(``chalicelib.domain.canonical_request``), and its body's bytes. ``PartnerClient``,
the demo, the end-to-end tests and the API fuzzer's hook all sign with it.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests

from chalicelib.domain.signing import sign_target


@dataclass
class PartnerSignature(requests.auth.AuthBase):
    """The contract's four headers on a prepared request (``requests``' auth hook)."""

    partner_id: str
    secret: str
    clock: Callable[[], float] = time.time

    def headers(self, method: str, target: str, body: bytes, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(int(self.clock()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16)
        return {
            "X-Partner-Id": self.partner_id,
            "X-Timestamp": ts,
            "X-Nonce": nonce,
            "X-Signature": sign_target(self.secret, method, target, ts, nonce, body),
        }

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode("utf-8") if isinstance(body, str) else body
        request.headers.update(self.headers(request.method or "GET", request.path_url, body))
        return request


@dataclass
class PartnerClient:
    base_url: str
    partner_id: str
    secret: str
    timeout: float = 10.0

    @property
    def signature(self) -> PartnerSignature:
        return PartnerSignature(self.partner_id, self.secret)

    def headers(self, method: str, path: str, body: bytes, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        """The headers of a request to ``path`` (its path and query as sent) with ``body``."""
        return {"Content-Type": "application/json", **self.signature.headers(method, path, body, timestamp, nonce)}

    def request(self, method: str, path: str, payload: Any = None, params: Any = None) -> requests.Response:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return requests.request(
            method, self.base_url + path, data=body or None, params=params, auth=self.signature,
            headers={"Content-Type": "application/json"}, timeout=self.timeout,
        )

    def post(self, path: str, payload: Any) -> requests.Response:
        return self.request("POST", path, payload)

    def get(self, path: str, params: Any = None) -> requests.Response:
        return self.request("GET", path, params=params)
