"""The decision: each outcome path, the limit and rate, branch overrides, the trail."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.domain.antifraud import FraudFacts, FraudHit, check
from chalicelib.domain.decision import (
    D_LIMIT_BELOW_MINIMUM,
    D_NO_SCORE_BAND,
    D_SCORE_BELOW_CUTOFF,
    D_SCORE_GREY_BAND,
    DecisionOutcome,
    ReviewPolicy,
    decide,
)
from chalicelib.domain.product import Product
from chalicelib.domain.rules import REFER, REJECT, RuleResult, evaluate

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "sample"
# A fixed policy for these tests (cut-offs 500/520): the sample's cut-offs follow its scorecard's calibration.
POLICY = ReviewPolicy.model_validate_json((ROOT / "tests" / "fixtures" / "review_policies" / "CONSUMER_STD_unit.json").read_text(encoding="utf-8"))
SAMPLE_POLICY = ReviewPolicy.model_validate_json((SAMPLES / "review_policies" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
XICHENG = json.loads((SAMPLES / "review_policies" / "overrides" / "BR_XICHENG.json").read_text(encoding="utf-8"))
PRODUCT = Product.model_validate_json((SAMPLES / "products" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
PD = Decimal("0.031250")


def facts(**changes):
    base = {
        "applicant_age": 35,
        "monthly_income": Decimal("8000.00"),
        "requested_amount": Decimal("50000.00"),
        "term_months": 12,
        "bureau_report_found": True,
        "bureau_overdue_count_24m": 0,
        "bureau_current_overdue": False,
        "bureau_inquiries_3m": 1,
        "bureau_debt_total": Decimal("0.00"),
        "bureau_monthly_repayment": Decimal("0.00"),
    }
    return {**base, **changes}


def review(application_facts=None, score=585, policy=POLICY, fraud=None):
    application_facts = facts() if application_facts is None else application_facts
    results = evaluate(policy.rules, application_facts)
    hits = check(fraud or FraudFacts(applicant_age=application_facts.get("applicant_age")), policy.fraud_limits)
    return decide(policy, PRODUCT, application_facts, score, PD, results, hits)


def test_the_sample_policy_fits_the_sample_product():
    assert POLICY.violations(PRODUCT) == []
    assert POLICY.with_overrides(XICHENG).violations(PRODUCT) == []
    assert SAMPLE_POLICY.violations(PRODUCT) == []
    assert SAMPLE_POLICY.with_overrides(XICHENG).violations(PRODUCT) == []


def test_approve_with_the_least_cap_and_the_band_rate():
    decision = review()
    assert decision.outcome is DecisionOutcome.APPROVE
    assert decision.reasons == ()
    assert decision.approved_limit == Decimal("50000.00")  # requested < income cap 80000 < band A cap
    assert decision.annual_rate == Decimal("0.0720") and decision.band == "A"


@pytest.mark.parametrize(
    "changes, score, limit, rate",
    [
        ({"requested_amount": Decimal("300000.00"), "monthly_income": Decimal("50000.00")}, 585, "300000.00", "0.0720"),  # product max
        ({"requested_amount": Decimal("90000.00"), "term_months": 36}, 585, "80000.00", "0.0720"),  # 10 x income
        ({"requested_amount": Decimal("90000.00"), "term_months": 36}, 545, "80000.00", "0.1200"),  # income cap below band C cap
        ({"requested_amount": Decimal("90000.00"), "monthly_income": Decimal("20000.00")}, 530, "50000.00", "0.1500"),  # band D cap
        ({"requested_amount": Decimal("5000.00"), "monthly_income": Decimal("3333.33"), "term_months": 36}, 565, "5000.00", "0.0960"),
    ],
)
def test_the_limit_is_the_least_of_its_caps(changes, score, limit, rate):
    decision = review(facts(**changes), score)
    assert decision.outcome is DecisionOutcome.APPROVE, decision.reasons
    assert decision.approved_limit == Decimal(limit)
    assert decision.annual_rate == Decimal(rate)


def test_a_fractional_income_multiple_never_rounds_the_cap_up():
    policy = POLICY.model_copy(update={"income_multiple": Decimal("2.5")})
    policy = ReviewPolicy.model_validate(policy.model_dump())
    decision = review(facts(monthly_income=Decimal("3333.33"), requested_amount=Decimal("9000.00"), term_months=36), policy=policy)
    assert decision.limit_caps["income_cap"] == Decimal("8333.32")  # 8333.325 cut to the fen
    assert decision.approved_limit == Decimal("8333.32")


def test_a_limit_below_the_product_minimum_rejects():
    policy = ReviewPolicy.model_validate({**POLICY.model_dump(), "income_multiple": "0.3"})
    decision = review(facts(monthly_income=Decimal("3000.00"), requested_amount=Decimal("5000.00"), term_months=36), policy=policy)
    assert decision.outcome is DecisionOutcome.REJECT
    assert decision.reasons == (D_LIMIT_BELOW_MINIMUM,)
    assert decision.approved_limit is None and decision.annual_rate is None


def test_fraud_hits_reject_first_with_every_reject_reason():
    decision = review(
        facts(bureau_current_overdue=True, bureau_inquiries_3m=9),
        score=480,
        fraud=FraudFacts(id_blacklisted=True, distinct_ids_for_card_in_window=3, applicant_age=35),
    )
    assert decision.outcome is DecisionOutcome.REJECT
    assert decision.reasons == ("F_BLACKLIST", "F_CARD_SHARED", "R_CURRENT_OVERDUE", D_SCORE_BELOW_CUTOFF)
    assert decision.approved_limit is None


def test_a_reject_rule_rejects_even_with_a_top_score_and_refer_rules():
    decision = review(facts(applicant_age=61, bureau_inquiries_3m=9), score=700)
    assert decision.outcome is DecisionOutcome.REJECT
    assert decision.reasons == ("R_AGE_RANGE",)


def test_debt_to_income_rejects():
    # 3000 existing + 60000 / 12 = 8000 > 0.55 * 10000
    decision = review(facts(monthly_income=Decimal("10000.00"), requested_amount=Decimal("60000.00"), bureau_monthly_repayment=Decimal("3000.00")))
    assert decision.reasons == ("R_DTI_HIGH",)


@pytest.mark.parametrize("score, outcome", [(499, "REJECT"), (500, "MANUAL_REVIEW"), (519, "MANUAL_REVIEW"), (520, "APPROVE")])
def test_cut_offs_and_grey_band(score, outcome):
    decision = review(facts(requested_amount=Decimal("10000.00")), score=score)
    assert decision.outcome.value == outcome
    if outcome == "REJECT":
        assert decision.reasons == (D_SCORE_BELOW_CUTOFF,)
    if outcome == "MANUAL_REVIEW":
        assert decision.reasons == (D_SCORE_GREY_BAND,)
        assert decision.approved_limit == Decimal("10000.00")  # the proposal for the reviewer
        assert decision.annual_rate == Decimal("0.1800")


def test_a_refer_rule_sends_to_manual_review_with_a_proposal():
    decision = review(facts(bureau_inquiries_3m=7, bureau_overdue_count_24m=3), score=510)
    assert decision.outcome is DecisionOutcome.MANUAL_REVIEW
    assert decision.reasons == ("R_OVERDUE_24M_SOME", "R_MULTI_LENDING", D_SCORE_GREY_BAND)
    assert decision.approved_limit == Decimal("20000.00")  # band E cap


def test_a_rule_that_cannot_be_evaluated_refers():
    application = facts()
    del application["bureau_inquiries_3m"]
    decision = review(application)
    assert decision.outcome is DecisionOutcome.MANUAL_REVIEW
    assert decision.reasons == ("R_MULTI_LENDING",)
    (failed,) = [r for r in decision.rule_results if r.note]
    assert failed.code == "R_MULTI_LENDING" and failed.outcome == REFER


def test_a_score_above_every_band_goes_to_manual_review():
    decision = review(score=1001)
    assert decision.outcome is DecisionOutcome.MANUAL_REVIEW
    assert decision.reasons == (D_NO_SCORE_BAND,)


def test_duplicate_codes_are_listed_once():
    results = [RuleResult("R_X", REJECT, True), RuleResult("R_X", REJECT, True)]
    hits = [FraudHit("F_BLACKLIST", "a"), FraudHit("F_BLACKLIST", "b")]
    decision = decide(POLICY, PRODUCT, facts(), 585, PD, results, hits)
    assert decision.reasons == ("F_BLACKLIST", "R_X")


# ---- branch overrides -------------------------------------------------------------------------


def test_branch_override_replaces_the_income_rule_and_lowers_the_grey_band_rate():
    branch = POLICY.with_overrides(XICHENG)
    assert branch.branch_code == "BR_XICHENG" and branch.override_version == XICHENG["version"]
    assert branch.rules.codes == POLICY.rules.codes  # replaced in place
    income = facts(monthly_income=Decimal("4500.00"), requested_amount=Decimal("10000.00"))
    assert review(income).outcome is DecisionOutcome.APPROVE
    assert review(income, policy=branch).reasons == ("R_INCOME_MIN",)
    grey = review(facts(requested_amount=Decimal("10000.00")), score=505, policy=branch)
    assert grey.outcome is DecisionOutcome.MANUAL_REVIEW and grey.annual_rate == Decimal("0.1500")
    assert branch.digest != POLICY.digest
    assert POLICY.band_for(505).annual_rate == Decimal("0.1800")  # the product's policy is untouched


def test_branch_override_adds_disables_and_moves_cut_offs():
    branch = POLICY.with_overrides(
        {
            "branch_code": "BR_CHAOYANG",
            "product_code": "CONSUMER_STD",
            "version": "1",
            "rules": [{"code": "R_NO_FARMERS_OVER_55", "expression": "occupation == 'FARMER' && applicant_age > 55", "outcome": "REFER"}],
            "disable_rules": ["R_NO_BUREAU_RECORD"],
            "reject_below": 520,
            "refer_below": 540,
            "income_multiple": "5",
            "bands": {"A": {"limit_cap": "150000.00"}},
            "fraud_limits": {"max_applications_per_person": 1},
        }
    )
    assert "R_NO_BUREAU_RECORD" not in branch.rules.codes and branch.rules.codes[-1] == "R_NO_FARMERS_OVER_55"
    assert review(facts(bureau_report_found=False), policy=branch).outcome is DecisionOutcome.APPROVE
    assert review(facts(occupation="FARMER", applicant_age=58), policy=branch).reasons == ("R_NO_FARMERS_OVER_55",)
    assert review(score=515, policy=branch).reasons == (D_SCORE_BELOW_CUTOFF,)
    assert review(score=535, policy=branch).reasons == (D_SCORE_GREY_BAND,)
    assert review(facts(requested_amount=Decimal("90000.00"), term_months=36), policy=branch).approved_limit == Decimal("40000.00")
    assert branch.band_for(600).limit_cap == Decimal("150000.00")
    assert branch.fraud_limits.max_applications_per_person == 1 and branch.fraud_limits.max_ids_per_card == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"product_code": "OTHER"}, "not CONSUMER_STD"),
        ({"disable_rules": ["R_NOPE"]}, "R_NOPE is not a rule"),
        ({"bands": {"Z": {"annual_rate": "0.1"}}}, "Z is not a band"),
        ({"reject_below": 600}, "reject_below is above refer_below"),
        ({"rules": [{"code": "R_INCOME_MIN", "expression": "monthly_income <<", "outcome": "REJECT"}]}, "rule R_INCOME_MIN"),
        ({"bands": {"E": {"annual_rate": "0.50"}}}, "annual_rate"),
        ({"cutoffs": 1}, "cutoffs"),
    ],
)
def test_bad_overrides_are_refused(change, message):
    with pytest.raises((ValueError, ValidationError), match=message):
        POLICY.with_overrides({**XICHENG, **change})


def test_overrides_apply_to_the_product_policy_only():
    with pytest.raises(ValueError, match="already has the overrides"):
        POLICY.with_overrides(XICHENG).with_overrides(XICHENG)


# ---- policy validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"reject_below": 530, "refer_below": 520}, "reject_below is above refer_below"),
        ({"bands": [{"code": "A", "min_score": 0, "max_score": 500, "annual_rate": "0.1", "limit_cap": "1000.00"},
                    {"code": "B", "min_score": 502, "max_score": 900, "annual_rate": "0.1", "limit_cap": "1000.00"}]}, "without gap"),
        ({"bands": [{"code": "A", "min_score": 510, "max_score": 900, "annual_rate": "0.1", "limit_cap": "1000.00"}]}, "cover every score"),
        ({"bands": [{"code": "A", "min_score": 0, "max_score": 510, "annual_rate": "0.1", "limit_cap": "1000.00"}]}, "above the highest band"),
        ({"bands": [{"code": "A", "min_score": 0, "max_score": 500, "annual_rate": "0.1", "limit_cap": "1000.00"},
                    {"code": "A", "min_score": 501, "max_score": 900, "annual_rate": "0.1", "limit_cap": "1000.00"}]}, "unique"),
        ({"income_multiple": "0"}, "income_multiple"),
        ({"rules": [{"code": "R_X", "expression": "(", "outcome": "REJECT"}]}, "rule R_X: the expression does not compile"),
    ],
)
def test_bad_policies_are_refused(change, message):
    with pytest.raises(ValidationError, match=message):
        ReviewPolicy.model_validate({**POLICY.model_dump(mode="json"), **change})


def test_violations_against_the_product():
    cheap = ReviewPolicy.model_validate({**POLICY.model_dump(mode="json"), "product_code": "OTHER_PRODUCT"})
    assert [v.field for v in cheap.violations(PRODUCT)] == ["product_code"]
    risky = POLICY.with_overrides({**XICHENG, "bands": {"E": {"annual_rate": "0.30"}}})
    assert [v.field for v in risky.violations(PRODUCT)] == ["bands.E.annual_rate"]


def test_decide_refuses_bad_inputs():
    with pytest.raises(ValueError, match="monthly_income"):
        decide(POLICY, PRODUCT, facts(monthly_income=8000.0), 585, PD, [], [])
    with pytest.raises(ValueError, match="requested_amount"):
        decide(POLICY, PRODUCT, {k: v for k, v in facts().items() if k != "requested_amount"}, 585, PD, [], [])
    with pytest.raises(ValueError, match="score"):
        decide(POLICY, PRODUCT, facts(), 585.0, PD, [], [])
    other = PRODUCT.model_copy(update={"code": "OTHER"})
    with pytest.raises(ValueError, match="not OTHER"):
        decide(POLICY, other, facts(), 585, PD, [], [])


# ---- trail ------------------------------------------------------------------------------------


def test_the_trail_is_json_and_complete():
    application = facts(bureau_inquiries_3m=7)
    decision = review(application, score=510, fraud=FraudFacts(applicant_age=35, applications_by_person_in_window=2))
    trail = json.loads(json.dumps(decision.trail(), ensure_ascii=False, allow_nan=False))
    assert trail["outcome"] == "MANUAL_REVIEW"
    assert trail["reasons"] == ["R_MULTI_LENDING", D_SCORE_GREY_BAND]
    assert trail["approved_limit"] == "20000.00" and trail["annual_rate"] == "0.1800" and trail["band"] == "E"
    assert trail["score"] == 510 and trail["pd"] == "0.031250"
    assert trail["inputs"]["monthly_income"] == "8000.00" and trail["inputs"]["bureau_inquiries_3m"] == 7
    assert set(trail["inputs"]) == set(application)
    assert [r["code"] for r in trail["rule_results"]] == list(POLICY.rules.codes)
    assert {"code": "R_MULTI_LENDING", "outcome": "REFER", "fired": True} in trail["rule_results"]
    assert trail["fraud_hits"] == []
    assert trail["limit_caps"] == {"requested_amount": "50000.00", "product_max": "300000.00", "income_cap": "80000.00", "band_cap": "20000.00"}
    assert trail["policy"]["version"] == "2026.11.1" and trail["policy"]["digest"] == POLICY.digest
    assert trail["policy"]["reject_below"] == 500 and trail["policy"]["refer_below"] == 520
    assert trail["product"]["code"] == "CONSUMER_STD"


def test_a_rejected_trail_names_the_branch_policy_and_the_fraud_detail():
    branch = POLICY.with_overrides(XICHENG)
    decision = review(policy=branch, fraud=FraudFacts(applicant_age=35, mobile_blacklisted=True))
    trail = json.loads(json.dumps(decision.trail()))
    assert trail["outcome"] == "REJECT" and trail["approved_limit"] is None and trail["annual_rate"] is None
    assert trail["fraud_hits"] == [{"code": "F_BLACKLIST", "detail": "on the blacklist: mobile"}]
    assert trail["policy"]["branch_code"] == "BR_XICHENG" and trail["policy"]["override_version"] == "2026.12.1"


def test_odd_facts_still_make_json():
    from datetime import date

    from chalicelib.domain.application import Purpose

    decision = review(facts(purpose=Purpose.TRAVEL, applied_on=date(2026, 1, 15), tags=("a", 1), ratio=float("nan"), odd=object))
    trail = json.loads(json.dumps(decision.trail(), allow_nan=False))
    assert trail["inputs"]["purpose"] == "TRAVEL" and trail["inputs"]["applied_on"] == "2026-01-15"
    assert trail["inputs"]["tags"] == ["a", 1] and trail["inputs"]["ratio"] == "nan"


def test_the_decision_keeps_its_own_copy_of_the_facts():
    application = facts()
    decision = review(application)
    application["monthly_income"] = Decimal("1.00")
    assert decision.trail()["inputs"]["monthly_income"] == "8000.00"
