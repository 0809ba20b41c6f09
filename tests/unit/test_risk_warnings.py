"""Risk warnings (风险预警) of the day end: every rule, every threshold, deterministic ids."""
from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from enum import Enum
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.classification import LoanClass, classify, reclassify
from chalicelib.domain.loan import LoanStatus, book
from chalicelib.domain.risk_warnings import (
    LoanRiskChange,
    RiskWarning,
    Severity,
    Warning,
    WarningKind,
    WarningPolicy,
    day_warnings,
    loan_warnings,
    multiple_overdue_loans,
    reconciliation_break,
)
from chalicelib.domain.schedule import RepaymentMethod, build_schedule

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample" / "warning_policy.json"
T = date(2026, 11, 23)
C = LoanClass
K = WarningKind
S = Severity


@pytest.fixture(scope="module")
def policy() -> WarningPolicy:
    return WarningPolicy.model_validate_json(SAMPLE.read_text())


def change(before: int, after: int, class_before: C | None = "auto", loan: str = "LN1", customer: str = "CU1", branch: str = "BR_A", day: date = T):
    """A loan's change, its classes by the classification rules unless given."""
    if class_before == "auto":
        class_before = classify(before)
    return LoanRiskChange(loan, branch, customer, day, before, after, class_before, reclassify(class_before, after))


def kinds(warnings) -> list[tuple[WarningKind, int | None]]:
    return [(w.kind, w.threshold) for w in warnings]


# -- the policy ----------------------------------------------------------------------------------


def test_the_sample_policy(policy):
    assert policy.first_overdue_severity is S.LOW
    assert [(t.days, t.severity) for t in policy.dpd_thresholds] == [(30, S.MEDIUM), (60, S.HIGH), (90, S.CRITICAL)]
    assert policy.class_downgrade_severity[C.SUBSTANDARD] is S.HIGH
    assert policy.multiple_overdue_loans.min_loans == 2
    assert policy.reconciliation_break.by_kind["MISSING_AT_BANK"] is S.CRITICAL


def sample_doc() -> dict:
    return json.loads(SAMPLE.read_text())


def test_thresholds_are_sorted_and_distinct():
    doc = sample_doc()
    doc["dpd_thresholds"] = [{"days": 90, "severity": "HIGH"}, {"days": 30, "severity": "LOW"}]
    assert [t.days for t in WarningPolicy.model_validate(doc).dpd_thresholds] == [30, 90]
    doc["dpd_thresholds"] = [{"days": 30, "severity": "HIGH"}, {"days": 30, "severity": "LOW"}]
    with pytest.raises(ValidationError, match="different"):
        WarningPolicy.model_validate(doc)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["class_downgrade_severity"].pop("LOSS"), "missing LOSS"),
        (lambda d: d["class_downgrade_severity"].update(NORMAL="LOW"), "NORMAL is never"),
        (lambda d: d.update(surprise=1), "Extra inputs"),
        (lambda d: d["dpd_thresholds"].append({"days": 0, "severity": "LOW"}), "greater than or equal to 1"),
        (lambda d: d["multiple_overdue_loans"].update(min_loans=1), "greater than or equal to 2"),
        (lambda d: d["reconciliation_break"]["by_kind"].update(MATCHED="LOW"), "not a break kind"),
        (lambda d: d["reconciliation_break"]["by_kind"].update(bad_kind="LOW"), "not a break kind"),
        (lambda d: d.update(first_overdue_severity="HUGE"), "Input should be"),
    ],
)
def test_a_bad_policy_is_refused(edit, message):
    doc = sample_doc()
    edit(doc)
    with pytest.raises(ValidationError, match=message):
        WarningPolicy.model_validate(doc)


def test_the_policy_is_frozen(policy):
    with pytest.raises(ValidationError):
        policy.first_overdue_severity = S.HIGH


# -- FIRST_OVERDUE -------------------------------------------------------------------------------


def test_first_overdue_when_the_loan_falls_overdue(policy):
    (w,) = [w for w in loan_warnings(change(0, 1), policy) if w.kind is K.FIRST_OVERDUE]
    assert (w.severity, w.branch_code, w.loan_id, w.customer_id, w.day) == (S.LOW, "BR_A", "LN1", "CU1", T)
    assert w.detail == "days past due 0 -> 1"


@pytest.mark.parametrize("before, after", [(0, 0), (1, 2), (5, 0), (29, 30)])
def test_no_first_overdue_unless_from_current_to_overdue(policy, before, after):
    assert K.FIRST_OVERDUE not in [w.kind for w in loan_warnings(change(before, after), policy)]


def test_a_loan_cured_and_overdue_again_raises_first_overdue_again(policy):
    later = date(2027, 1, 5)
    first = loan_warnings(change(0, 1), policy)[0]
    again = loan_warnings(change(0, 1, day=later), policy)[0]
    assert first.kind is again.kind is K.FIRST_OVERDUE
    assert first.warning_id != again.warning_id


# -- DPD_THRESHOLD -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before, after, crossed",
    [
        (28, 29, []),
        (29, 30, [30]),
        (30, 31, []),
        (59, 60, [60]),
        (60, 61, []),
        (89, 90, [90]),
        (90, 91, []),
        (29, 61, [30, 60]),  # a day end caught up: both thresholds
        (0, 200, [30, 60, 90]),
        (95, 10, []),  # a part payment brought the days down
    ],
)
def test_each_threshold_is_crossed_once(policy, before, after, crossed):
    warnings = [w for w in loan_warnings(change(before, after), policy) if w.kind is K.DPD_THRESHOLD]
    assert [w.threshold for w in warnings] == crossed


def test_each_threshold_has_its_severity(policy):
    warnings = [w for w in loan_warnings(change(0, 100), policy) if w.kind is K.DPD_THRESHOLD]
    assert [(w.threshold, w.severity) for w in warnings] == [(30, S.MEDIUM), (60, S.HIGH), (90, S.CRITICAL)]
    assert warnings[0].detail == "days past due reached 30: 0 -> 100"


def test_a_policy_without_thresholds_raises_none(policy):
    quiet = policy.model_copy(update={"dpd_thresholds": ()})
    assert K.DPD_THRESHOLD not in [w.kind for w in loan_warnings(change(0, 400), quiet)]


@given(before=st.integers(0, 500), after=st.integers(0, 500))
def test_thresholds_crossed_are_exactly_those_in_before_to_after(before, after):
    policy = WarningPolicy.model_validate_json(SAMPLE.read_text())
    crossed = [w.threshold for w in loan_warnings(change(before, after), policy) if w.kind is K.DPD_THRESHOLD]
    assert crossed == [t for t in (30, 60, 90) if before < t <= after]


# -- CLASS_DOWNGRADE -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before, after, class_before, moved_to, severity",
    [
        (0, 1, C.NORMAL, C.SPECIAL_MENTION, S.MEDIUM),
        (90, 91, C.SPECIAL_MENTION, C.SUBSTANDARD, S.HIGH),
        (270, 271, C.SUBSTANDARD, C.DOUBTFUL, S.CRITICAL),
        (360, 361, C.DOUBTFUL, C.LOSS, S.CRITICAL),
        (0, 5, None, C.SPECIAL_MENTION, S.MEDIUM),  # no class before: counts as NORMAL
        (50, 300, C.SPECIAL_MENTION, C.DOUBTFUL, S.CRITICAL),  # two steps at once: one warning
    ],
)
def test_a_class_downgrade(policy, before, after, class_before, moved_to, severity):
    (w,) = [w for w in loan_warnings(change(before, after, class_before), policy) if w.kind is K.CLASS_DOWNGRADE]
    assert w.severity is severity
    assert w.detail == f"class {(class_before or C.NORMAL).value} -> {moved_to.value} (days past due {after})"


@pytest.mark.parametrize(
    "before, after, class_before",
    [(0, 0, C.NORMAL), (0, 0, None), (10, 11, C.SPECIAL_MENTION), (100, 10, C.SUBSTANDARD), (100, 0, C.SUBSTANDARD)],
)
def test_no_class_downgrade_when_the_class_is_the_same_or_better(policy, before, after, class_before):
    assert K.CLASS_DOWNGRADE not in [w.kind for w in loan_warnings(change(before, after, class_before), policy)]


def test_the_class_after_is_taken_as_given(policy):
    manual = LoanRiskChange("LN1", "BR_A", "CU1", T, 10, 11, C.SPECIAL_MENTION, C.DOUBTFUL)  # a manual downgrade
    (w,) = [w for w in loan_warnings(manual, policy) if w.kind is K.CLASS_DOWNGRADE]
    assert w.severity is S.CRITICAL


def test_negative_days_past_due_are_refused():
    with pytest.raises(ValueError):
        LoanRiskChange("LN1", "BR_A", "CU1", T, -1, 0, None, C.NORMAL)


def test_a_loan_falling_overdue_raises_first_overdue_and_a_downgrade(policy):
    assert kinds(loan_warnings(change(0, 1), policy)) == [(K.FIRST_OVERDUE, None), (K.CLASS_DOWNGRADE, None)]


# -- MULTIPLE_OVERDUE_LOANS ----------------------------------------------------------------------


def test_a_customer_with_two_overdue_loans_gets_one_warning_not_two(policy):
    changes = [change(3, 4, loan="LN1"), change(10, 11, loan="LN2"), change(0, 0, loan="LN3")]
    multiple = [w for w in day_warnings(changes, policy) if w.kind is K.MULTIPLE_OVERDUE_LOANS]
    assert len(multiple) == 1
    (w,) = multiple
    assert (w.customer_id, w.loan_id, w.branch_code, w.severity) == ("CU1", None, "BR_A", S.HIGH)
    assert w.detail == "2 overdue loans (at least 2) at 1 branch(es): LN1, LN2"


def test_one_overdue_loan_is_not_multiple(policy):
    changes = [change(3, 4, loan="LN1"), change(10, 0, loan="LN2")]  # LN2 cured today
    assert K.MULTIPLE_OVERDUE_LOANS not in [w.kind for w in day_warnings(changes, policy)]


def test_customers_are_counted_apart(policy):
    changes = [change(3, 4, loan="LN1", customer="CU1"), change(3, 4, loan="LN2", customer="CU2")]
    assert K.MULTIPLE_OVERDUE_LOANS not in [w.kind for w in day_warnings(changes, policy)]


def test_overdue_loans_at_several_branches_make_a_platform_warning(policy):
    w = multiple_overdue_loans("CU1", T, [("LN1", "BR_A"), ("LN2", "BR_B"), ("LN3", "BR_B")], policy)
    assert w is not None and w.branch_code is None
    assert w.detail == "3 overdue loans (at least 2) at 2 branch(es): LN1, LN2, LN3"


def test_the_minimum_is_the_policy_s(policy):
    stricter = policy.model_copy(update={"multiple_overdue_loans": policy.multiple_overdue_loans.model_copy(update={"min_loans": 3})})
    two = [("LN1", "BR_A"), ("LN2", "BR_A")]
    assert multiple_overdue_loans("CU1", T, two, policy) is not None
    assert multiple_overdue_loans("CU1", T, two, stricter) is None
    assert multiple_overdue_loans("CU1", T, two + [("LN3", "BR_A")], stricter) is not None


def test_the_multiple_warning_is_raised_every_day_the_condition_holds(policy):
    ids = set()
    for day in (T, date(2026, 11, 24)):
        (w,) = [w for w in day_warnings([change(3, 4, loan="LN1", day=day), change(3, 4, loan="LN2", day=day)], policy)
                if w.kind is K.MULTIPLE_OVERDUE_LOANS]
        ids.add(w.warning_id)
    assert ids == {"MULTIPLE_OVERDUE_LOANS:2026-11-23:CU1", "MULTIPLE_OVERDUE_LOANS:2026-11-24:CU1"}


# -- RECONCILIATION_BREAK ------------------------------------------------------------------------


def test_a_reconciliation_with_breaks(policy):
    w = reconciliation_break("P_QIANHAI", T, {"MATCHED": 120, "AMOUNT_MISMATCH": 1, "STATUS_MISMATCH": 2}, policy)
    assert (w.kind, w.partner_id, w.branch_code, w.loan_id, w.customer_id, w.day) == (K.RECONCILIATION_BREAK, "P_QIANHAI", None, None, None, T)
    assert w.severity is S.HIGH  # the worst: AMOUNT_MISMATCH HIGH, STATUS_MISMATCH the default MEDIUM
    assert w.detail == "3 break(s): AMOUNT_MISMATCH 1, STATUS_MISMATCH 2"
    assert w.warning_id == "RECONCILIATION_BREAK:2026-11-23:P_QIANHAI"


@pytest.mark.parametrize(
    "counts, severity",
    [({"STATUS_MISMATCH": 1}, S.MEDIUM), ({"MISSING_AT_PARTNER": 4}, S.MEDIUM), ({"DUPLICATE": 1, "STATUS_MISMATCH": 1}, S.HIGH),
     ({"MISSING_AT_BANK": 1, "AMOUNT_MISMATCH": 9}, S.CRITICAL)],
)
def test_the_severity_is_the_worst_kind_s(policy, counts, severity):
    assert reconciliation_break("P1", T, counts, policy).severity is severity


@pytest.mark.parametrize("counts", [{}, {"MATCHED": 50}, {"MATCHED": 50, "AMOUNT_MISMATCH": 0}])
def test_no_breaks_no_warning(policy, counts):
    assert reconciliation_break("P1", T, counts, policy) is None


def test_break_kinds_may_be_enums_and_a_branch_may_be_given(policy):
    class Result(str, Enum):
        MATCHED = "MATCHED"
        DUPLICATE = "DUPLICATE"

    w = reconciliation_break("P1", T, {Result.MATCHED: 3, Result.DUPLICATE: 2}, policy, branch_code="BR_A")
    assert (w.detail, w.severity, w.branch_code) == ("2 break(s): DUPLICATE 2", S.HIGH, "BR_A")


def test_a_negative_count_is_refused(policy):
    with pytest.raises(ValueError):
        reconciliation_break("P1", T, {"DUPLICATE": -1}, policy)


# -- ids, idempotence ----------------------------------------------------------------------------


def test_ids_are_deterministic_and_readable(policy):
    ids = [w.warning_id for w in loan_warnings(change(0, 65, None, loan="LN20261123-143501-a3f9c0d2e1"), policy)]
    assert ids == [
        "FIRST_OVERDUE:2026-11-23:LN20261123-143501-a3f9c0d2e1",
        "DPD_THRESHOLD:2026-11-23:LN20261123-143501-a3f9c0d2e1:30",
        "DPD_THRESHOLD:2026-11-23:LN20261123-143501-a3f9c0d2e1:60",
        "CLASS_DOWNGRADE:2026-11-23:LN20261123-143501-a3f9c0d2e1",
    ]


def day_of_changes(n: int = 40, seed: int = 7) -> list[LoanRiskChange]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        before = rng.choice([0, 0, 0, 1, 29, 30, 59, 89, 90, 270, 360])
        after = max(0, before + rng.choice([-30, 0, 1, 1, 1, 2, 40]))
        out.append(change(before, after, loan=f"LN{k:03d}", customer=f"CU{k % 7}", branch=f"BR_{k % 3}"))
    return out


def test_a_re_run_of_the_day_end_gives_the_same_warnings(policy):
    changes = day_of_changes()
    first = day_warnings(changes, policy)
    assert first == day_warnings(changes, policy)
    shuffled = changes[:]
    random.Random(1).shuffle(shuffled)
    assert day_warnings(shuffled, policy) == first  # whatever the order the loans come in
    ids = [w.warning_id for w in first]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert {w.kind for w in first} >= {K.FIRST_OVERDUE, K.DPD_THRESHOLD, K.CLASS_DOWNGRADE, K.MULTIPLE_OVERDUE_LOANS}


def test_the_same_warning_has_the_same_id_and_equals_itself(policy):
    a = loan_warnings(change(0, 1), policy)
    b = loan_warnings(change(0, 1), policy)
    assert a == b and [w.warning_id for w in a] == [w.warning_id for w in b]
    assert len({w.warning_id for w in a + b}) == len(a)


def test_day_warnings_refuses_mixed_days_and_a_loan_twice(policy):
    with pytest.raises(ValueError, match="more than one day"):
        day_warnings([change(0, 1, loan="LN1"), change(0, 1, loan="LN2", day=date(2026, 11, 24))], policy)
    with pytest.raises(ValueError, match="more than once"):
        day_warnings([change(0, 1), change(0, 1)], policy)


def test_no_loans_no_warnings(policy):
    assert day_warnings([], policy) == ()


def test_warning_is_the_brief_s_name_for_risk_warning():
    assert Warning is RiskWarning


# -- from a real loan ----------------------------------------------------------------------------


def test_a_change_from_a_loan_account(policy):
    schedule = build_schedule(D("12000.00"), D("0.06"), 3, RepaymentMethod.EQUAL_INSTALLMENT, date(2026, 1, 15))
    loan = replace(
        book(loan_id="LN1", application_id="AP1", branch_code="BR_A", partner_id="P1", product_code="CONSUMER_STD",
             customer_id="CU1", schedule=schedule, funders=[("BR_A", D("12000.00"))]),
        status=LoanStatus.ACTIVE,
    )
    # the first installment is due 15 Feb: overdue on the 16th, 1 day past due at its close
    c = LoanRiskChange.of(loan, date(2026, 2, 16), dpd_before=0, class_before=C.NORMAL)
    assert (c.dpd_after, c.class_after, c.branch_code, c.customer_id) == (1, C.SPECIAL_MENTION, "BR_A", "CU1")
    assert kinds(loan_warnings(c, policy)) == [(K.FIRST_OVERDUE, None), (K.CLASS_DOWNGRADE, None)]
    c = LoanRiskChange.of(loan, date(2026, 3, 17), dpd_before=29, class_before=C.SPECIAL_MENTION)
    assert c.dpd_after == 30 and kinds(loan_warnings(c, policy)) == [(K.DPD_THRESHOLD, 30)]
    assert LoanRiskChange.of(loan, date(2026, 3, 17), 29, C.SPECIAL_MENTION, C.LOSS).class_after is C.LOSS
