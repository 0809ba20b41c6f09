"""The credit bureau (人行征信): one report per query, asked for with the borrower's consent.

The branch where the borrower applied is the querying institution. A query is
refused (``ConsentMissing``) before anything is sent when it carries no consent
reference, i.e. no signed credit-inquiry authorisation. The report keeps only
the summary facts that the review needs and the subject's keyed hash, never the
raw ID number; it is stored encrypted by the caller (``to_dict`` is what gets
sealed) and reused while ``reusable`` says so instead of querying again: each
query leaves an inquiry on the borrower's file.

Implementations of ``CreditBureau``:

- ``HttpCreditBureau``: the bank's internal credit-bureau gateway (征信前置),
  described below. Configuration comes as constructor arguments.
- ``SimulatedCreditBureau``: deterministic by ID number, for local runs and tests.

The gateway interface (assumed; the bank's 征信前置 sits in front of the PBOC line)
-------------------------------------------------------------------------------

``POST {base_url}/v1/reports`` with a JSON body::

    {"request_id": "...", "id_type": "RESIDENT_ID", "id_number": "...", "name": "...",
     "querying_branch": "...", "purpose": "LOAN_APPROVAL", "consent_reference": "..."}

signed like the partner API (``chalicelib.domain.signing``): headers
``X-Client-Id``, ``X-Timestamp`` (Unix seconds), ``X-Nonce`` (32 hex characters)
and ``X-Signature``, the hex HMAC-SHA256, keyed with the client secret, of
``POST\\n{path}\\n{timestamp}\\n{nonce}\\n{hex sha256 of the body}``.
``X-Request-Id`` (= ``request_id``) is the same for the same consent, branch and
purpose, so the gateway can answer a retry after a timeout with the report it
already fetched instead of leaving a second inquiry on the borrower's file.

A 200 answers ``{"report_id", "queried_at" (ISO 8601 with offset), "summary":
{overdue_count_24m, max_overdue_days_24m, current_overdue, current_overdue_amount,
inquiries_3m, open_loans, total_debt, monthly_repayment, blacklisted}}`` with
amounts as decimal strings ("12000.00"). Errors answer ``{"code", "message"}``.

How the client maps failures (the class names matter: Step Functions Retry and
Catch match them):

=================================================  =====================
no answer within ``timeout_seconds``               ``BureauTimeout``
connection refused or reset; 5xx, 429 or another   ``BureauUnavailable``
non-200 status; a 200 that is not a valid report
any other 4xx (bad ID, unknown person, auth)       ``BureauRejected``
                                                   (a ``ValueError``)
=================================================  =====================

The simulator's ID patterns
---------------------------

By the 3-digit sequence of the ID number (characters 15-17), so any division
code and birth date work; each range of ten holds both sexes. Build such IDs
with ``make_id(sequence)``. A pattern changes only the facts it names; the rest
are the clean file of that ID.

=========  ===============================================================
sequence   report
=========  ===============================================================
900-909    overdue history: overdue_count_24m 3, max_overdue_days_24m 45,
           nothing overdue now
910-919    overdue now: current_overdue, current_overdue_amount 3200.00,
           overdue_count_24m 2, max_overdue_days_24m 35
920-929    many recent inquiries (多头借贷): inquiries_3m 12
930-939    high debt: open_loans 9, total_debt 860000.00,
           monthly_repayment 31500.00
940-949    blacklisted
950-959    raises ``BureauTimeout``, every time
960-969    raises ``BureauUnavailable``, every time
970-979    raises ``BureauTimeout`` on the first query for that ID on this
           simulator instance, then answers the clean file (for retries)
otherwise  a clean file: no overdue, inquiries_3m 0-2, open_loans 0-2,
           total_debt 0 or 5,000-100,000, monthly_repayment 5% of it, all
           derived from a SHA-256 of the ID (the same in every process)
=========  ===============================================================

An ID number that is not valid (GB 11643-1999) is ``BureauRejected``, as the
gateway would.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Protocol

from chalicelib.domain.identity import check_character, parse_resident_id
from chalicelib.domain.masking import mask_id_number, mask_name, scrub
from chalicelib.domain.money import ZERO, format_amount, parse_amount, to_fen
from chalicelib.ports.signed_http import Failed, NoAnswer, SignedPoster, Unreachable, endpoint

PURPOSES = frozenset({"LOAN_APPROVAL"})
REPORTS_PATH = "/v1/reports"
SIMULATOR_SOURCE = "SIMULATOR"
GATEWAY_SOURCE = "BUREAU_GATEWAY"


class BureauTimeout(Exception):
    """The bureau did not answer in time. Retryable; a read timeout may have left an inquiry."""


class BureauUnavailable(Exception):
    """The bureau could not be reached or failed (5xx, 429, connection error, garbled answer). Retryable."""


class BureauRejected(ValueError):
    """The bureau refused the query (4xx): a bad ID number, an unknown person, bad credentials."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class ConsentMissing(Exception):
    """No consent reference: the bureau must not be queried at all."""


# -- the query and the report ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, repr=False)
class BureauQuery:
    """One query. ``subject_hash`` is the caller's keyed hash of the ID number (the ECIF one,
    ``pii_vault.keyed_hash``): the report carries it instead of the ID number."""

    id_number: str
    name: str
    querying_branch: str  # the branch where the borrower applied
    consent_reference: str  # the signed credit-inquiry authorisation (its archive key or id)
    subject_hash: str
    purpose: str = "LOAN_APPROVAL"

    def __repr__(self) -> str:  # never the ID number or the name in a log or a traceback
        return (
            f"BureauQuery(id_number={mask_id_number(self.id_number)!r}, name={mask_name(self.name)!r}, "
            f"querying_branch={self.querying_branch!r}, consent_reference={self.consent_reference!r}, "
            f"purpose={self.purpose!r})"
        )


def check_query(query: BureauQuery) -> None:
    """What every implementation checks before it sends anything."""
    if not isinstance(query.consent_reference, str) or not query.consent_reference.strip():
        raise ConsentMissing("no consent reference: the applicant's credit-inquiry authorisation is required")
    if query.purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {sorted(PURPOSES)}")
    if not isinstance(query.querying_branch, str) or not query.querying_branch.strip():
        raise ValueError("querying_branch is required: the branch where the borrower applied")
    if not isinstance(query.subject_hash, str) or not query.subject_hash.strip():
        raise ValueError("subject_hash is required: the keyed hash of the ID number")


_INT_FIELDS = ("overdue_count_24m", "max_overdue_days_24m", "inquiries_3m", "open_loans")
_AMOUNT_FIELDS = ("current_overdue_amount", "total_debt", "monthly_repayment")
_BOOL_FIELDS = ("current_overdue", "blacklisted")
SUMMARY_FIELDS = (
    "overdue_count_24m",
    "max_overdue_days_24m",
    "current_overdue",
    "current_overdue_amount",
    "inquiries_3m",
    "open_loans",
    "total_debt",
    "monthly_repayment",
    "blacklisted",
)

# report attribute -> fact name (the product's risk rules use these)
FACT_NAMES = {
    "overdue_count_24m": "bureau_overdue_count_24m",
    "max_overdue_days_24m": "bureau_max_overdue_days_24m",
    "current_overdue": "bureau_current_overdue",
    "current_overdue_amount": "bureau_current_overdue_amount",
    "inquiries_3m": "bureau_inquiries_3m",
    "open_loans": "bureau_open_loans",
    "total_debt": "bureau_debt_total",
    "monthly_repayment": "bureau_monthly_repayment",
    "blacklisted": "bureau_blacklisted",
}


@dataclass(frozen=True)
class CreditReport:
    """The summary of one bureau report. Amounts are ``Decimal`` (strings in ``to_dict``)."""

    report_id: str
    queried_at: datetime  # timezone-aware
    querying_branch: str
    subject_hash: str
    overdue_count_24m: int
    max_overdue_days_24m: int
    current_overdue: bool
    current_overdue_amount: Decimal
    inquiries_3m: int
    open_loans: int
    total_debt: Decimal
    monthly_repayment: Decimal
    blacklisted: bool
    source: str = GATEWAY_SOURCE

    def __post_init__(self) -> None:
        for name in ("report_id", "querying_branch", "subject_hash", "source"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name}: must be a non-empty string")
        if not isinstance(self.queried_at, datetime) or self.queried_at.utcoffset() is None:
            raise ValueError("queried_at: must be a timezone-aware datetime")
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: must be a whole number, 0 or more")
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: must be true or false")
        for name in _AMOUNT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0 or value != to_fen(value):
                raise ValueError(f"{name}: must be a Decimal of 0 or more with at most 2 decimals")
        if self.current_overdue != (self.current_overdue_amount > 0):
            raise ValueError("current_overdue_amount: must be more than 0 exactly when current_overdue")
        if self.max_overdue_days_24m > 0 and self.overdue_count_24m == 0:
            raise ValueError("max_overdue_days_24m: overdue days without any overdue in 24 months")

    def facts(self) -> dict[str, Any]:
        """The facts for the product's risk rules and the scorecard, all prefixed ``bureau_``."""
        return {fact: getattr(self, attribute) for attribute, fact in FACT_NAMES.items()}

    def summary(self) -> dict[str, Any]:
        """The summary facts in their wire form (amounts as strings)."""
        out: dict[str, Any] = {}
        for name in SUMMARY_FIELDS:
            value = getattr(self, name)
            out[name] = format_amount(value) if name in _AMOUNT_FIELDS else value
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the form that is sealed and stored."""
        return {
            "report_id": self.report_id,
            "queried_at": self.queried_at.isoformat(),
            "querying_branch": self.querying_branch,
            "subject_hash": self.subject_hash,
            "source": self.source,
            **self.summary(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> CreditReport:
        """The inverse of ``to_dict``; ``ValueError`` for anything else."""
        if not isinstance(data, dict):
            raise ValueError("a credit report must be a JSON object")
        header = {}
        for name in ("report_id", "querying_branch", "subject_hash", "source"):
            if not isinstance(data.get(name), str):
                raise ValueError(f"{name}: must be a string")
            header[name] = data[name]
        return cls(queried_at=_parse_time(data.get("queried_at")), **header, **_parse_summary(data))


def _parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise ValueError("queried_at: must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("queried_at: must be an ISO 8601 date-time string") from None
    if moment.utcoffset() is None:
        raise ValueError("queried_at: must carry a UTC offset")
    return moment


def _parse_summary(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SUMMARY_FIELDS:
        if name not in data:
            raise ValueError(f"{name}: is missing")
        value = data[name]
        if name in _AMOUNT_FIELDS:
            out[name] = parse_amount(value) if isinstance(value, str) else value  # __post_init__ rejects the rest
            if isinstance(value, str) and out[name] < 0:
                raise ValueError(f"{name}: must not be negative")
        else:
            out[name] = value
    return out


class CreditBureau(Protocol):
    def query(self, query: BureauQuery) -> CreditReport:
        """The report of the query's subject; see the module docstring for the errors."""
        ...


def reusable(report_queried_at: datetime, now: datetime, validity_days: int) -> bool:
    """Whether a stored report may stand in for a new query: queried at most ``validity_days``
    x 24 hours before ``now`` (the boundary itself excluded). A report from the future (clock
    skew) or a validity of 0 days is never reused. Both times must be timezone-aware."""
    if report_queried_at.utcoffset() is None or now.utcoffset() is None:
        raise ValueError("both times must be timezone-aware")
    if isinstance(validity_days, bool) or not isinstance(validity_days, int) or validity_days < 0:
        raise ValueError("validity_days must be a whole number of days, 0 or more")
    age = now - report_queried_at
    return timedelta(0) <= age < timedelta(days=validity_days)


# -- the gateway client ------------------------------------------------------------------------


def request_id(query: BureauQuery) -> str:
    """The same for the same consent, branch and purpose: the gateway's idempotency key."""
    text = "\x00".join((query.querying_branch, query.purpose, query.consent_reference.strip()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class HttpCreditBureau:
    """The bank's credit-bureau gateway over HTTP(S), with ``urllib3`` (no retries of its own:
    the workflow retries ``BureauTimeout`` and ``BureauUnavailable``)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        timeout_seconds: float,
        http: Any = None,
        clock: Callable[[], float] = time.time,
    ):
        if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, (int, float)) or not timeout_seconds > 0:
            raise ValueError("timeout_seconds must be more than 0")
        self._url = endpoint(base_url, REPORTS_PATH)
        self._poster = SignedPoster(client_id, client_secret, http, clock)
        self._timeout = float(timeout_seconds)

    def __repr__(self) -> str:  # never the secret
        return f"HttpCreditBureau({self._url!r}, client_id={self._poster.client_id!r})"

    def query(self, query: BureauQuery) -> CreditReport:
        check_query(query)
        rid = request_id(query)
        body = json.dumps(
            {
                "request_id": rid,
                "id_type": "RESIDENT_ID",
                "id_number": query.id_number,
                "name": query.name,
                "querying_branch": query.querying_branch,
                "purpose": query.purpose,
                "consent_reference": query.consent_reference,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        try:
            status, data = self._poster.post(self._url, body, rid, self._timeout)
        except Unreachable as exc:
            raise BureauUnavailable(f"credit bureau gateway unreachable: {exc}") from None
        except NoAnswer:
            raise BureauTimeout(f"credit bureau gateway gave no answer within {self._timeout:g} s") from None
        except Failed as exc:
            raise BureauUnavailable(f"credit bureau gateway failed: {exc}") from None
        return self._report(query, status, data)

    def _report(self, query: BureauQuery, status: int, data: bytes) -> CreditReport:
        if 400 <= status < 500 and status != 429:
            code = _error_fields(data)[0]
            raise BureauRejected(f"credit bureau gateway refused the query ({status}{_error_text(data)})", status, code)
        if status != 200:  # 5xx, 429, and anything the interface does not know (3xx, other 2xx)
            raise BureauUnavailable(f"credit bureau gateway answered {status}{_error_text(data)}")
        try:
            answer = json.loads(data.decode("utf-8"))
            if not isinstance(answer, dict) or not isinstance(answer.get("summary"), dict):
                raise ValueError("no summary")
            if not isinstance(answer.get("report_id"), str):
                raise ValueError("report_id: must be a string")
            return CreditReport(
                report_id=answer["report_id"],
                queried_at=_parse_time(answer.get("queried_at")),
                querying_branch=query.querying_branch,
                subject_hash=query.subject_hash,
                source=GATEWAY_SOURCE,
                **_parse_summary(answer["summary"]),
            )
        except (ValueError, UnicodeDecodeError, TypeError) as exc:
            raise BureauUnavailable(f"credit bureau gateway sent a report that cannot be read: {scrub(str(exc))}") from None


def _error_fields(data: bytes) -> tuple[str | None, str | None]:
    try:
        answer = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(answer, dict):
        return None, None
    code, message = answer.get("code"), answer.get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else None)


def _error_text(data: bytes) -> str:
    code, message = _error_fields(data)
    parts = [p for p in (code, message) if p]
    return (": " + scrub(" ".join(parts))[:200]) if parts else ""


# -- the simulator -----------------------------------------------------------------------------


def make_id(sequence: int, birth: str = "19900307", division: str = "110101") -> str:
    """A valid resident ID number with the given 3-digit sequence (0-999), check character included."""
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence <= 999:
        raise ValueError("sequence must be 0 to 999")
    first17 = f"{division}{birth}{sequence:03d}"
    return first17 + check_character(first17)


_CLEAN_SALT = b"zhudai-bureau-simulator\x00"


@dataclass
class SimulatedCreditBureau:
    """Deterministic by ID number (see the module docstring's table). Keeps no raw ID: the
    "timed out once" state holds an HMAC of it under a key made per instance."""

    clock: Callable[[], datetime] | None = None
    _seen: set[bytes] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _key: bytes = field(default_factory=lambda: os.urandom(32), init=False, repr=False)

    def _now(self) -> datetime:
        now = self.clock() if self.clock else datetime.now(timezone.utc)
        if now.utcoffset() is None:
            raise ValueError("the simulator's clock must give timezone-aware datetimes")
        return now

    def query(self, query: BureauQuery) -> CreditReport:
        check_query(query)
        try:
            number = parse_resident_id(query.id_number).number
        except ValueError:
            raise BureauRejected("not a valid resident ID number", 400, "INVALID_ID_NUMBER") from None
        sequence = int(number[14:17])
        if 950 <= sequence <= 959:
            raise BureauTimeout("simulated credit bureau: no answer in time")
        if 960 <= sequence <= 969:
            raise BureauUnavailable("simulated credit bureau: unavailable")
        if 970 <= sequence <= 979:
            marker = hmac.new(self._key, number.encode("ascii"), hashlib.sha256).digest()
            with self._lock:
                first = marker not in self._seen
                self._seen.add(marker)
            if first:
                raise BureauTimeout("simulated credit bureau: no answer in time (first query of this ID)")
        facts = _clean_facts(number)
        facts.update(_PATTERNS.get(sequence // 10 * 10, {}))
        queried_at = self._now()
        report_seed = "\x00".join((query.subject_hash, query.querying_branch, queried_at.isoformat()))
        return CreditReport(
            report_id="SIM" + hashlib.sha256(report_seed.encode("utf-8")).hexdigest()[:21].upper(),
            queried_at=queried_at,
            querying_branch=query.querying_branch,
            subject_hash=query.subject_hash,
            source=SIMULATOR_SOURCE,
            **facts,
        )


def _clean_facts(number: str) -> dict[str, Any]:
    digest = hashlib.sha256(_CLEAN_SALT + number.encode("ascii")).digest()
    open_loans = digest[1] % 3
    debt = Decimal(0) if open_loans == 0 else Decimal(5000 + (int.from_bytes(digest[2:4], "big") % 951) * 100)
    return {
        "overdue_count_24m": 0,
        "max_overdue_days_24m": 0,
        "current_overdue": False,
        "current_overdue_amount": ZERO,
        "inquiries_3m": digest[0] % 3,
        "open_loans": open_loans,
        "total_debt": to_fen(debt),
        "monthly_repayment": to_fen(debt * Decimal("0.05")),
        "blacklisted": False,
    }


# By the first sequence of each range of ten: the facts the pattern sets over the clean file.
_PATTERNS: dict[int, dict[str, Any]] = {
    900: {"overdue_count_24m": 3, "max_overdue_days_24m": 45},
    910: {
        "current_overdue": True,
        "current_overdue_amount": Decimal("3200.00"),
        "overdue_count_24m": 2,
        "max_overdue_days_24m": 35,
    },
    920: {"inquiries_3m": 12},
    930: {"open_loans": 9, "total_debt": Decimal("860000.00"), "monthly_repayment": Decimal("31500.00")},
    940: {"blacklisted": True},
}
