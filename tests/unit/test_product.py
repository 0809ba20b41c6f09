import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.domain.product import Product
from chalicelib.domain.schedule import RepaymentMethod as M

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample" / "products" / "CONSUMER_STD.json"


@pytest.fixture
def product():
    return Product.model_validate_json(SAMPLE.read_text(encoding="utf-8"))


def test_the_sample_product_is_the_issue_s(product):
    assert (product.amount_min, product.amount_max) == (D("1000.00"), D("300000.00"))
    assert product.terms_months == (3, 6, 9, 12, 24, 36)
    assert set(product.repayment_methods) == set(M)
    assert product.default_annual_rate == D("0.0720")
    assert (product.quote_rate_min, product.quote_rate_max) == (D("0.03"), D("0.24"))


def test_terms_that_fit_have_no_violations(product):
    assert product.violations(D("1000.00"), 3, M.BULLET, None) == []
    assert product.violations(D("300000.00"), 36, M.EQUAL_PRINCIPAL, D("0.24")) == []


def test_each_violation_names_its_field(product):
    found = product.violations(D("999.99"), 7, M.BULLET, D("0.25"))
    assert [v.field for v in found] == ["amount", "term_months", "annual_rate"]
    assert "1000.00" in found[0].message


def test_an_inconsistent_product_is_refused_when_loaded():
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for change in ({"amount_min": "500000.00"}, {"default_annual_rate": "0.30"}, {"terms_months": [0]}, {"repayment_methods": ["WEEKLY"]}, {"surprise": 1}):
        with pytest.raises(ValidationError):
            Product.model_validate({**raw, **change})
