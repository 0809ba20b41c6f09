"""Funders (资金方) asked over an API whether they fund a loan.

A funder that does not answer within its timeout is a refusal: the caller
catches ``FunderTimeout`` and moves on (to the next funder, or refuses). The
caller reserves the funder's quota before asking and releases it on any
refusal.

Implementations of ``FunderGateway``:

- ``HttpFunderGateway``: each funder's endpoint, signed like the credit bureau
  gateway (``chalicelib.domain.signing``).
- ``SimulatedFunderGateway``: deterministic per (application, funder), with
  configurable approval rates, latencies and funders that always time out.

The funder interface (assumed)
------------------------------

``POST {base_url}/v1/funding-requests`` with a JSON body::

    {"request_id", "application_id", "amount": "12000.00", "term_months": 12,
     "annual_rate": "0.0720", "borrower_id_hash", "branch_code",
     "purpose": "LOAN" | "CREDIT_LINE" | "DRAWDOWN", "credit_line_id" (drawdowns)}

``purpose``: one loan (单笔单批), a revolving line of ``amount`` (授信), or a
drawdown of ``amount`` on a line the funder approved before (用信).

headers ``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature`` (as the
bureau gateway) and ``X-Request-Id`` (the same for the same application and
funder, so a funder answers a retry with its first answer). A 200 answers
``{"approved": true|false, "reference": "...", "reason": "..."}``.

=========================================  ===========================================
no answer within ``timeout_seconds``       ``FunderTimeout`` (the caller: a refusal)
5xx, connection refused or reset, 429      refusal, reason ``FUNDER_ERROR``
other 4xx                                  refusal, reason ``FUNDER_REJECTED``
a 200 that cannot be read, other status    refusal, reason ``FUNDER_ERROR``
=========================================  ===========================================
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping, Protocol

from chalicelib.domain.masking import scrub
from chalicelib.domain.money import format_amount, format_rate, to_fen
from chalicelib.ports.signed_http import Failed, NoAnswer, SignedPoster, Unreachable, endpoint

FUNDING_PATH = "/v1/funding-requests"
PURPOSES = ("LOAN", "CREDIT_LINE", "DRAWDOWN")
FUNDER_ERROR = "FUNDER_ERROR"
FUNDER_REJECTED = "FUNDER_REJECTED"
FUNDER_DECLINED = "FUNDER_DECLINED"


class FunderTimeout(Exception):
    """The funder did not answer in time: a refusal for the application."""


@dataclass(frozen=True)
class FundingRequest:
    application_id: str
    funder_code: str
    amount: Decimal
    term_months: int
    annual_rate: Decimal
    borrower_id_hash: str  # the keyed hash of the ID number, never the number
    branch_code: str
    purpose: str = "LOAN"  # LOAN (单笔单批), CREDIT_LINE (approve a line, 授信), DRAWDOWN (用信 on a line)
    credit_line_id: str | None = None  # the line a drawdown draws on

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise ValueError(f"purpose: must be one of {', '.join(PURPOSES)}")
        if (self.purpose == "DRAWDOWN") != (self.credit_line_id is not None):
            raise ValueError("credit_line_id: required for a DRAWDOWN and only for one")
        for name in ("application_id", "funder_code", "borrower_id_hash", "branch_code"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name}: must be a non-empty string")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount <= 0 or self.amount != to_fen(self.amount):
            raise ValueError("amount: must be a Decimal more than 0, exact to the fen")
        if isinstance(self.term_months, bool) or not isinstance(self.term_months, int) or not 1 <= self.term_months <= 600:
            raise ValueError("term_months: must be 1 to 600")
        if not isinstance(self.annual_rate, Decimal) or not self.annual_rate.is_finite() or not 0 <= self.annual_rate < 1:
            raise ValueError("annual_rate: must be a Decimal from 0 to under 1")

    def to_wire(self) -> dict[str, Any]:
        return {
            "request_id": request_id(self),
            "application_id": self.application_id,
            "amount": format_amount(self.amount),
            "term_months": self.term_months,
            "annual_rate": format_rate(self.annual_rate),
            "borrower_id_hash": self.borrower_id_hash,
            "branch_code": self.branch_code,
            "purpose": self.purpose,
            **({"credit_line_id": self.credit_line_id} if self.credit_line_id else {}),
        }


@dataclass(frozen=True)
class FundingAnswer:
    approved: bool
    reference: str | None = None  # the funder's reference of an approval
    reason: str | None = None  # why not, for a refusal


def request_id(request: FundingRequest) -> str:
    """The same for the same application and funder: the funder's idempotency key."""
    text = f"{request.application_id}\x00{request.funder_code}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class FunderGateway(Protocol):
    def ask(self, request: FundingRequest, timeout_seconds: float) -> FundingAnswer:
        """The funder's answer; ``FunderTimeout`` when it gives none in ``timeout_seconds``."""
        ...


def _check_timeout(timeout_seconds: Any) -> float:
    if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, (int, float)) or not timeout_seconds > 0:
        raise ValueError("timeout_seconds must be more than 0")
    return float(timeout_seconds)


# -- over HTTP ------------------------------------------------------------------------------------


class HttpFunderGateway:
    """Each funder's API over HTTP(S) with ``urllib3``; no retries of its own."""

    def __init__(
        self,
        base_urls: Mapping[str, str],
        client_id: str,
        client_secret: str,
        http: Any = None,
        clock: Callable[[], float] = time.time,
    ):
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self._urls = {code: endpoint(base_url, FUNDING_PATH, f"{code}: base_url") for code, base_url in base_urls.items()}
        self._poster = SignedPoster(client_id, client_secret, http, clock)

    def __repr__(self) -> str:  # never the secret
        return f"HttpFunderGateway({sorted(self._urls)!r}, client_id={self._poster.client_id!r})"

    def ask(self, request: FundingRequest, timeout_seconds: float) -> FundingAnswer:
        timeout = _check_timeout(timeout_seconds)
        url = self._urls.get(request.funder_code)
        if url is None:
            raise ValueError(f"no URL configured for funder {request.funder_code}")
        body = json.dumps(request.to_wire(), separators=(",", ":")).encode("utf-8")
        try:
            status, data = self._poster.post(url, body, request_id(request), timeout)
        except NoAnswer:
            raise FunderTimeout(f"funder {request.funder_code} gave no answer within {timeout:g} s") from None
        except (Unreachable, Failed):
            return FundingAnswer(False, reason=FUNDER_ERROR)
        return _answer(status, data)


def _answer(status: int, data: bytes) -> FundingAnswer:
    if 400 <= status < 500 and status != 429:
        return FundingAnswer(False, reason=FUNDER_REJECTED)
    if status != 200:
        return FundingAnswer(False, reason=FUNDER_ERROR)
    try:
        answer = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return FundingAnswer(False, reason=FUNDER_ERROR)
    if not isinstance(answer, dict) or not isinstance(answer.get("approved"), bool):
        return FundingAnswer(False, reason=FUNDER_ERROR)
    reference, reason = answer.get("reference"), answer.get("reason")
    reference = reference if isinstance(reference, str) and reference else None
    reason = scrub(reason)[:200] if isinstance(reason, str) and reason else None
    if answer["approved"]:
        if reference is None:  # an approval must be traceable at the funder
            return FundingAnswer(False, reason=FUNDER_ERROR)
        return FundingAnswer(True, reference=reference)
    return FundingAnswer(False, reason=reason or FUNDER_DECLINED)


# -- the simulator --------------------------------------------------------------------------------

_SALT = b"zhudai-funder-simulator\x00"
MAX_SIMULATED_SLEEP = 0.05  # seconds: the simulator never sleeps longer, whatever the latency


@dataclass
class SimulatedFunderGateway:
    """Deterministic per (application, funder, seed): the same request always gets the same answer.

    ``approval_rate``: one rate for all funders or one per funder code (a code not listed: 0.0).
    ``latency_seconds``: the simulated answer time per funder (0 when not listed): an answer
    slower than the caller's timeout is a ``FunderTimeout``. ``timeouts``: funders that never
    answer. Latency is simulated, not waited for: the simulator sleeps at most
    ``min(latency, timeout, max_sleep)`` (0 by default), so tests stay fast.
    """

    approval_rate: float | Mapping[str, float] = 0.8
    latency_seconds: Mapping[str, float] = field(default_factory=dict)
    timeouts: frozenset[str] | set[str] = frozenset()
    seed: str = "0"
    max_sleep: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    asked: list[FundingRequest] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        rates = self.approval_rate.values() if isinstance(self.approval_rate, Mapping) else [self.approval_rate]
        for rate in rates:
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError("an approval rate must be from 0 to 1")
        if any(not isinstance(v, (int, float)) or v < 0 for v in self.latency_seconds.values()):
            raise ValueError("a latency must be 0 seconds or more")
        if not 0 <= self.max_sleep <= MAX_SIMULATED_SLEEP:
            raise ValueError(f"max_sleep must be 0 to {MAX_SIMULATED_SLEEP} s")

    def _rate(self, funder_code: str) -> float:
        if isinstance(self.approval_rate, Mapping):
            return float(self.approval_rate.get(funder_code, 0.0))
        return float(self.approval_rate)

    def draw(self, request: FundingRequest) -> float:
        """The request's number in [0, 1): approved when it is below the funder's rate."""
        text = "\x00".join((self.seed, request.application_id, request.funder_code))
        digest = hashlib.sha256(_SALT + text.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def ask(self, request: FundingRequest, timeout_seconds: float) -> FundingAnswer:
        timeout = _check_timeout(timeout_seconds)
        with self._lock:
            self.asked.append(request)
        code = request.funder_code
        latency = float(self.latency_seconds.get(code, 0.0))
        never = code in self.timeouts
        waited = timeout if never else min(latency, timeout)
        if self.max_sleep and waited:
            self.sleep(min(waited, self.max_sleep))
        if never or latency > timeout:
            raise FunderTimeout(f"simulated funder {code}: no answer within {timeout:g} s")
        rid = request_id(request)
        if self.draw(request) < self._rate(code):
            return FundingAnswer(True, reference=f"SIM-{code}-{rid[:16].upper()}")
        return FundingAnswer(False, reason=FUNDER_DECLINED)
