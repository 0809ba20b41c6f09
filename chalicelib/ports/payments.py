"""The payment gateway (支付通道) that disburses loans to the borrower's bank card.

A payment moves money: it must happen at most once. The caller derives each
order's ``payment_id`` from the loan and the gateway never pays the same id
twice, so asking again with the same id is always safe. What is *not* safe is
taking an unknown outcome for a failure and paying again under a new id. Hence
three kinds of answer:

- a known outcome: ``PAID`` (with the gateway's trade number) or ``FAILED``
  (nothing moved; a reason such as ``CARD_INVALID``);
- an unknown outcome: ``PROCESSING`` from ``pay`` or ``PaymentTimeout`` (no
  answer in time; money may have moved). The caller must ``query`` (or ``pay``
  again with the same id), never pay under a new id;
- ``GatewayUnavailable``: the request certainly did not reach the gateway
  (connection refused, no route), or a read-only call (``query``,
  ``check_card``) got no usable answer: safe to retry the same call.

Implementations of ``PaymentGateway``:

- ``HttpPaymentGateway``: the bank's payment gateway, signed like the credit
  bureau gateway (``chalicelib.ports.signed_http``).
- ``SimulatedPaymentGateway``: deterministic and in memory, with a platform
  balance and card behaviours chosen by the card's last 4 digits
  (``card_ending`` makes such cards).

The gateway interface (assumed)
-------------------------------

Every call is a signed ``POST`` with headers ``X-Client-Id``, ``X-Timestamp``,
``X-Nonce``, ``X-Signature`` (as the bureau gateway) and ``X-Request-Id``: the
``payment_id`` for ``pay`` and ``query`` (the gateway's idempotency key: a
second ``pay`` with the same id answers the first one's outcome), a fresh
random id for a card check.

``POST {base_url}/v1/card-verifications`` (实名鉴权) with
``{"card_number", "account_name", "bank_name"}``: a 200 answers
``{"valid": true|false, "reason": "CARD_INVALID" | "CARD_FROZEN" | "NAME_MISMATCH" | ...}``.

``POST {base_url}/v1/payments`` (代付) with ``PaymentOrder.to_wire()``::

    {"payment_id", "loan_id", "branch_code", "amount": "12000.00", "currency": "CNY",
     "purpose": "DISBURSEMENT", "payee": {"card_number", "account_name", "bank_name"}}

``POST {base_url}/v1/payments/query`` with ``{"payment_id"}``. Both answer with
a 200 ``{"payment_id", "status": "PAID" | "FAILED" | "PROCESSING", "reference"
(the trade number, when PAID), "reason" (when FAILED), "paid_at" (ISO 8601,
when PAID)}``; a query of an id the gateway never received answers 404 (or a
200 with status ``NOT_FOUND``).

How the client maps answers:

================================================  ===============================  ======================  =============================
the gateway's answer                              ``pay``                          ``query``               ``check_card``
================================================  ===============================  ======================  =============================
no answer within ``timeout_seconds``              ``PaymentTimeout``               ``PaymentTimeout``      ``PaymentTimeout``
connection refused, no route                      ``GatewayUnavailable``           ``GatewayUnavailable``  ``GatewayUnavailable``
other transport failure (reset, ...)              ``PROCESSING``                   ``GatewayUnavailable``  ``GatewayUnavailable``
5xx, 429, another non-4xx status                  ``PROCESSING``                   ``GatewayUnavailable``  ``GatewayUnavailable``
a 200 that cannot be read (or is for another id)  ``PROCESSING``                   ``GatewayUnavailable``  ``GatewayUnavailable``
a 200 ``PAID`` without a reference                ``PROCESSING``                   ``PROCESSING``          -
404                                               ``FAILED`` ``GATEWAY_REJECTED``  ``NOT_FOUND``           invalid, ``GATEWAY_REJECTED``
409 (the id is held already)                      ``PROCESSING``                   ``GatewayUnavailable``  invalid, ``GATEWAY_REJECTED``
other 4xx                                         ``FAILED`` ``GATEWAY_REJECTED``  ``GatewayUnavailable``  invalid, ``GATEWAY_REJECTED``
================================================  ===============================  ======================  =============================

``pay`` never answers ``FAILED`` unless the gateway said so or refused the
request outright (a 4xx): an unknown outcome is ``PROCESSING``. A 409 is not
taken for a refusal: it may mean the gateway already holds (and paid) the id.
A ``PAID`` must be traceable, so one without a trade number is ``PROCESSING``
until a query brings it. Reasons from the gateway go through ``scrub`` and are
cut to 200 characters. ``check_card`` answers a card number that fails the Luhn
check as invalid (``CARD_INVALID``) without asking the gateway.

The simulator's card behaviours
-------------------------------

``SimulatedPaymentGateway.card_rules`` maps a card's last 4 digits to one of:

========================  ====================  ===============================================================
behaviour                 ``check_card``        ``pay`` / ``query``
========================  ====================  ===============================================================
(none)                    valid                 ``PAID`` (the platform balance allowing)
``CARD_INVALID``          ``CARD_INVALID``      ``FAILED`` ``CARD_INVALID``
``CARD_FROZEN``           ``CARD_FROZEN``       ``FAILED`` ``CARD_FROZEN``
``NAME_MISMATCH``         ``NAME_MISMATCH``     ``FAILED`` ``NAME_MISMATCH``
``DECLINED``              valid                 ``FAILED`` ``DECLINED``
``TIMEOUT_THEN_PAID``     valid                 the first ``pay`` pays but raises ``PaymentTimeout``; then ``PAID``
``TIMEOUT_NOT_RECEIVED``  valid                 ``pay`` raises ``PaymentTimeout``, nothing recorded; query ``NOT_FOUND``
``UNKNOWN_THEN_PAID``     valid                 ``pay`` pays and answers ``PROCESSING``; ``PAID`` after ``pending_queries`` queries
``UNKNOWN_THEN_FAILED``   valid                 ``pay`` answers ``PROCESSING``, nothing moves; then ``FAILED`` ``DECLINED``
``GATEWAY_DOWN``          valid                 ``pay`` raises ``GatewayUnavailable``, nothing recorded
========================  ====================  ===============================================================

A card that fails the Luhn check is ``CARD_INVALID`` whatever the rules. A
payment above the platform balance left is ``FAILED``
``INSUFFICIENT_PLATFORM_FUNDS``. Like the real gateway, a payment id is used up
once the gateway has recorded it, even by a ``FAILED``: paying again after a
failure takes a new id.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Mapping, Protocol

from chalicelib.domain.identity import luhn_valid
from chalicelib.domain.masking import mask_name, scrub
from chalicelib.domain.money import format_amount, to_fen
from chalicelib.ports.signed_http import Failed, NoAnswer, SignedPoster, Unreachable, endpoint

CARD_VERIFICATION_PATH = "/v1/card-verifications"
PAYMENT_PATH = "/v1/payments"
QUERY_PATH = "/v1/payments/query"
CURRENCY = "CNY"

CARD_INVALID = "CARD_INVALID"
CARD_FROZEN = "CARD_FROZEN"
NAME_MISMATCH = "NAME_MISMATCH"
DECLINED = "DECLINED"
INSUFFICIENT_PLATFORM_FUNDS = "INSUFFICIENT_PLATFORM_FUNDS"
GATEWAY_REJECTED = "GATEWAY_REJECTED"

MAX_REASON = 200
MAX_REFERENCE = 128

# Printable ASCII without spaces: the id travels in the X-Request-Id header.
_PAYMENT_ID = re.compile(r"[!-~]{1,128}")
_PURPOSE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")
_CARD_TEXT = re.compile(r"[0-9]{13,19}")
_LAST4 = re.compile(r"[0-9]{4}")


class PaymentTimeout(Exception):
    """No answer in time: the outcome is unknown (money may have moved). Query, never pay anew."""


class GatewayUnavailable(Exception):
    """The request certainly did not reach the gateway, or a read-only call got no usable answer:
    safe to retry the same call."""


class PaymentStatus(str, Enum):
    PAID = "PAID"
    FAILED = "FAILED"
    PROCESSING = "PROCESSING"  # accepted, the outcome not known yet: query
    NOT_FOUND = "NOT_FOUND"  # (query only) the gateway never received the id


def _non_empty(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: must be a non-empty string")


def check_payment_id(payment_id: Any) -> str:
    if not isinstance(payment_id, str) or not _PAYMENT_ID.fullmatch(payment_id):
        raise ValueError("payment_id: must be 1 to 128 printable ASCII characters without spaces")
    return payment_id


def mask_card_tail(card_number: str) -> str:
    """Only the last 4 digits: "6222020200112233446" -> "***************3446"."""
    text = str(card_number)
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


@dataclass(frozen=True, repr=False)
class Payee:
    """Whom a payment goes to. ``card_number``: 13 to 19 digits (the Luhn check is the gateway's)."""

    card_number: str
    account_name: str
    bank_name: str

    def __post_init__(self) -> None:
        if not isinstance(self.card_number, str) or not _CARD_TEXT.fullmatch(self.card_number):
            raise ValueError("card_number: must be 13 to 19 digits")
        _non_empty(self.account_name, "account_name")
        _non_empty(self.bank_name, "bank_name")

    def __repr__(self) -> str:  # never the card number or the name in a log or a traceback
        return (
            f"Payee(card_number={mask_card_tail(self.card_number)!r}, "
            f"account_name={mask_name(self.account_name)!r}, bank_name={self.bank_name!r})"
        )

    @property
    def last4(self) -> str:
        return self.card_number[-4:]

    def to_wire(self) -> dict[str, str]:
        return {"card_number": self.card_number, "account_name": self.account_name, "bank_name": self.bank_name}


@dataclass(frozen=True, repr=False)
class PaymentOrder:
    payment_id: str  # the idempotency key, derived by the caller from the loan
    loan_id: str
    branch_code: str
    amount: Decimal  # yuan, more than 0, exact to the fen
    payee: Payee
    purpose: str = "DISBURSEMENT"

    def __post_init__(self) -> None:
        check_payment_id(self.payment_id)
        for name in ("loan_id", "branch_code"):
            _non_empty(getattr(self, name), name)
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount <= 0 or self.amount != to_fen(self.amount):
            raise ValueError("amount: must be a Decimal more than 0, exact to the fen")
        if not isinstance(self.payee, Payee):
            raise ValueError("payee: must be a Payee")
        if not isinstance(self.purpose, str) or not _PURPOSE.fullmatch(self.purpose):
            raise ValueError("purpose: must be an upper-case code such as DISBURSEMENT")

    def __repr__(self) -> str:  # the payee masks itself
        return (
            f"PaymentOrder(payment_id={self.payment_id!r}, loan_id={self.loan_id!r}, branch_code={self.branch_code!r}, "
            f"amount={format_amount(self.amount)!r}, payee={self.payee!r}, purpose={self.purpose!r})"
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "loan_id": self.loan_id,
            "branch_code": self.branch_code,
            "amount": format_amount(self.amount),
            "currency": CURRENCY,
            "purpose": self.purpose,
            "payee": self.payee.to_wire(),
        }


@dataclass(frozen=True)
class CardCheck:
    valid: bool
    reason: str | None = None  # why not: CARD_INVALID, CARD_FROZEN, NAME_MISMATCH, GATEWAY_REJECTED, ...


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    status: PaymentStatus
    reference: str | None = None  # the gateway's trade number, when PAID
    reason: str | None = None  # the failure code, when FAILED
    paid_at: str | None = None  # ISO 8601, when PAID


class PaymentGateway(Protocol):
    def check_card(self, payee: Payee, timeout_seconds: float) -> CardCheck:
        """Whether the card can take a payment; ``PaymentTimeout`` or ``GatewayUnavailable`` otherwise."""
        ...

    def pay(self, order: PaymentOrder, timeout_seconds: float) -> PaymentResult:
        """``PAID``, ``FAILED`` or ``PROCESSING`` (outcome not known yet: query);
        ``PaymentTimeout`` (outcome unknown: query) or ``GatewayUnavailable`` (not sent: retry)."""
        ...

    def query(self, payment_id: str, timeout_seconds: float) -> PaymentResult:
        """``PAID``, ``FAILED``, ``PROCESSING`` or ``NOT_FOUND`` (never received)."""
        ...


def _check_timeout(timeout_seconds: Any) -> float:
    if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, (int, float)) or not timeout_seconds > 0:
        raise ValueError("timeout_seconds must be more than 0")
    return float(timeout_seconds)


def _check_payee(payee: Any) -> Payee:
    if not isinstance(payee, Payee):
        raise ValueError("payee: must be a Payee")
    return payee


def _check_order(order: Any) -> PaymentOrder:
    if not isinstance(order, PaymentOrder):
        raise ValueError("order: must be a PaymentOrder")
    return order


def _reason(value: Any) -> str | None:
    return scrub(value)[:MAX_REASON] if isinstance(value, str) and value.strip() else None


# -- over HTTP ------------------------------------------------------------------------------------


class HttpPaymentGateway:
    """The bank's payment gateway over HTTP(S) with ``urllib3``; no retries of its own."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        http: Any = None,
        clock: Callable[[], float] = time.time,
    ):
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self._card_url = endpoint(base_url, CARD_VERIFICATION_PATH)
        self._pay_url = endpoint(base_url, PAYMENT_PATH)
        self._query_url = endpoint(base_url, QUERY_PATH)
        self._base_url = base_url.rstrip("/")
        self._poster = SignedPoster(client_id, client_secret, http, clock)

    def __repr__(self) -> str:  # never the secret
        return f"HttpPaymentGateway({self._base_url!r}, client_id={self._poster.client_id!r})"

    def _post(self, url: str, payload: dict[str, Any], request_id: str, timeout: float) -> tuple[int, bytes]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            return self._poster.post(url, body, request_id, timeout)
        except NoAnswer:
            raise PaymentTimeout(f"the payment gateway gave no answer within {timeout:g} s") from None

    def check_card(self, payee: Payee, timeout_seconds: float) -> CardCheck:
        timeout = _check_timeout(timeout_seconds)
        payee = _check_payee(payee)
        if not luhn_valid(payee.card_number):
            return CardCheck(False, CARD_INVALID)  # mistyped: no need to ask
        try:
            status, data = self._post(self._card_url, payee.to_wire(), secrets.token_hex(16), timeout)
        except (Unreachable, Failed) as exc:
            raise GatewayUnavailable(f"card check: {type(exc).__name__}: {exc}") from None
        if _refused(status):
            return CardCheck(False, GATEWAY_REJECTED)
        answer = _json(data) if status == 200 else None
        if answer is None or not isinstance(answer.get("valid"), bool):
            raise GatewayUnavailable(f"card check: no usable answer (HTTP {status})")
        if answer["valid"]:
            return CardCheck(True)
        return CardCheck(False, _reason(answer.get("reason")) or CARD_INVALID)

    def pay(self, order: PaymentOrder, timeout_seconds: float) -> PaymentResult:
        timeout = _check_timeout(timeout_seconds)
        order = _check_order(order)
        unknown = PaymentResult(order.payment_id, PaymentStatus.PROCESSING)
        try:
            status, data = self._post(self._pay_url, order.to_wire(), order.payment_id, timeout)
        except Unreachable as exc:
            raise GatewayUnavailable(f"payment {order.payment_id}: {exc} (not sent)") from None
        except Failed:  # it may have reached the gateway: the outcome is unknown
            return unknown
        if _refused(status) and status != 409:
            return PaymentResult(order.payment_id, PaymentStatus.FAILED, reason=GATEWAY_REJECTED)
        if status != 200:
            return unknown
        result = _result(order.payment_id, data, query=False)
        return result if result is not None else unknown

    def query(self, payment_id: str, timeout_seconds: float) -> PaymentResult:
        timeout = _check_timeout(timeout_seconds)
        check_payment_id(payment_id)
        try:
            status, data = self._post(self._query_url, {"payment_id": payment_id}, payment_id, timeout)
        except (Unreachable, Failed) as exc:
            raise GatewayUnavailable(f"payment query {payment_id}: {type(exc).__name__}") from None
        if status == 404:
            return PaymentResult(payment_id, PaymentStatus.NOT_FOUND)
        result = _result(payment_id, data, query=True) if status == 200 else None
        if result is None:
            raise GatewayUnavailable(f"payment query {payment_id}: no usable answer (HTTP {status})")
        return result


def _refused(status: int) -> bool:
    return 400 <= status < 500 and status != 429


def _json(data: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return answer if isinstance(answer, dict) else None


def _iso_time(value: Any) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return None
    return value


def _result(payment_id: str, data: bytes, query: bool) -> PaymentResult | None:
    """The answer to a 200 for ``payment_id``; ``None`` when it cannot be read."""
    answer = _json(data)
    if answer is None:
        return None
    if "payment_id" in answer and answer["payment_id"] != payment_id:  # an answer about another payment
        return None
    allowed = ("PAID", "FAILED", "PROCESSING", "NOT_FOUND") if query else ("PAID", "FAILED", "PROCESSING")
    status = answer.get("status")
    if not isinstance(status, str) or status not in allowed:
        return None
    if status == "PAID":
        reference = answer.get("reference")
        if not isinstance(reference, str) or not reference.strip() or len(reference) > MAX_REFERENCE:
            return PaymentResult(payment_id, PaymentStatus.PROCESSING)  # a payment must be traceable
        return PaymentResult(payment_id, PaymentStatus.PAID, reference=reference, paid_at=_iso_time(answer.get("paid_at")))
    if status == "FAILED":
        return PaymentResult(payment_id, PaymentStatus.FAILED, reason=_reason(answer.get("reason")) or DECLINED)
    return PaymentResult(payment_id, PaymentStatus(status))


# -- the simulator --------------------------------------------------------------------------------

BEHAVIOURS = (
    CARD_INVALID,
    CARD_FROZEN,
    NAME_MISMATCH,
    DECLINED,
    "TIMEOUT_THEN_PAID",
    "TIMEOUT_NOT_RECEIVED",
    "UNKNOWN_THEN_PAID",
    "UNKNOWN_THEN_FAILED",
    "GATEWAY_DOWN",
)
_CARD_REFUSALS = (CARD_INVALID, CARD_FROZEN, NAME_MISMATCH)  # the card check already says no


def card_ending(last4: str, prefix: str = "622202") -> str:
    """A 19-digit card number that passes the Luhn check and ends in ``last4``.

    ``prefix`` (the BIN), then zeros, one of which is set to make the check digit right.
    """
    if not isinstance(last4, str) or not _LAST4.fullmatch(last4):
        raise ValueError("last4: must be 4 digits")
    if not isinstance(prefix, str) or not re.fullmatch(r"[0-9]{1,14}", prefix):
        raise ValueError("prefix: must be 1 to 14 digits")
    middle = 19 - len(prefix) - 4
    for digit in "0123456789":  # each value of one digit gives a different Luhn sum mod 10: one fits
        number = prefix + "0" * (middle - 1) + digit + last4
        if luhn_valid(number):
            return number
    raise AssertionError("unreachable: one digit always fits")  # pragma: no cover


@dataclass
class SimulatedPayment:
    """What the simulated gateway holds for one payment id."""

    order: PaymentOrder
    result: PaymentResult  # what a query answers once ``pending`` is 0
    pending: int = 0  # queries still answered PROCESSING

    def current(self) -> PaymentResult:
        if self.pending:
            return PaymentResult(self.order.payment_id, PaymentStatus.PROCESSING)
        return self.result


@dataclass
class SimulatedPaymentGateway:
    """Deterministic and in memory; thread-safe. See the module docstring for the card behaviours.

    ``payments``: what the gateway holds per payment id; ``executed``: every order that moved
    money, in order (a payment id appears at most once).
    """

    platform_balance: Decimal = Decimal("100000000.00")
    card_rules: Mapping[str, str] = field(default_factory=dict)
    pending_queries: int = 1
    clock: Callable[[], float] = time.time  # for ``paid_at``
    payments: dict[str, SimulatedPayment] = field(default_factory=dict, init=False, repr=False)
    executed: list[PaymentOrder] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        balance = self.platform_balance
        if not isinstance(balance, Decimal) or not balance.is_finite() or balance < 0 or balance != to_fen(balance):
            raise ValueError("platform_balance: must be a Decimal of 0 or more, exact to the fen")
        if not isinstance(self.card_rules, Mapping):
            raise ValueError("card_rules: must map a card's last 4 digits to a behaviour")
        for last4, behaviour in self.card_rules.items():
            if not isinstance(last4, str) or not _LAST4.fullmatch(last4):
                raise ValueError(f"card_rules: {last4!r} is not 4 digits")
            if behaviour not in BEHAVIOURS:
                raise ValueError(f"card_rules: {behaviour!r} is not one of {', '.join(BEHAVIOURS)}")
        self.card_rules = dict(self.card_rules)
        if isinstance(self.pending_queries, bool) or not isinstance(self.pending_queries, int) or self.pending_queries < 0:
            raise ValueError("pending_queries: must be a whole number, 0 or more")

    @property
    def paid_total(self) -> Decimal:
        with self._lock:
            return sum((order.amount for order in self.executed), Decimal("0.00"))

    def behaviour(self, card_number: str) -> str | None:
        if not luhn_valid(card_number):
            return CARD_INVALID
        return self.card_rules.get(card_number[-4:])

    def check_card(self, payee: Payee, timeout_seconds: float) -> CardCheck:
        _check_timeout(timeout_seconds)
        behaviour = self.behaviour(_check_payee(payee).card_number)
        if behaviour in _CARD_REFUSALS:
            return CardCheck(False, behaviour)
        return CardCheck(True)

    def pay(self, order: PaymentOrder, timeout_seconds: float) -> PaymentResult:
        timeout = _check_timeout(timeout_seconds)
        order = _check_order(order)
        pid = order.payment_id
        with self._lock:
            held = self.payments.get(pid)
            if held is not None:  # never pay the same id twice
                if (held.order.loan_id, held.order.amount, held.order.payee.card_number) != (
                    order.loan_id, order.amount, order.payee.card_number,
                ):
                    raise ValueError("payment_id reused for a different order")
                return held.current()
            behaviour = self.behaviour(order.payee.card_number)
            if behaviour == "GATEWAY_DOWN":
                raise GatewayUnavailable(f"simulated gateway down: payment {pid} not sent")
            if behaviour == "TIMEOUT_NOT_RECEIVED":
                raise PaymentTimeout(f"simulated: payment {pid} got no answer within {timeout:g} s (never received)")
            if behaviour in _CARD_REFUSALS or behaviour == DECLINED:
                return self._record(order, PaymentResult(pid, PaymentStatus.FAILED, reason=behaviour)).current()
            if order.amount > self.platform_balance:
                failed = PaymentResult(pid, PaymentStatus.FAILED, reason=INSUFFICIENT_PLATFORM_FUNDS)
                return self._record(order, failed).current()
            if behaviour == "UNKNOWN_THEN_FAILED":
                failed = PaymentResult(pid, PaymentStatus.FAILED, reason=DECLINED)
                self._record(order, failed, self.pending_queries)
                return PaymentResult(pid, PaymentStatus.PROCESSING)
            paid = self._execute(order)
            if behaviour == "UNKNOWN_THEN_PAID":
                self._record(order, paid, self.pending_queries)
                return PaymentResult(pid, PaymentStatus.PROCESSING)
            self._record(order, paid)
            if behaviour == "TIMEOUT_THEN_PAID":
                raise PaymentTimeout(f"simulated: payment {pid} paid, but no answer within {timeout:g} s")
            return paid

    def query(self, payment_id: str, timeout_seconds: float) -> PaymentResult:
        _check_timeout(timeout_seconds)
        check_payment_id(payment_id)
        with self._lock:
            held = self.payments.get(payment_id)
            if held is None:
                return PaymentResult(payment_id, PaymentStatus.NOT_FOUND)
            if held.pending:
                held.pending -= 1
                return PaymentResult(payment_id, PaymentStatus.PROCESSING)
            return held.result

    # under the lock:

    def _record(self, order: PaymentOrder, result: PaymentResult, pending: int = 0) -> SimulatedPayment:
        held = self.payments[order.payment_id] = SimulatedPayment(order, result, pending)
        return held

    def _execute(self, order: PaymentOrder) -> PaymentResult:
        self.platform_balance -= order.amount
        self.executed.append(order)
        digest = hashlib.sha256(order.payment_id.encode("utf-8")).hexdigest()[:16].upper()
        paid_at = datetime.fromtimestamp(self.clock(), tz=timezone.utc).isoformat(timespec="seconds")
        return PaymentResult(order.payment_id, PaymentStatus.PAID, reference=f"SIM-PAY-{digest}", paid_at=paid_at)
