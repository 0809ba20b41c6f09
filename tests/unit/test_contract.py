"""The contract's data: the amount in Chinese uppercase, the template's placeholders, the schedule."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.domain.contract import (
    PLACEHOLDERS,
    Borrower,
    ContractTemplate,
    ContractTerms,
    FunderShare,
    amount_in_words,
    contract_no,
    format_percent,
)
from chalicelib.domain.schedule import RepaymentMethod, build_schedule

TEMPLATES = Path(__file__).resolve().parents[2] / "config" / "sample" / "contract_templates"
ID_NUMBER, MOBILE, CARD = "110101199003074514", "13800138000", "6222020200112233446"


def terms(**overrides) -> ContractTerms:
    values = dict(
        contract_no="HT20261123-143501-a3f9c0d2e1",
        kind="LOAN",
        application_id="AP20261123-143501-a3f9c0d2e1",
        credit_line_id=None,
        product_code="CONSUMER_STD",
        product_name="个人消费贷款(标准版)",
        branch_code="BR_DONGCHENG",
        branch_name="东城农村商业银行",
        borrower=Borrower("张三", ID_NUMBER, MOBILE, CARD, "中国工商银行"),
        funders=(FunderShare("BR_DONGCHENG", "东城农村商业银行", D("12000.00"), D("1"), True),),
        amount=D("12000.00"),
        annual_rate=D("0.0720"),
        term_months=12,
        repayment_method=RepaymentMethod.EQUAL_INSTALLMENT,
        start_date=date(2026, 11, 23),
        accepted_at=datetime(2026, 11, 23, 6, 35, 1, tzinfo=timezone.utc),
    )
    values.update(overrides)
    return ContractTerms(**values)


def template_document(name: str = "CONSUMER_STD") -> dict:
    return json.loads((TEMPLATES / f"{name}.json").read_text(encoding="utf-8"))


# -- amount in words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, words",
    [
        ("0.01", "壹分"),
        ("0.10", "壹角整"),
        ("0.11", "壹角壹分"),
        ("0.00", "零元整"),
        ("1.00", "壹元整"),
        ("10.10", "壹拾元壹角整"),
        ("10.01", "壹拾元零壹分"),
        ("12000.00", "壹万贰仟元整"),
        ("12000", "壹万贰仟元整"),
        ("100000.00", "壹拾万元整"),
        ("1000000.05", "壹佰万元零伍分"),
        ("10005.00", "壹万零伍元整"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("1001000.00", "壹佰万零壹仟元整"),
        ("10100000.00", "壹仟零壹拾万元整"),
        ("100010000.00", "壹亿零壹万元整"),
        ("300000.00", "叁拾万元整"),
        ("325000.50", "叁拾贰万伍仟元伍角整"),
        ("9999999999999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(D(amount)) == words


@pytest.mark.parametrize("bad", [D("-1.00"), D("0.005"), D("NaN"), D("10000000000000000.00")])
def test_amount_in_words_refuses_what_cannot_be_written(bad):
    with pytest.raises(ValueError):
        amount_in_words(bad)


def test_amount_in_words_never_has_two_zeros_in_a_row_or_a_trailing_zero():
    for fen in range(0, 10**9, 7919 * 13):
        words = amount_in_words(D(fen) / 100)
        assert "零零" not in words and not words.endswith("零"), (fen, words)


# -- contract number and terms ----------------------------------------------------------------


def test_contract_number_comes_from_the_application_id():
    assert contract_no("AP20261123-143501-a3f9c0d2e1") == "HT20261123-143501-a3f9c0d2e1"
    with pytest.raises(ValueError):
        contract_no("XX1")


def test_the_schedule_in_the_terms_is_the_domain_schedule():
    for method in RepaymentMethod:
        t = terms(repayment_method=method, term_months=36)
        assert t.schedule() == build_schedule(D("12000.00"), D("0.0720"), 36, method, date(2026, 11, 23))
    assert terms(kind="DRAWDOWN", credit_line_id="CL1").schedule().installments[-1].balance_after == D("0.00")


def test_a_credit_line_has_no_schedule_but_an_expiry():
    line = terms(kind="CREDIT_LINE", credit_line_id="CL20261123", line_expires_on=date(2027, 11, 23))
    assert not line.has_schedule and line.maturity_date == date(2027, 11, 23)
    with pytest.raises(ValueError):
        line.schedule()
    with pytest.raises(ValueError, match="line_expires_on"):
        terms(kind="CREDIT_LINE", credit_line_id="CL1")
    with pytest.raises(ValueError, match="credit_line_id"):
        terms(kind="DRAWDOWN")


def test_joint_shares_must_add_up_to_the_amount_and_to_one():
    lead = FunderShare("BR_DONGCHENG", "东城农村商业银行", D("8400.00"), D("0.7"), True)
    joint = terms(funders=(lead, FunderShare("PB_HUAXIA_JOINT", "华夏联合贷参与行", D("3600.00"), D("0.3"), False)))
    assert joint.joint
    with pytest.raises(ValueError, match="add up to the amount"):
        terms(funders=(lead, FunderShare("PB", "P", D("3600.01"), D("0.3"), False)))
    with pytest.raises(ValueError, match="ratios"):
        terms(funders=(lead, FunderShare("PB", "P", D("3600.00"), D("0.31"), False)))
    thirds = (D("4000.00"), D("4000.00"), D("4000.00"))
    rounded = terms(funders=tuple(FunderShare(f"F{i}", f"F{i}", a, D("0.3333"), i == 0) for i, a in enumerate(thirds)))
    assert rounded.joint  # ratios rounded to four places for the document: 0.9999 is fine
    with pytest.raises(ValueError, match="lead"):
        terms(funders=(replace(lead, lead=False), FunderShare("PB", "P", D("3600.00"), D("0.3"), True)))


def test_accepted_at_must_be_aware():
    with pytest.raises(ValueError, match="accepted_at"):
        terms(accepted_at=datetime(2026, 11, 23, 14, 35))


def test_personal_data_never_shows_in_a_repr_or_a_message():
    t = terms()
    for text in (repr(t), repr(t.borrower), str(t)):
        assert ID_NUMBER not in text and MOBILE not in text and CARD not in text
    for bad in (dict(amount=D("0")), dict(kind="X"), dict(funders=()), dict(term_months=0)):
        with pytest.raises(ValueError) as caught:
            terms(**bad)
        assert ID_NUMBER not in str(caught.value) and MOBILE not in str(caught.value)


# -- the template -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["CONSUMER_STD", "CONSUMER_LINE", "CONSUMER_STD.BR_XICHENG"])
def test_the_sample_templates_validate_and_fill(name):
    template = ContractTemplate.model_validate(template_document(name))
    kind = dict(kind="CREDIT_LINE", credit_line_id="CL1", line_expires_on=date(2027, 11, 23)) if name == "CONSUMER_LINE" else {}
    clauses = template.rendered_clauses(terms(**kind))
    assert clauses and all("{" not in text and "}" not in text for _, text in clauses)
    title, text = template.rendered_authorisation(terms(**kind))
    assert "张三" in text and "东城农村商业银行" in text


def test_clauses_are_filled_from_the_terms():
    template = ContractTemplate.model_validate(template_document())
    text = " ".join(text for _, text in template.rendered_clauses(terms()))
    assert "12,000.00" in text and "壹万贰仟元整" in text and "7.20%" in text and "10.80%" in text
    assert "上浮 50%" in text and "12 个月" in text and "等额本息" in text and "东城农村商业银行" in text


@pytest.mark.parametrize(
    "text",
    ["借款 {amout} 元", "{amount.__class__}", "{amount[0]}", "{amount:>10}", "{amount!r}", "a lone { brace", "{borrower_id_number}"],
)
def test_an_unknown_or_unsafe_placeholder_is_a_validation_error(text):
    document = template_document()
    document["clauses"][0]["text"] = text
    with pytest.raises(ValidationError):
        ContractTemplate.model_validate(document)


def test_unknown_placeholders_are_refused_in_every_text_field():
    for field in ("title", "authorisation_title", "authorisation_text"):
        document = template_document()
        document[field] = "{no_such_thing}"
        with pytest.raises(ValidationError, match="no_such_thing"):
            ContractTemplate.model_validate(document)
    document = template_document()
    document["clauses"][1]["heading"] = "{nope}"
    with pytest.raises(ValidationError):
        ContractTemplate.model_validate(document)


def test_literal_braces_and_every_known_placeholder_are_allowed():
    document = template_document()
    document["clauses"][0]["text"] = "{{literal}} " + " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    template = ContractTemplate.model_validate(document)
    text = template.rendered_clauses(terms())[0][1]
    assert text.startswith("{literal} ") and "{" not in text[10:]


def test_the_template_is_strict():
    document = template_document()
    document["surprise"] = 1
    with pytest.raises(ValidationError):
        ContractTemplate.model_validate(document)
    document = template_document()
    document["penalty_rate_multiplier"] = "0.9"
    with pytest.raises(ValidationError):
        ContractTemplate.model_validate(document)


def test_the_penalty_rate_follows_the_multiplier():
    document = template_document()
    document["penalty_rate_multiplier"] = "1.3"
    document["clauses"][0]["text"] = "{penalty_rate} {penalty_uplift}"
    assert ContractTemplate.model_validate(document).rendered_clauses(terms())[0][1] == "9.36% 30%"


def test_rates_are_shown_as_percentages():
    assert format_percent(D("0.0720")) == "7.20%"
    assert format_percent(D("0.0435")) == "4.35%"
    assert format_percent(D("0.07125")) == "7.125%"
    assert format_percent(D("0")) == "0.00%"


def test_dates_in_the_text_are_beijing_dates():
    late = datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)  # 01:00 on the 24th in Beijing
    template = ContractTemplate.model_validate(template_document())
    assert "2026年11月24日" in template.rendered_authorisation(terms(accepted_at=late))[1]
    assert "2026年11月24日" in template.rendered_authorisation(terms(accepted_at=late.astimezone(timezone(timedelta(hours=-5)))))[1]


def test_amounts_of_ten_thousand_yi_and_more():
    assert amount_in_words(D("1000000000000.00")) == "壹万亿元整"
    assert amount_in_words(D("1000100000000.00")) == "壹万零壹亿元整"
