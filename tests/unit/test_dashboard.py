"""The dashboard's pure figures: what a change of status counts, the approval rate, the class counts."""
from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain import dashboard
from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.domain.classification import LoanClass


def test_a_new_application_counts_once_in_its_first_status():
    assert dashboard.counted_moves(None, "RECEIVED") == {"RECEIVED": 1}
    assert dashboard.counted_moves(None, "ROUTING") == {"ROUTING": 1}  # a drawdown: not reviewed, not approved


def test_a_change_moves_one_count_and_no_change_moves_none():
    assert dashboard.counted_moves("RECEIVED", "REVIEWING") == {"REVIEWING": 1, "RECEIVED": -1}
    assert dashboard.counted_moves("OFFERED", "OFFERED") == {}


@pytest.mark.parametrize("before", ["REVIEWING", "MANUAL_REVIEW"])
def test_a_review_that_approves_or_rejects_is_counted_as_a_decision(before):
    assert dashboard.counted_moves(before, "ROUTING") == {"ROUTING": 1, before: -1, "approved": 1}
    assert dashboard.counted_moves(before, "REJECTED") == {"REJECTED": 1, before: -1, "rejected": 1}


def test_an_expired_review_and_later_steps_are_no_decision():
    assert "approved" not in dashboard.counted_moves("MANUAL_REVIEW", "EXPIRED") | dashboard.counted_moves("OFFERED", "SIGNING")
    assert "rejected" not in dashboard.counted_moves("MANUAL_REVIEW", "EXPIRED")


def test_every_sequence_of_moves_leaves_each_application_counted_once():
    path = [None, "RECEIVED", "REVIEWING", "MANUAL_REVIEW", "ROUTING", "OFFERED", "SIGNING", "DISBURSING", "DISBURSED"]
    totals: dict[str, int] = {}
    for before, after in zip(path, path[1:]):
        for name, delta in dashboard.counted_moves(before, after).items():
            totals[name] = totals.get(name, 0) + delta
    statuses = dashboard.by_status([totals])
    assert sum(statuses.values()) == 1 and statuses["DISBURSED"] == 1
    assert dashboard.decisions([totals]) == (1, 0)


def test_the_approval_rate_is_half_up_to_four_places_and_none_before_any_decision():
    assert dashboard.approval_rate(0, 0) is None
    assert dashboard.approval_rate(2, 1) == Decimal("0.6667")
    assert dashboard.approval_rate(1, 7) == Decimal("0.1250")
    assert dashboard.format_rate(dashboard.approval_rate(3, 1)) == "0.7500"
    assert dashboard.format_rate(dashboard.approval_rate(1, 0)) == "1.0000"
    assert dashboard.format_rate(None) is None


def test_sums_name_every_status_and_class_even_those_without_counts():
    shards = [{"RECEIVED": 2, "approved": 1}, {"RECEIVED": 1, "REJECTED": 1, "rejected": 1}, {}]
    statuses = dashboard.by_status(shards)
    assert set(statuses) == {s.value for s in S} and statuses["RECEIVED"] == 3 and statuses["REJECTED"] == 1
    assert dashboard.decisions(shards) == (1, 1)
    classes = dashboard.by_class([{"NORMAL": 3}, {"NORMAL": -1, "LOSS": 1}])
    assert classes == {c.value: 0 for c in LoanClass} | {"NORMAL": 2, "LOSS": 1}


def test_a_loan_is_counted_in_its_class_only_while_active():
    assert dashboard.counted_class("ACTIVE", "SUBSTANDARD") == "SUBSTANDARD"
    assert dashboard.counted_class("DISBURSING", "NORMAL") is None
    assert dashboard.counted_class("SETTLED", "NORMAL") is None
    assert dashboard.class_moves(None, "NORMAL") == {"NORMAL": 1}
    assert dashboard.class_moves("NORMAL", "SPECIAL_MENTION") == {"NORMAL": -1, "SPECIAL_MENTION": 1}
    assert dashboard.class_moves("SPECIAL_MENTION", None) == {"SPECIAL_MENTION": -1}
    assert dashboard.class_moves("NORMAL", "NORMAL") == {}


def test_the_counter_model_has_a_counter_for_every_status():
    from chalicelib.persistence.applications import ApplicationCounts
    from chalicelib.persistence.loan_class_counts import LoanClassCounts

    names = set(ApplicationCounts.get_attributes())
    assert {s.value for s in S} | set(dashboard.DECISIONS) <= names
    assert {c.value for c in LoanClass} <= set(LoanClassCounts.get_attributes())
