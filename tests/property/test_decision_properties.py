"""Properties of every decision: the limit respects every cap, the rate is a band's, decisions repeat."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.antifraud import FraudFacts, check
from chalicelib.domain.decision import DecisionOutcome, ReviewPolicy, decide
from chalicelib.domain.product import Product
from chalicelib.domain.rules import evaluate

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "sample"
POLICY = ReviewPolicy.model_validate_json((SAMPLES / "review_policies" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
BRANCH = POLICY.with_overrides(json.loads((SAMPLES / "review_policies" / "overrides" / "BR_XICHENG.json").read_text(encoding="utf-8")))
PRODUCT = Product.model_validate_json((SAMPLES / "products" / "CONSUMER_STD.json").read_text(encoding="utf-8"))

amounts = st.integers(min_value=0, max_value=100_000_000).map(lambda fen: Decimal(fen).scaleb(-2))
multiples = st.integers(min_value=1, max_value=400).map(lambda tenths: Decimal(tenths) / 10)  # 0.1 .. 40.0

facts_strategy = st.fixed_dictionaries(
    {
        "applicant_age": st.integers(min_value=10, max_value=90),
        "monthly_income": amounts,
        "requested_amount": amounts,
        "term_months": st.sampled_from(PRODUCT.terms_months),
        "bureau_report_found": st.booleans(),
        "bureau_overdue_count_24m": st.integers(min_value=0, max_value=12),
        "bureau_current_overdue": st.booleans(),
        "bureau_inquiries_3m": st.integers(min_value=0, max_value=15),
        "bureau_debt_total": amounts,
        "bureau_monthly_repayment": amounts,
    }
)
fraud_strategy = st.builds(
    FraudFacts,
    id_blacklisted=st.booleans(),
    mobile_blacklisted=st.booleans(),
    card_blacklisted=st.booleans(),
    distinct_ids_for_mobile_in_window=st.integers(min_value=1, max_value=5),
    distinct_ids_for_card_in_window=st.integers(min_value=1, max_value=5),
    applications_by_person_in_window=st.integers(min_value=1, max_value=6),
    id_valid=st.booleans(),
    applicant_age=st.one_of(st.none(), st.integers(min_value=10, max_value=90)),
)
scores = st.integers(min_value=300, max_value=1100)
pds = st.integers(min_value=0, max_value=1_000_000).map(lambda n: Decimal(n).scaleb(-6))


def _policy(base: ReviewPolicy, multiple: Decimal) -> ReviewPolicy:
    return ReviewPolicy.model_validate({**base.model_dump(), "income_multiple": multiple})


@settings(max_examples=300, deadline=None)
@given(facts_strategy, fraud_strategy, scores, pds, multiples, st.booleans())
def test_limit_rate_and_determinism(facts, fraud, score, pd, multiple, branch):
    policy = _policy(BRANCH if branch else POLICY, multiple)
    results = evaluate(policy.rules, facts)
    hits = check(fraud, policy.fraud_limits)
    decision = decide(policy, PRODUCT, facts, score, pd, results, hits)

    if decision.outcome is DecisionOutcome.REJECT:
        assert decision.approved_limit is None and decision.annual_rate is None
        assert decision.reasons
    if decision.approved_limit is not None:
        limit = decision.approved_limit
        assert limit == limit.quantize(Decimal("0.01"))
        assert limit <= facts["requested_amount"]
        assert limit <= PRODUCT.amount_max
        assert limit <= multiple * facts["monthly_income"]
        assert limit <= policy.band_for(score).limit_cap
        assert limit >= PRODUCT.amount_min
        assert decision.annual_rate in {band.annual_rate for band in policy.bands}
        assert decision.annual_rate == policy.band_for(score).annual_rate
    if decision.outcome is DecisionOutcome.APPROVE:
        assert decision.reasons == ()
        assert not hits and not any(r.fired for r in results)
        assert score >= policy.refer_below
        assert decision.approved_limit is not None
    if hits:
        assert decision.outcome is DecisionOutcome.REJECT
    if score < policy.reject_below:
        assert decision.outcome is DecisionOutcome.REJECT

    again = decide(policy, PRODUCT, dict(facts), score, pd, evaluate(policy.rules, dict(facts)), check(fraud, policy.fraud_limits))
    assert again == decision
    assert json.dumps(again.trail(), sort_keys=True) == json.dumps(decision.trail(), sort_keys=True)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["applicant_age", "monthly_income", "bureau_inquiries_3m", "term_months", "requested_amount"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.floats(allow_nan=True))))
def test_evaluation_never_raises_whatever_the_facts(facts):
    results = evaluate(POLICY.rules, facts)
    assert [r.code for r in results] == list(POLICY.rules.codes)
    assert all(r.note is None or (r.fired and r.outcome == "REFER") for r in results)
