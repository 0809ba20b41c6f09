"""Anti-fraud checks over prepared data."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.antifraud import (
    F_AGE_OUT_OF_RANGE,
    F_BLACKLIST,
    F_CARD_SHARED,
    F_ID_INVALID,
    F_MOBILE_SHARED,
    F_TOO_MANY_APPLICATIONS,
    FraudFacts,
    FraudHit,
    FraudLimits,
    check,
)

LIMITS = FraudLimits()
CLEAN = FraudFacts(applicant_age=35)


def codes(facts: FraudFacts, limits: FraudLimits = LIMITS) -> list[str]:
    return [hit.code for hit in check(facts, limits)]


def test_clean_facts_have_no_hit():
    assert check(CLEAN, LIMITS) == []


@pytest.mark.parametrize("field, listed", [("id_blacklisted", "id"), ("mobile_blacklisted", "mobile"), ("card_blacklisted", "card")])
def test_each_blacklist(field, listed):
    (hit,) = check(FraudFacts(applicant_age=35, **{field: True}), LIMITS)
    assert hit == FraudHit(F_BLACKLIST, f"on the blacklist: {listed}")


def test_several_blacklists_are_one_hit_naming_them_all():
    facts = FraudFacts(applicant_age=35, id_blacklisted=True, card_blacklisted=True)
    assert check(facts, LIMITS) == [FraudHit(F_BLACKLIST, "on the blacklist: id, card")]


@pytest.mark.parametrize(
    "field, limit_field, code",
    [
        ("distinct_ids_for_mobile_in_window", "max_ids_per_mobile", F_MOBILE_SHARED),
        ("distinct_ids_for_card_in_window", "max_ids_per_card", F_CARD_SHARED),
        ("applications_by_person_in_window", "max_applications_per_person", F_TOO_MANY_APPLICATIONS),
    ],
)
def test_counts_hit_only_above_their_limit(field, limit_field, code):
    limit = getattr(LIMITS, limit_field)
    assert codes(FraudFacts(applicant_age=35, **{field: limit})) == []
    assert codes(FraudFacts(applicant_age=35, **{field: limit + 1})) == [code]
    stricter = LIMITS.model_copy(update={limit_field: 1})
    assert codes(FraudFacts(applicant_age=35, **{field: 2}), stricter) == [code]


def test_the_detail_says_how_many_in_which_window():
    (hit,) = check(FraudFacts(applicant_age=35, distinct_ids_for_mobile_in_window=5), FraudLimits(window_days=7))
    assert hit.detail == "the mobile was used by 5 ID numbers in 7 days (at most 2)"


def test_an_invalid_id_is_a_hit_and_its_age_is_not_checked():
    assert codes(FraudFacts(id_valid=False, applicant_age=None)) == [F_ID_INVALID]


@pytest.mark.parametrize("age, hit", [(17, True), (18, False), (75, False), (76, True), (None, True)])
def test_age_outside_legal_capacity(age, hit):
    assert codes(FraudFacts(applicant_age=age)) == ([F_AGE_OUT_OF_RANGE] if hit else [])


def test_all_hits_in_a_fixed_order():
    facts = FraudFacts(
        id_blacklisted=True,
        distinct_ids_for_mobile_in_window=9,
        distinct_ids_for_card_in_window=9,
        applications_by_person_in_window=9,
        applicant_age=16,
    )
    assert codes(facts) == [F_BLACKLIST, F_MOBILE_SHARED, F_CARD_SHARED, F_TOO_MANY_APPLICATIONS, F_AGE_OUT_OF_RANGE]


@pytest.mark.parametrize(
    "data", [{"max_ids_per_mobile": 0}, {"window_days": 0}, {"age_min": 60, "age_max": 18}, {"unknown": 1}]
)
def test_bad_limits_are_refused(data):
    with pytest.raises(ValidationError):
        FraudLimits.model_validate(data)


def test_facts_and_hits_serialise():
    assert CLEAN.to_dict()["applicant_age"] == 35
    assert FraudHit("F_X", "d").to_dict() == {"code": "F_X", "detail": "d"}
