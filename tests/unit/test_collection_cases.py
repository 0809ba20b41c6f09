"""Collection cases (催收管理): stages, opening, escalating, closing, re-opening, the branch queue."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.collection_cases import (
    ActionKind,
    CaseAction,
    CaseEvent,
    CloseReason,
    CollectionCase,
    CollectionPolicy,
    LoanSnapshot,
    StageChange,
    apply,
    case_id_for,
    decide,
    open_cases,
    step,
)
from chalicelib.domain.loan import LoanStatus, book
from chalicelib.domain.repayment import allocate
from chalicelib.domain.schedule import RepaymentMethod, build_schedule

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample" / "collection_policy.json"
T = date(2026, 11, 23)
ONE_DAY = timedelta(days=1)
OPEN, ESCALATE, CLOSE = ActionKind.OPEN, ActionKind.ESCALATE, ActionKind.CLOSE


def load_policy(**changes) -> CollectionPolicy:
    return CollectionPolicy.model_validate({**json.loads(SAMPLE.read_text()), **changes})


POLICY = load_policy()


def snap(dpd: int, settled: bool = False, loan: str = "LN1", branch: str = "BR_A") -> LoanSnapshot:
    return LoanSnapshot(loan, branch, "CU1", dpd, settled)


def run(dpds: list[int], policy: CollectionPolicy = POLICY, start: date = T, loan: str = "LN1"):
    """The day ends of consecutive days: every case, the open one after each day, the actions."""
    case, cases, actions, open_after = None, {}, [], []
    for k, dpd in enumerate(dpds):
        case, action = step(case, snap(dpd, loan=loan), start + k * ONE_DAY, policy)
        actions.append(action)
        if case is not None:
            cases[case.case_id] = case
        open_after.append(case if case is not None and case.is_open else None)
    return cases, open_after, actions


# -- the policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dpd, stage",
    [(0, None), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"), (90, "M3"), (91, "M3+"), (5000, "M3+")],
)
def test_the_sample_stages(dpd, stage):
    assert POLICY.stage_for(dpd) == stage


def test_the_sample_opens_on_the_first_day_overdue():
    assert POLICY.open_after_days == 1
    assert [POLICY.rank(s) for s in ("M1", "M2", "M3", "M3+", "GONE")] == [0, 1, 2, 3, -1]
    with pytest.raises(ValueError):
        POLICY.stage_for(-1)


STAGES = [{"code": "M1", "min_days": 1, "max_days": 30}, {"code": "M2", "min_days": 31, "max_days": None}]


@pytest.mark.parametrize(
    "stages, message",
    [
        ([], "at least 1"),
        ([{"code": "M1", "min_days": 2, "max_days": None}], "start at 1"),
        ([STAGES[0], {"code": "M2", "min_days": 32, "max_days": None}], "must start the day after"),
        ([STAGES[0], {"code": "M2", "min_days": 30, "max_days": None}], "must start the day after"),
        ([STAGES[0], {"code": "M1", "min_days": 31, "max_days": None}], "different"),
        ([{"code": "M1", "min_days": 1, "max_days": 30}], "no upper bound"),
        ([{"code": "M1", "min_days": 1, "max_days": None}, {"code": "M2", "min_days": 31, "max_days": None}], "must start the day after"),
        ([{"code": "m1", "min_days": 1, "max_days": None}], "pattern"),
        ([{"code": "M1", "min_days": 5, "max_days": 4}, STAGES[1]], "start at 1"),
    ],
)
def test_a_bad_policy_is_refused(stages, message):
    with pytest.raises(ValidationError, match=message):
        load_policy(stages=stages)


def test_open_after_days_is_at_least_one_and_extras_are_refused():
    with pytest.raises(ValidationError):
        load_policy(open_after_days=0)
    with pytest.raises(ValidationError, match="Extra inputs"):
        load_policy(queue="ALL")


# -- decide --------------------------------------------------------------------------------------


def test_a_current_loan_has_nothing_to_do():
    assert decide(None, snap(0), T, POLICY) is None


def test_an_overdue_loan_opens_a_case_at_its_stage():
    assert decide(None, snap(1), T, POLICY) == CaseAction(OPEN, stage="M1")
    assert decide(None, snap(45), T, POLICY) == CaseAction(OPEN, stage="M2")  # e.g. a migrated loan


def test_a_case_opens_only_after_the_policy_s_days():
    policy = load_policy(open_after_days=3)
    assert decide(None, snap(2), T, policy) is None
    assert decide(None, snap(3), T, policy) == CaseAction(OPEN, stage="M1")


def test_opening_records_the_case():
    case = apply(None, CaseAction(OPEN, stage="M1"), snap(1, loan="LN20261123-143501-a3f9c0d2e1", branch="BR_XICHENG"), T)
    assert case == CollectionCase(
        case_id="CC-LN20261123-143501-a3f9c0d2e1-20261123",
        loan_id="LN20261123-143501-a3f9c0d2e1",
        customer_id="CU1",
        branch_code="BR_XICHENG",
        stage="M1",
        opened_on=T,
        history=(StageChange(T, CaseEvent.OPENED, None, "M1", 1),),
    )
    assert case.is_open and case.queue == "BR_XICHENG" and case.case_id == case_id_for(case.loan_id, T)


@pytest.mark.parametrize("dpd, stage", [(31, "M2"), (61, "M3"), (91, "M3+"), (400, "M3+")])
def test_a_case_escalates_to_the_stage_of_the_days(dpd, stage):
    case = apply(None, CaseAction(OPEN, stage="M1"), snap(1), T)
    assert decide(case, snap(dpd), T + 40 * ONE_DAY, POLICY) == CaseAction(ESCALATE, stage=stage)


@pytest.mark.parametrize("dpd", [2, 30])
def test_a_case_stays_in_its_stage(dpd):
    case = apply(None, CaseAction(OPEN, stage="M1"), snap(1), T)
    assert decide(case, snap(dpd), T + ONE_DAY, POLICY) is None


def test_a_part_payment_never_moves_a_case_back():
    case = apply(None, CaseAction(OPEN, stage="M2"), snap(40), T)
    assert decide(case, snap(10), T + ONE_DAY, POLICY) is None


def test_a_case_closes_when_the_loan_is_current_again_or_settled():
    case = apply(None, CaseAction(OPEN, stage="M1"), snap(1), T)
    assert decide(case, snap(0), T + ONE_DAY, POLICY) == CaseAction(CLOSE, reason=CloseReason.CURED)
    assert decide(case, snap(0, settled=True), T + ONE_DAY, POLICY) == CaseAction(CLOSE, reason=CloseReason.SETTLED)
    closed = apply(case, CaseAction(CLOSE, reason=CloseReason.CURED), snap(0), T + ONE_DAY)
    assert (closed.closed_on, closed.close_reason, closed.stage, closed.is_open) == (T + ONE_DAY, CloseReason.CURED, "M1", False)
    assert closed.history[-1] == StageChange(T + ONE_DAY, CaseEvent.CLOSED, "M1", None, 0)


def test_a_settled_loan_opens_nothing():
    assert decide(None, snap(0, settled=True), T, POLICY) is None


def test_a_closed_case_is_no_open_case_a_new_spell_opens_a_new_one():
    case = apply(None, CaseAction(OPEN, stage="M1"), snap(1), T)
    closed = apply(case, CaseAction(CLOSE, reason=CloseReason.CURED), snap(0), T + ONE_DAY)
    later = T + 20 * ONE_DAY
    assert decide(closed, snap(0), later, POLICY) is None
    action = decide(closed, snap(1), later, POLICY)
    assert action == CaseAction(OPEN, stage="M1")
    reopened, _ = step(closed, snap(1), later, POLICY)
    assert reopened.case_id == "CC-LN1-20261213" != closed.case_id
    assert reopened.is_open and closed.closed_on == T + ONE_DAY  # the old one stays closed


def test_decide_refuses_another_loan_s_case_and_a_day_gone_by():
    case = apply(None, CaseAction(OPEN, stage="M1"), snap(1), T)
    with pytest.raises(ValueError, match="another loan"):
        decide(case, snap(2, loan="LN2"), T + ONE_DAY, POLICY)
    with pytest.raises(ValueError, match="changed on"):
        decide(case, snap(2), T - ONE_DAY, POLICY)


def test_apply_refuses_what_makes_no_sense():
    case = apply(None, CaseAction(OPEN, stage="M1"), snap(1), T)
    with pytest.raises(ValueError, match="already has an open case"):
        apply(case, CaseAction(OPEN, stage="M1"), snap(1), T)
    with pytest.raises(ValueError, match="needs an open case"):
        apply(None, CaseAction(ESCALATE, stage="M2"), snap(31), T)
    closed = apply(case, CaseAction(CLOSE, reason=CloseReason.CURED), snap(0), T)
    with pytest.raises(ValueError, match="needs an open case"):
        apply(closed, CaseAction(CLOSE, reason=CloseReason.CURED), snap(0), T)
    with pytest.raises(ValueError, match="another loan"):
        apply(case, CaseAction(ESCALATE, stage="M2"), snap(31, loan="LN2"), T)
    with pytest.raises(ValueError, match="needs a reason"):
        apply(case, CaseAction(CLOSE), snap(0), T)
    with pytest.raises(ValueError, match="needs a stage"):
        apply(case, CaseAction(ESCALATE), snap(31), T)
    with pytest.raises(ValueError, match="needs a stage"):
        apply(None, CaseAction(OPEN), snap(1), T)
    with pytest.raises(ValueError):
        snap(-1)


# -- over a sequence of days ---------------------------------------------------------------------


def test_a_case_opens_escalates_closes_and_a_new_one_opens():
    # overdue 1..65 days, cured, current 10 days, overdue again 3 days, settled
    dpds = list(range(1, 66)) + [0] * 10 + [1, 2, 3] + [0]
    cases, open_after, actions = run(dpds)
    kinds = [(k, a.kind, a.stage) for k, a in enumerate(actions) if a is not None]
    assert kinds == [(0, OPEN, "M1"), (30, ESCALATE, "M2"), (60, ESCALATE, "M3"), (65, CLOSE, None), (75, OPEN, "M1"), (78, CLOSE, None)]
    first, second = sorted(cases.values(), key=lambda c: c.opened_on)
    assert first.case_id == "CC-LN1-20261123" and first.close_reason is CloseReason.CURED
    assert [(h.event, h.from_stage, h.to_stage, h.days_past_due) for h in first.history] == [
        (CaseEvent.OPENED, None, "M1", 1),
        (CaseEvent.ESCALATED, "M1", "M2", 31),
        (CaseEvent.ESCALATED, "M2", "M3", 61),
        (CaseEvent.CLOSED, "M3", None, 0),
    ]
    assert second.opened_on == T + 75 * ONE_DAY and second.case_id == "CC-LN1-20270206"
    assert [c.case_id if c else None for c in open_after][64:67] == ["CC-LN1-20261123", None, None]


def test_a_settled_loan_s_case_closes_as_settled():
    case, _ = step(None, snap(5), T, POLICY)
    case, action = step(case, snap(0, settled=True), T + ONE_DAY, POLICY)
    assert action == CaseAction(CLOSE, reason=CloseReason.SETTLED) and case.close_reason is CloseReason.SETTLED


def test_a_re_run_of_the_same_day_changes_nothing():
    case = None
    for k, dpd in enumerate([1, 2, 31, 31, 0, 4]):
        day = T + k * ONE_DAY
        case, _ = step(case, snap(dpd), day, POLICY)
        again, action = step(case, snap(dpd), day, POLICY)
        assert action is None and again == case


def test_a_re_run_from_the_state_before_the_day_opens_the_same_case():
    a, _ = step(None, snap(1), T, POLICY)
    b, _ = step(None, snap(1), T, POLICY)
    assert a == b and a.case_id == b.case_id


def test_with_a_later_opening_a_case_stays_open_until_the_loan_is_current():
    policy = load_policy(open_after_days=5)
    cases, open_after, _ = run([1, 2, 3, 4, 5, 2, 1, 0, 3, 4, 0], policy)
    assert [c is not None for c in open_after] == [False] * 4 + [True, True, True] + [False] * 4
    (only,) = cases.values()
    assert only.opened_on == T + 4 * ONE_DAY and only.closed_on == T + 7 * ONE_DAY


def test_with_a_real_loan_account():
    schedule = build_schedule(D("12000.00"), D("0.06"), 3, RepaymentMethod.EQUAL_INSTALLMENT, date(2026, 1, 15))
    loan = replace(
        book(loan_id="LN1", application_id="AP1", branch_code="BR_A", partner_id="P1", product_code="CONSUMER_STD",
             customer_id="CU1", schedule=schedule, funders=[("BR_A", D("12000.00"))]),
        status=LoanStatus.ACTIVE,
    )
    case, action = step(None, LoanSnapshot.of(loan, date(2026, 2, 15)), date(2026, 2, 15), POLICY)
    assert case is None and action is None  # due today: not yet overdue
    day = date(2026, 2, 16)
    case, action = step(None, LoanSnapshot.of(loan, day), day, POLICY)
    assert action == CaseAction(OPEN, stage="M1") and case.branch_code == "BR_A"
    day = date(2026, 3, 20)  # 33 days past due
    case, action = step(case, LoanSnapshot.of(loan, day), day, POLICY)
    assert action == CaseAction(ESCALATE, stage="M2")
    cured = allocate(loan, sum((i.unpaid for i in loan.overdue(day)), D("0.00")), day).loan  # pays what is overdue
    case, action = step(case, LoanSnapshot.of(cured, day + ONE_DAY), day + ONE_DAY, POLICY)
    assert action == CaseAction(CLOSE, reason=CloseReason.CURED) and not case.is_open
    settled = allocate(cured, cured.settlement(date(2026, 4, 1)).total, date(2026, 4, 1)).loan
    assert LoanSnapshot.of(settled, date(2026, 4, 1)).settled


# -- the branch's queue --------------------------------------------------------------------------


def test_a_branch_lists_its_open_cases():
    a, _ = step(None, snap(1, loan="LN1", branch="BR_A"), T, POLICY)
    b, _ = step(None, snap(45, loan="LN2", branch="BR_A"), T + ONE_DAY, POLICY)
    c, _ = step(None, snap(3, loan="LN3", branch="BR_B"), T, POLICY)
    d, _ = step(None, snap(3, loan="LN4", branch="BR_A"), T, POLICY)
    d, _ = step(d, snap(0, loan="LN4", branch="BR_A"), T + ONE_DAY, POLICY)  # closed
    assert [x.loan_id for x in open_cases([a, b, c, d], "BR_A")] == ["LN1", "LN2"]  # the oldest first
    assert [x.loan_id for x in open_cases([a, b, c, d], "BR_A", POLICY)] == ["LN2", "LN1"]  # the latest stage first
    assert [x.loan_id for x in open_cases([a, b, c, d], "BR_B")] == ["LN3"]
    assert open_cases([a, b, c, d], "BR_C") == ()


# -- the invariant, over random sequences of days past due ---------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    dpds=st.lists(st.one_of(st.integers(0, 3), st.integers(0, 200)), min_size=1, max_size=80),
    open_after=st.integers(1, 10),
    settle_at_end=st.booleans(),
)
def test_the_invariant_over_random_days(dpds, open_after, settle_at_end):
    policy = load_policy(open_after_days=open_after)
    case, seen, spell = None, {}, []
    days = [(d, False) for d in dpds] + ([(0, True)] if settle_at_end else [])
    for k, (dpd, settled) in enumerate(days):
        day = T + k * ONE_DAY
        before = case
        case, action = step(case, snap(dpd, settled), day, policy)
        spell = spell + [dpd] if dpd > 0 and not settled else []
        is_open = case is not None and case.is_open
        # open exactly while overdue and the days reached open_after in this overdue spell
        assert is_open == (bool(spell) and max(spell) >= open_after)
        if is_open:
            assert case.stage == policy.stage_for(max(spell))  # the stage of the spell's worst day
            assert case.branch_code == "BR_A" and case.opened_on <= day
        # at most one open case: a new case opens only once the one before is closed
        if action is not None and action.kind is OPEN:
            assert before is None or not before.is_open
            assert case.case_id not in seen  # a new id
        if case is not None:
            seen[case.case_id] = case
        # idempotent: the same day again changes nothing
        assert step(case, snap(dpd, settled), day, policy) == (case, None)
    assert sum(c.is_open for c in seen.values()) <= 1
    for c in seen.values():
        assert c.history[0].event is CaseEvent.OPENED and c.history[0].day == c.opened_on
        assert [h.day for h in c.history] == sorted(h.day for h in c.history)
        assert all(h.event is CaseEvent.ESCALATED for h in c.history[1:-1])
        if not c.is_open:
            assert c.history[-1].event is CaseEvent.CLOSED and c.history[-1].day == c.closed_on
            assert c.close_reason is (CloseReason.SETTLED if c.closed_on == T + (len(days) - 1) * ONE_DAY and settle_at_end else CloseReason.CURED)
    opened = sorted(seen.values(), key=lambda c: c.opened_on)
    for earlier, later in zip(opened, opened[1:]):
        assert earlier.closed_on is not None and earlier.closed_on < later.opened_on  # never two at once
