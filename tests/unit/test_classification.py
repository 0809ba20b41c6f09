"""Five-tier classification (五级分类) by days past due, never better while overdue."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.classification import LoanClass, classify, reclassify, worse

C = LoanClass


@pytest.mark.parametrize(
    "days, expected",
    [(0, C.NORMAL), (1, C.SPECIAL_MENTION), (90, C.SPECIAL_MENTION), (91, C.SUBSTANDARD), (270, C.SUBSTANDARD),
     (271, C.DOUBTFUL), (360, C.DOUBTFUL), (361, C.LOSS), (5000, C.LOSS)],
)
def test_the_boundaries_of_the_2023_rules(days, expected):
    assert classify(days) is expected


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        classify(-1)


def test_a_loan_still_overdue_never_moves_to_a_better_class():
    # 100 days overdue (substandard), then a part payment brings the oldest overdue to 10 days
    assert reclassify(C.SUBSTANDARD, 10) is C.SUBSTANDARD
    assert reclassify(C.SPECIAL_MENTION, 91) is C.SUBSTANDARD  # worse: follows the days
    assert reclassify(C.LOSS, 1) is C.LOSS


def test_a_loan_current_again_is_normal():
    assert reclassify(C.DOUBTFUL, 0) is C.NORMAL
    assert reclassify(None, 0) is C.NORMAL and reclassify(None, 45) is C.SPECIAL_MENTION


@given(previous=st.sampled_from(list(C) + [None]), days=st.integers(min_value=0, max_value=2000))
def test_reclassify_is_never_better_than_either_rule_while_overdue(previous, days):
    result = reclassify(previous, days)
    if days == 0:
        assert result is C.NORMAL
    else:
        assert not worse(classify(days), result)
        assert previous is None or not worse(previous, result)
        assert result in (classify(days), previous)


def test_a_loan_keeps_each_change_of_class_and_only_changes():
    from datetime import date, timedelta
    from decimal import Decimal

    from chalicelib.domain.loan import book
    from chalicelib.domain.schedule import RepaymentMethod, build_schedule

    day = date(2026, 1, 15)
    schedule = build_schedule(Decimal("1200.00"), Decimal("0.12"), 3, RepaymentMethod.EQUAL_PRINCIPAL, day)
    loan = book(loan_id="LN1", application_id="AP1", branch_code="BR_DONGCHENG", partner_id="P_DEMO", product_code="CONSUMER_STD",
                customer_id="CU1", schedule=schedule, funders=[("BR_DONGCHENG", Decimal("1200.00"))])
    same = loan.classified(day, LoanClass.NORMAL, 0)
    assert same.class_history == ()
    worse_ = same.classified(day + timedelta(days=40), LoanClass.SPECIAL_MENTION, 9)
    back = worse_.classified(day + timedelta(days=45), LoanClass.NORMAL, 0)
    assert [(c.before, c.after, c.days_past_due) for c in back.class_history] == [
        (LoanClass.NORMAL, LoanClass.SPECIAL_MENTION, 9), (LoanClass.SPECIAL_MENTION, LoanClass.NORMAL, 0)
    ]
    assert (back.loan_class, back.dpd_at_close) == (LoanClass.NORMAL, 0)
