"""Collection cases (催收管理) opened, escalated and closed by the nightly day end.

A ``CollectionPolicy`` (data: ``config/sample/collection_policy.json``) gives the
collection stages by days past due (e.g. M1 1-30, M2 31-60, M3 61-90, M3+ over
90: the stages must cover every day from 1 up, the last open-ended) and
``open_after_days``, the days past due at which a case opens.

Each day end, for each loan, ``decide(case, loan, day, policy)`` says what to do
with the loan's open case (``None`` when it has none), and ``apply`` does it:

- **OPEN**: the loan has no open case and its days past due are at least
  ``open_after_days``. The case's stage is the stage of the days past due.
- **ESCALATE** to a later stage: the stage of today's days past due is later
  than the case's. Stages only move forward while a case is open: a part
  payment that brings the days past due down does not move the case back.
- **CLOSE**: the loan is current again (days past due 0: reason ``CURED``) or
  settled (``SETTLED``). A closed case stays closed; a loan that falls overdue
  again later opens a **new** case.
- nothing (``None``) otherwise.

Invariant (tested over random sequences of days past due): the loan has at
most one open case at any time; on each day it has an open case exactly when
it is overdue (days past due >= 1) and its days past due have reached
``open_after_days`` at some day of the current overdue spell (the run of days
with days past due >= 1 up to today); the open case's stage is the stage of the
highest days past due of that spell. With ``open_after_days`` = 1 that is:
a case is open exactly while the loan is overdue.

A case's id is deterministic: the loan id and the day it opened
(``CC-<loan id>-<YYYYMMDD>``), so a re-run of a day end opens the same case, and
``decide`` on a case already brought up to date for the day does nothing
(applying a day twice changes nothing). A case records the loan's branch: the
case sits in that branch's queue (``open_cases`` lists a branch's open cases).

Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.loan import Loan, LoanStatus

# -- the policy (data) ---------------------------------------------------------------------------


class CollectionStage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_+-]{0,15}$")
    min_days: int = Field(ge=1)
    max_days: int | None = Field(default=None, ge=1)  # None: no upper bound (the last stage)

    def holds(self, days_past_due: int) -> bool:
        return self.min_days <= days_past_due and (self.max_days is None or days_past_due <= self.max_days)


class CollectionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    open_after_days: int = Field(default=1, ge=1, le=3650)
    stages: tuple[CollectionStage, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _stages_cover_every_day(self) -> "CollectionPolicy":
        codes = [s.code for s in self.stages]
        if len(set(codes)) != len(codes):
            raise ValueError("stage codes must be different")
        if self.stages[0].min_days != 1:
            raise ValueError("the first stage must start at 1 day past due")
        for a, b in zip(self.stages, self.stages[1:]):
            if a.max_days is None or b.min_days != a.max_days + 1:
                raise ValueError(f"stage {b.code} must start the day after {a.code} ends")
        for s in self.stages:
            if s.max_days is not None and s.max_days < s.min_days:
                raise ValueError(f"stage {s.code} ends before it starts")
        if self.stages[-1].max_days is not None:
            raise ValueError("the last stage must have no upper bound (max_days null)")
        return self

    def stage_for(self, days_past_due: int) -> str | None:
        """The stage of ``days_past_due`` (``None`` when not overdue)."""
        if days_past_due < 0:
            raise ValueError("days past due cannot be negative")
        return next((s.code for s in self.stages if s.holds(days_past_due)), None)

    def rank(self, stage: str) -> int:
        """A stage's position, earliest 0; a stage no longer in the policy ranks before all."""
        return next((i for i, s in enumerate(self.stages) if s.code == stage), -1)


# -- cases ---------------------------------------------------------------------------------------


class CaseEvent(str, Enum):
    OPENED = "OPENED"
    ESCALATED = "ESCALATED"
    CLOSED = "CLOSED"


class CloseReason(str, Enum):
    CURED = "CURED"  # current again (days past due 0)
    SETTLED = "SETTLED"  # paid off (结清)


class ActionKind(str, Enum):
    OPEN = "OPEN"
    ESCALATE = "ESCALATE"
    CLOSE = "CLOSE"


@dataclass(frozen=True)
class CaseAction:
    kind: ActionKind
    stage: str | None = None  # OPEN, ESCALATE: the stage
    reason: CloseReason | None = None  # CLOSE


@dataclass(frozen=True)
class StageChange:
    day: date
    event: CaseEvent
    from_stage: str | None  # None when OPENED
    to_stage: str | None  # None when CLOSED
    days_past_due: int


@dataclass(frozen=True)
class LoanSnapshot:
    """What the collection rules read of a loan at a day's close."""

    loan_id: str
    branch_code: str
    customer_id: str
    days_past_due: int
    settled: bool = False

    def __post_init__(self) -> None:
        if self.days_past_due < 0:
            raise ValueError("days past due cannot be negative")

    @classmethod
    def of(cls, loan: Loan, day: date) -> "LoanSnapshot":
        return cls(loan.loan_id, loan.branch_code, loan.customer_id, loan.days_past_due(day), loan.status is LoanStatus.SETTLED)


@dataclass(frozen=True)
class CollectionCase:
    case_id: str
    loan_id: str
    customer_id: str
    branch_code: str  # the queue it sits in: the loan's branch
    stage: str  # while closed: the last stage it was in
    opened_on: date
    closed_on: date | None = None
    close_reason: CloseReason | None = None
    history: tuple[StageChange, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def queue(self) -> str:
        return self.branch_code

    @property
    def last_changed(self) -> date:
        return self.history[-1].day if self.history else self.opened_on


def case_id_for(loan_id: str, opened_on: date) -> str:
    return f"CC-{loan_id}-{opened_on:%Y%m%d}"


def decide(case: CollectionCase | None, loan: LoanSnapshot, day: date, policy: CollectionPolicy) -> CaseAction | None:
    """What the day end of ``day`` does with the loan's case (``None``, or a closed case: it has
    no open case); ``None`` for nothing."""
    if case is not None:
        if case.loan_id != loan.loan_id:
            raise ValueError("the case is another loan's")
        if day < case.last_changed:
            raise ValueError(f"the case changed on {case.last_changed.isoformat()}, after {day.isoformat()}")
        if not case.is_open:
            case = None
    dpd = loan.days_past_due
    if case is None:
        if not loan.settled and dpd >= policy.open_after_days:
            return CaseAction(ActionKind.OPEN, stage=policy.stage_for(dpd))
        return None
    if loan.settled:
        return CaseAction(ActionKind.CLOSE, reason=CloseReason.SETTLED)
    if dpd == 0:
        return CaseAction(ActionKind.CLOSE, reason=CloseReason.CURED)
    stage = policy.stage_for(dpd)
    if stage is not None and policy.rank(stage) > policy.rank(case.stage):
        return CaseAction(ActionKind.ESCALATE, stage=stage)
    return None


def apply(case: CollectionCase | None, action: CaseAction, loan: LoanSnapshot, day: date) -> CollectionCase:
    """The case after ``action`` (from ``decide``) on ``day``: a new case for OPEN."""
    dpd = loan.days_past_due
    if action.kind is ActionKind.OPEN:
        if case is not None and case.is_open:
            raise ValueError("the loan already has an open case")
        if action.stage is None:
            raise ValueError("OPEN needs a stage")
        return CollectionCase(
            case_id=case_id_for(loan.loan_id, day),
            loan_id=loan.loan_id,
            customer_id=loan.customer_id,
            branch_code=loan.branch_code,
            stage=action.stage,
            opened_on=day,
            history=(StageChange(day, CaseEvent.OPENED, None, action.stage, dpd),),
        )
    if case is None or not case.is_open:
        raise ValueError(f"{action.kind.value} needs an open case")
    if case.loan_id != loan.loan_id:
        raise ValueError("the case is another loan's")
    if action.kind is ActionKind.ESCALATE:
        if action.stage is None:
            raise ValueError("ESCALATE needs a stage")
        change = StageChange(day, CaseEvent.ESCALATED, case.stage, action.stage, dpd)
        return replace(case, stage=action.stage, history=case.history + (change,))
    if action.reason is None:
        raise ValueError("CLOSE needs a reason")
    change = StageChange(day, CaseEvent.CLOSED, case.stage, None, dpd)
    return replace(case, closed_on=day, close_reason=action.reason, history=case.history + (change,))


def step(
    case: CollectionCase | None, loan: LoanSnapshot, day: date, policy: CollectionPolicy
) -> tuple[CollectionCase | None, CaseAction | None]:
    """``decide`` then ``apply``: the case to store (the new, changed or closed case; the given
    one when nothing happens) and the action taken (``None`` for nothing)."""
    action = decide(case, loan, day, policy)
    if action is None:
        return case, None
    return apply(case if action.kind is not ActionKind.OPEN else None, action, loan, day), action


def open_cases(cases: Iterable[CollectionCase], branch_code: str, policy: CollectionPolicy | None = None) -> tuple[CollectionCase, ...]:
    """A branch's queue: its open cases, the latest stage first (given the policy), then the
    oldest first."""
    mine = [c for c in cases if c.branch_code == branch_code and c.is_open]
    rank = (lambda c: -policy.rank(c.stage)) if policy is not None else (lambda c: 0)
    return tuple(sorted(mine, key=lambda c: (rank(c), c.opened_on, c.case_id)))
