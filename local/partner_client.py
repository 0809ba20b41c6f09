"""A partner's signed HTTP client, as a partner would write it from the contract."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests

from chalicelib.domain.signing import sign


@dataclass
class PartnerClient:
    base_url: str
    partner_id: str
    secret: str
    timeout: float = 10.0

    def headers(self, method: str, path: str, body: bytes, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16)
        return {
            "Content-Type": "application/json",
            "X-Partner-Id": self.partner_id,
            "X-Timestamp": ts,
            "X-Nonce": nonce,
            "X-Signature": sign(self.secret, method, path, ts, nonce, body),
        }

    def request(self, method: str, path: str, payload: Any = None) -> requests.Response:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return requests.request(
            method, self.base_url + path, data=body or None, headers=self.headers(method, path, body), timeout=self.timeout
        )

    def post(self, path: str, payload: Any) -> requests.Response:
        return self.request("POST", path, payload)

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)
