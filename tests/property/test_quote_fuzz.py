"""Fuzz POST /v1/quotes: whatever a partner sends, the answer is never a 5xx."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import QUOTE

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_values = {
    "product_code": st.sampled_from(["CONSUMER_STD", "X", ""]) | st.text(max_size=40),
    "amount": st.sampled_from(["1000.00", "300000.00", "12000.005", "-1", "0", "1e309"]) | st.decimals(allow_nan=True).map(str) | json_values,
    "term_months": st.integers(min_value=-(2**70), max_value=2**70) | json_values,
    "repayment_method": st.sampled_from(["EQUAL_INSTALLMENT", "BULLET", "bullet"]) | json_values,
    "annual_rate": st.sampled_from(["0.03", "0.24", "0.36", "0.3600000001"]) | st.decimals(allow_nan=True).map(str) | json_values,
    "start_date": st.dates().map(str) | json_values,
}
bodies = st.fixed_dictionaries({}, optional=field_values)
mutated = st.builds(lambda base, extra: {**base, **extra}, st.just(QUOTE), st.fixed_dictionaries({}, optional=field_values))


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=mutated | bodies | json_values)
def test_no_input_answers_5xx(post_signed, payload):
    response = post_signed("/v1/quotes", payload)
    assert response.status_code < 500, response.body
    body = json.loads(response.body)
    if response.status_code != 200:
        assert set(body) == {"code", "message", "details"}
    else:
        assert body["total_principal"] == body["amount"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.binary(max_size=200))
def test_no_raw_body_answers_5xx(post_signed, raw):
    assert post_signed("/v1/quotes", raw).status_code < 500
