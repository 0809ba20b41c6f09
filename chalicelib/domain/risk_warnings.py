"""Risk warnings (风险预警) raised by the nightly post-loan sweep (贷后风险监测).

The day end of business day T compares each loan's state before T's close
(days past due and five-tier class as the previous day end left them) with its
state after (``LoanRiskChange``), and raises warnings by these rules. Which
warnings a policy raises, and how severe they are, is data: a ``WarningPolicy``
(``config/sample/warning_policy.json``).

Rules (``dpd`` = days past due; ``before`` / ``after`` = before / after T's close):

``FIRST_OVERDUE``
    ``dpd before == 0`` and ``dpd after >= 1``: the loan has just fallen
    overdue. "First" is the first day of an overdue spell, not of the loan's
    life: a loan cured and overdue again later raises it again.
    Severity: ``first_overdue_severity``.
``DPD_THRESHOLD``
    For each configured threshold ``t`` (e.g. 30, 60, 90) with
    ``dpd before < t <= dpd after``: one warning per threshold crossed, so a
    loan going from 29 to 61 days (a day end caught up) raises both 30 and 60.
    Severity: the threshold's own.
``CLASS_DOWNGRADE``
    ``worse(class after, class before)`` (a loan with no class before counts
    as NORMAL). Severity: by the class moved to (``class_downgrade_severity``).
``MULTIPLE_OVERDUE_LOANS``
    A customer with at least ``multiple_overdue_loans.min_loans`` loans
    overdue (``dpd after >= 1``) at T's close: one warning per customer per
    day (not per loan), raised every day the condition holds. Its
    ``branch_code`` is the branch when all those loans are at one branch;
    when they span branches it is ``None``: a platform-level warning for the
    operator (省联社), since no branch may see another branch's loans.
``RECONCILIATION_BREAK``
    A partner's T+1 reconciliation of day T found breaks (items other than
    ``MATCHED`` with a count above 0): one warning per partner per day, the
    counts per kind in ``detail``. Severity: the worst of the kinds present
    (``reconciliation_break.by_kind``, else its default). ``branch_code`` is
    ``None`` unless the caller gives one.

Every warning has a deterministic id (``RiskWarning.warning_id``) made of its
kind, its day and what it is about (loan, threshold, customer or partner), so a
re-run of the day end produces the same warnings with the same ids and a
writer that stores by id (put if absent) records each once.

Warnings carry internal ids only (loan, customer, branch, partner), never
personal data. Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.classification import LoanClass, reclassify, worse
from chalicelib.domain.loan import Loan


class WarningKind(str, Enum):
    FIRST_OVERDUE = "FIRST_OVERDUE"  # 首次逾期
    DPD_THRESHOLD = "DPD_THRESHOLD"  # 逾期天数达到阈值
    CLASS_DOWNGRADE = "CLASS_DOWNGRADE"  # 五级分类下调
    MULTIPLE_OVERDUE_LOANS = "MULTIPLE_OVERDUE_LOANS"  # 客户多笔贷款逾期
    RECONCILIATION_BREAK = "RECONCILIATION_BREAK"  # 对账不平


class Severity(str, Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


_SEVERITY_ORDER = list(Severity)
MATCHED = "MATCHED"  # the reconciliation result that is no break


# -- the policy (data) ---------------------------------------------------------------------------


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DpdThreshold(_Config):
    days: int = Field(ge=1, le=3650)
    severity: Severity


class MultipleOverdueLoansRule(_Config):
    min_loans: int = Field(ge=2, le=100)
    severity: Severity


class ReconciliationBreakRule(_Config):
    severity: Severity  # a kind not listed in by_kind
    by_kind: dict[str, Severity] = Field(default_factory=dict)

    @field_validator("by_kind")
    @classmethod
    def _kinds_are_codes(cls, by_kind: dict[str, Severity]) -> dict[str, Severity]:
        for kind in by_kind:
            if not kind or not kind.replace("_", "").isalpha() or not kind.isupper() or kind == MATCHED:
                raise ValueError(f"{kind!r} is not a break kind (an upper-case code other than {MATCHED})")
        return by_kind


class WarningPolicy(_Config):
    first_overdue_severity: Severity
    dpd_thresholds: tuple[DpdThreshold, ...] = ()
    # by the class moved to; every class but NORMAL (which is never a downgrade)
    class_downgrade_severity: dict[LoanClass, Severity]
    multiple_overdue_loans: MultipleOverdueLoansRule
    reconciliation_break: ReconciliationBreakRule

    @field_validator("dpd_thresholds")
    @classmethod
    def _thresholds_distinct(cls, thresholds: tuple[DpdThreshold, ...]) -> tuple[DpdThreshold, ...]:
        days = [t.days for t in thresholds]
        if len(set(days)) != len(days):
            raise ValueError("each threshold's days must be different")
        return tuple(sorted(thresholds, key=lambda t: t.days))

    @model_validator(mode="after")
    def _every_downgrade_has_a_severity(self) -> "WarningPolicy":
        needed = {c for c in LoanClass if c is not LoanClass.NORMAL}
        if LoanClass.NORMAL in self.class_downgrade_severity:
            raise ValueError("class_downgrade_severity: NORMAL is never a downgrade")
        if missing := needed - set(self.class_downgrade_severity):
            raise ValueError(f"class_downgrade_severity: missing {', '.join(sorted(c.value for c in missing))}")
        return self


# -- warnings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskWarning:
    """One warning. ``warning_id`` is deterministic (see the module docstring)."""

    kind: WarningKind
    severity: Severity
    branch_code: str | None  # None: platform-level (the operator's)
    loan_id: str | None
    customer_id: str | None
    day: date  # the business day whose close raised it (for a reconciliation break: the day reconciled)
    detail: str  # human-readable; no personal data
    partner_id: str | None = None  # RECONCILIATION_BREAK
    threshold: int | None = None  # DPD_THRESHOLD: the days crossed

    @property
    def warning_id(self) -> str:
        subject = {
            WarningKind.DPD_THRESHOLD: f"{self.loan_id}:{self.threshold}",
            WarningKind.MULTIPLE_OVERDUE_LOANS: self.customer_id,
            WarningKind.RECONCILIATION_BREAK: self.partner_id,
        }.get(self.kind, self.loan_id)
        return f"{self.kind.value}:{self.day.isoformat()}:{subject}"


Warning = RiskWarning  # noqa: A001 - the brief's name; prefer RiskWarning (it shadows the builtin)


@dataclass(frozen=True)
class LoanRiskChange:
    """A loan's risk state before and after the close of ``day``."""

    loan_id: str
    branch_code: str
    customer_id: str
    day: date
    dpd_before: int
    dpd_after: int
    class_before: LoanClass | None  # None: the loan had no class yet (booked on the day)
    class_after: LoanClass

    def __post_init__(self) -> None:
        if self.dpd_before < 0 or self.dpd_after < 0:
            raise ValueError("days past due cannot be negative")

    @classmethod
    def of(
        cls, loan: Loan, day: date, dpd_before: int, class_before: LoanClass | None, class_after: LoanClass | None = None
    ) -> "LoanRiskChange":
        """From the loan as it is after ``day``'s close and what the previous day end recorded;
        the class after defaults to ``reclassify(class_before, dpd after)``."""
        dpd_after = loan.days_past_due(day)
        return cls(
            loan_id=loan.loan_id,
            branch_code=loan.branch_code,
            customer_id=loan.customer_id,
            day=day,
            dpd_before=dpd_before,
            dpd_after=dpd_after,
            class_before=class_before,
            class_after=class_after if class_after is not None else reclassify(class_before, dpd_after),
        )


def loan_warnings(change: LoanRiskChange, policy: WarningPolicy) -> tuple[RiskWarning, ...]:
    """The FIRST_OVERDUE, DPD_THRESHOLD and CLASS_DOWNGRADE warnings of one loan on ``change.day``."""
    found: list[RiskWarning] = []

    def warn(kind: WarningKind, severity: Severity, detail: str, threshold: int | None = None) -> None:
        found.append(
            RiskWarning(kind, severity, change.branch_code, change.loan_id, change.customer_id, change.day, detail, threshold=threshold)
        )

    before, after = change.dpd_before, change.dpd_after
    if before == 0 and after >= 1:
        warn(WarningKind.FIRST_OVERDUE, policy.first_overdue_severity, f"days past due {before} -> {after}")
    for t in policy.dpd_thresholds:
        if before < t.days <= after:
            warn(WarningKind.DPD_THRESHOLD, t.severity, f"days past due reached {t.days}: {before} -> {after}", t.days)
    previous = change.class_before or LoanClass.NORMAL
    if worse(change.class_after, previous):
        warn(
            WarningKind.CLASS_DOWNGRADE,
            policy.class_downgrade_severity[change.class_after],
            f"class {previous.value} -> {change.class_after.value} (days past due {after})",
        )
    return tuple(found)


def multiple_overdue_loans(
    customer_id: str, day: date, overdue_loans: Iterable[tuple[str, str]], policy: WarningPolicy
) -> RiskWarning | None:
    """The MULTIPLE_OVERDUE_LOANS warning of a customer, given its loans overdue at ``day``'s
    close as ``(loan_id, branch_code)`` pairs; ``None`` below the policy's minimum."""
    loans = dict(overdue_loans)  # loan id -> branch
    rule = policy.multiple_overdue_loans
    if len(loans) < rule.min_loans:
        return None
    branches = sorted(set(loans.values()))
    return RiskWarning(
        WarningKind.MULTIPLE_OVERDUE_LOANS,
        rule.severity,
        branches[0] if len(branches) == 1 else None,
        None,
        customer_id,
        day,
        f"{len(loans)} overdue loans (at least {rule.min_loans}) at {len(branches)} branch(es): {', '.join(sorted(loans))}",
    )


def reconciliation_break(
    partner_id: str, day: date, counts: Mapping[str, int], policy: WarningPolicy, branch_code: str | None = None
) -> RiskWarning | None:
    """The RECONCILIATION_BREAK warning of a partner's reconciliation of ``day``, given the count
    of items per result kind (``MATCHED`` and zero counts are no break); ``None`` without breaks.
    Kinds may be strings or str-valued enums (e.g. ``AMOUNT_MISMATCH``)."""
    breaks = {}
    for kind, count in counts.items():
        code = str(getattr(kind, "value", kind))
        if count < 0:
            raise ValueError(f"a negative count of {code}")
        if code != MATCHED and count > 0:
            breaks[code] = breaks.get(code, 0) + count
    if not breaks:
        return None
    rule = policy.reconciliation_break
    severity = max((rule.by_kind.get(k, rule.severity) for k in breaks), key=_SEVERITY_ORDER.index)
    listed = ", ".join(f"{k} {breaks[k]}" for k in sorted(breaks))
    return RiskWarning(
        WarningKind.RECONCILIATION_BREAK,
        severity,
        branch_code,
        None,
        None,
        day,
        f"{sum(breaks.values())} break(s): {listed}",
        partner_id=partner_id,
    )


def day_warnings(changes: Iterable[LoanRiskChange], policy: WarningPolicy) -> tuple[RiskWarning, ...]:
    """Every loan's and every customer's warnings from the changes of one day end, sorted by id,
    each id once. Customers are counted over the loans given: pass every loan of the platform
    (the customer id is province-wide) for a platform-wide count."""
    changes = list(changes)
    days = {c.day for c in changes}
    if len(days) > 1:
        raise ValueError("the changes are of more than one day")
    if len({c.loan_id for c in changes}) != len(changes):
        raise ValueError("a loan appears more than once in the changes")
    found = [w for c in changes for w in loan_warnings(c, policy)]
    overdue: dict[str, dict[str, str]] = {}
    for c in changes:
        if c.dpd_after >= 1:
            overdue.setdefault(c.customer_id, {})[c.loan_id] = c.branch_code
    for customer, loans in overdue.items():
        if (w := multiple_overdue_loans(customer, changes[0].day, loans.items(), policy)) is not None:
            found.append(w)
    unique = {w.warning_id: w for w in found}
    return tuple(unique[k] for k in sorted(unique))
