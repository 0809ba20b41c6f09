"""Credit lines, pure: the line's id and validity, what a drawdown may ask, the drawdown's plan."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain import identifiers
from chalicelib.domain.credit_line import CreditLine, CreditLineStatus, DrawdownRequest, credit_line_id, drawdown_violations, expiry
from chalicelib.domain.funding import ProductFunding
from chalicelib.domain.masking import scrub
from chalicelib.domain.product import Product
from chalicelib.domain.routing import NOT_COOPERATING, RoutingConfigError, drawdown_plan
from tests.unit.test_routing import FUNDERS, context, funder, funding, joint, single

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "sample"
PRODUCT = Product.model_validate_json((SAMPLES / "products" / "CONSUMER_LINE.json").read_text(encoding="utf-8"))
OPENED = date(2026, 11, 23)


def line(**changes) -> CreditLine:
    data = dict(
        credit_line_id="CL20261123-100000-abcdef0123",
        application_id="AP20261123-100000-abcdef0123",
        partner_id="P_DEMO",
        customer_id="CU1",
        branch_code="BR_DONGCHENG",
        product_code="CONSUMER_LINE",
        limit=Decimal("10000.00"),
        annual_rate=Decimal("0.0720"),
        channel=single("A"),
        opened_on=OPENED,
        expires_on=expiry(OPENED, 12),
        status=CreditLineStatus.ACTIVE,
    )
    data.update(changes)
    return CreditLine(**data)


def request(**changes) -> DrawdownRequest:
    data = {"partner_application_no": "D1", "amount": "3000.00", "term_months": 6, "repayment_method": "EQUAL_INSTALLMENT", "purpose": "CONSUMPTION"}
    data.update(changes)
    return DrawdownRequest.model_validate(data)


def fields(violations) -> list[str]:
    return [v.field for v in violations]


def test_a_line_s_id_is_derived_from_its_application_so_a_retry_opens_the_same_line():
    assert credit_line_id("AP20261123-100000-abcdef0123") == "CL20261123-100000-abcdef0123"
    with pytest.raises(ValueError):
        credit_line_id("CL20261123-100000-abcdef0123")


def test_a_line_expires_its_validity_in_calendar_months_later_clamped_to_month_end():
    assert expiry(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert expiry(date(2026, 11, 23), 12) == date(2027, 11, 23)
    assert line().usable_on(OPENED) and not line().usable_on(date(2027, 11, 23))
    assert not line(status=CreditLineStatus.FROZEN).usable_on(OPENED)


def test_a_drawdown_within_the_line_and_the_product_has_no_violations():
    assert drawdown_violations(line(), request(), PRODUCT, OPENED, Decimal("10000.00")) == []
    assert drawdown_violations(line(), request(amount="10000.00"), PRODUCT, OPENED, Decimal("10000.00")) == []


def test_a_drawdown_over_what_is_left_names_the_amount_and_what_is_left():
    found = drawdown_violations(line(), request(amount="3000.01"), PRODUCT, OPENED, Decimal("3000.00"))
    assert fields(found) == ["amount"] and "3000.00" in found[0].message


def test_a_drawdown_outside_the_product_terms_names_each_field():
    found = drawdown_violations(line(), request(amount="100.00", term_months=24, repayment_method="EQUAL_PRINCIPAL"), PRODUCT, OPENED, Decimal("10000"))
    assert sorted(fields(found)) == ["amount", "repayment_method", "term_months"]


@pytest.mark.parametrize("status, on", [(CreditLineStatus.FROZEN, OPENED), (CreditLineStatus.CLOSED, OPENED), (CreditLineStatus.ACTIVE, date(2027, 11, 23)), (CreditLineStatus.ACTIVE, date(2026, 11, 22))])
def test_a_line_that_is_not_usable_refuses_every_drawdown(status, on):
    assert fields(drawdown_violations(line(status=status), request(), PRODUCT, on, Decimal("10000"))) == ["credit_line_id"]


def test_a_drawdown_request_is_strict():
    with pytest.raises(ValidationError) as raised:
        DrawdownRequest.model_validate({"partner_application_no": "D 1", "amount": 3000, "term_months": "6", "repayment_method": "X", "purpose": "CONSUMPTION", "x": 1})
    assert {e["loc"][0] for e in raised.value.errors()} == {"partner_application_no", "amount", "term_months", "repayment_method", "x"}


def test_a_credit_line_product_says_how_long_its_lines_last():
    document = json.loads((SAMPLES / "product_funding" / "CONSUMER_LINE.json").read_text(encoding="utf-8"))
    assert ProductFunding.model_validate(document).line_validity_months == 12
    with pytest.raises(ValidationError):
        ProductFunding.model_validate({**document, "line_validity_months": None})
    with pytest.raises(ValidationError):
        ProductFunding.model_validate({**document, "mode": "SINGLE_APPROVAL"})


def test_a_drawdown_plan_is_the_line_s_channel_then_own_funds_whatever_the_rules():
    funders = dict(FUNDERS, OWN=funder("OWN", kind="OWN_FUNDS"))
    result = drawdown_plan("CONSUMER_LINE", single("LINE_B", "B"), funding([single("A"), single("B")], ["fee_rate"], fallback="OWN", mode="CREDIT_LINE"), funders, context())
    assert [c.channel.code for c in result.to_try()] == ["LINE_B", "OWN_FUNDS_FALLBACK"]
    assert result.rules == ("credit_line",) and result.trail()["mode"] == "CREDIT_LINE"


def test_a_joint_line_splits_each_drawdown_by_its_ratios_to_the_fen():
    result = drawdown_plan("CONSUMER_LINE", joint("J", ("A", "0.7"), ("B", "0.3")), None, FUNDERS, context(amount=Decimal("1000.01")))
    assert dict(result.candidates[0].shares) == {"A": Decimal("700.01"), "B": Decimal("300.00")}
    assert result.fallback is None and result.if_all_refuse == "NO_FUNDER"


def test_a_line_funder_that_stopped_cooperating_is_skipped_with_its_reason():
    funders = dict(FUNDERS, A=funder("A", cooperating=False))
    result = drawdown_plan("CONSUMER_LINE", single("LINE_A", "A"), None, funders, context())
    assert result.candidates[0].skip_reasons == (f"{NOT_COOPERATING}:A",) and result.to_try() == []


def test_a_line_whose_funder_is_gone_is_a_configuration_error():
    with pytest.raises(RoutingConfigError):
        drawdown_plan("CONSUMER_LINE", single("LINE_Z", "Z"), None, FUNDERS, context())


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_identifiers_pass_the_log_scrubber_unmasked(moment):
    application_id = identifiers.application_id(moment.replace(tzinfo=timezone.utc))
    assert scrub(application_id) == application_id
    assert scrub(credit_line_id(application_id)) == credit_line_id(application_id)
