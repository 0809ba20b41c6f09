"""Rules: CEL expressions compiled once at load, evaluated over a facts dict, never crashing the review."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from chalicelib.domain import rules as rules_module
from chalicelib.domain.rules import REFER, REJECT, Rule, RuleResult, RuleSet, compile_expression, evaluate


def ruleset(*specs: tuple[str, str, str]) -> RuleSet:
    return RuleSet.model_validate([{"code": c, "expression": e, "outcome": o} for c, e, o in specs])


def test_a_rule_fires_when_its_expression_is_true():
    rs = ruleset(("R_AGE_RANGE", "applicant_age < 18 || applicant_age > 60", "REJECT"), ("R_INQ", "bureau_inquiries_3m > 6", "REFER"))
    assert evaluate(rs, {"applicant_age": 61, "bureau_inquiries_3m": 2}) == [
        RuleResult("R_AGE_RANGE", REJECT, True),
        RuleResult("R_INQ", REFER, False),
    ]
    assert [r.fired for r in evaluate(rs, {"applicant_age": 30, "bureau_inquiries_3m": 7})] == [False, True]


def test_money_facts_as_decimal_compare_with_int_and_double_literals():
    rs = ruleset(("R_INCOME_MIN", "monthly_income < 3000", "REJECT"), ("R_DEBT", "bureau_debt_total > monthly_income * 24.0", "REFER"))
    results = evaluate(rs, {"monthly_income": Decimal("2999.99"), "bureau_debt_total": Decimal("100000.00")})
    assert [r.fired for r in results] == [True, True]
    results = evaluate(rs, {"monthly_income": Decimal("3000.00"), "bureau_debt_total": Decimal("72000.00")})
    assert [r.fired for r in results] == [False, False]


def test_enums_dates_and_lists_are_facts_too():
    from chalicelib.domain.application import Purpose

    rs = ruleset(("R_PURPOSE", "purpose in ['BUSINESS', 'AGRICULTURE']", "REFER"), ("R_DAY", "applied_on == '2026-01-15'", "REFER"))
    results = evaluate(rs, {"purpose": Purpose.BUSINESS, "applied_on": date(2026, 1, 15)})
    assert [(r.fired, r.note) for r in results] == [(True, None), (True, None)]


def test_a_rule_that_does_not_compile_is_refused_naming_its_code():
    with pytest.raises(ValidationError) as raised:
        RuleSet.model_validate([{"code": "R_BROKEN", "expression": "monthly_income <", "outcome": "REJECT"}])
    assert "rule R_BROKEN: the expression does not compile" in str(raised.value)


@pytest.mark.parametrize(
    "spec",
    [
        {"code": "bad code", "expression": "true", "outcome": "REJECT"},
        {"code": "R_X", "expression": "", "outcome": "REJECT"},
        {"code": "R_X", "expression": "true", "outcome": "APPROVE"},
        {"code": "R_X", "expression": "true", "outcome": "REJECT", "python": "import os"},
    ],
)
def test_a_malformed_rule_is_refused(spec):
    with pytest.raises(ValidationError):
        Rule.model_validate(spec)


def test_rule_codes_are_unique_in_a_set():
    with pytest.raises(ValidationError, match="R_A appears more than once"):
        ruleset(("R_A", "true", "REJECT"), ("R_A", "false", "REFER"))


@pytest.mark.parametrize(
    "expression, facts",
    [
        ("monthly_income < 3000", {}),  # missing fact
        ("bureau_inquiries_3m > 6", {"bureau_inquiries_3m": None}),  # null in a comparison
        ("10 / bureau_inquiries_3m > 1", {"bureau_inquiries_3m": 0}),  # integer division by zero
        ("requested_amount / term_months > 1.0", {"requested_amount": Decimal("1"), "term_months": 12}),  # double / int
        ("bureau_inquiries_3m", {"bureau_inquiries_3m": 3}),  # not a boolean
    ],
)
def test_an_expression_that_fails_refers_with_a_note_and_never_raises(expression, facts):
    (result,) = evaluate(ruleset(("R_X", expression, "REJECT")), facts)
    assert result.fired is True
    assert result.outcome == REFER
    assert result.note and "referred for manual review" in result.note


def test_an_unknown_object_is_seen_as_text():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    results = evaluate(ruleset(("R_A", "x == 'odd'", "REJECT")), {"x": Odd()})
    assert [r.fired for r in results] == [True]


def test_facts_cel_cannot_take_refer_every_rule(monkeypatch):
    def refuse(_variables):
        raise ValueError("Failed to convert variable 'x'")

    monkeypatch.setattr(rules_module.cel, "Context", refuse)
    results = evaluate(ruleset(("R_A", "false", "REJECT"), ("R_B", "false", "REJECT")), {"x": 1})
    assert [(r.fired, r.outcome) for r in results] == [(True, REFER), (True, REFER)]
    assert "Failed to convert variable 'x'" in results[0].note


def test_the_same_text_is_compiled_once(monkeypatch):
    compile_expression.cache_clear()
    calls = []
    real = rules_module.cel.compile
    monkeypatch.setattr(rules_module.cel, "compile", lambda text: calls.append(text) or real(text))
    for _ in range(3):
        ruleset(("R_A", "applicant_age > 99", "REJECT"), ("R_B", "applicant_age > 99", "REFER"))
    rs = ruleset(("R_A", "applicant_age > 99", "REJECT"))
    for _ in range(10):
        evaluate(rs, {"applicant_age": 100})
    assert calls == ["applicant_age > 99"]


def test_rule_result_to_dict_has_the_note_only_when_there_is_one():
    assert RuleResult("R_A", REJECT, False).to_dict() == {"code": "R_A", "outcome": "REJECT", "fired": False}
    assert RuleResult("R_A", REFER, True, "n").to_dict()["note"] == "n"


def test_ruleset_iterates_and_lists_codes():
    rs = ruleset(("R_A", "true", "REJECT"), ("R_B", "false", "REFER"))
    assert len(rs) == 2 and rs.codes == ("R_A", "R_B") and [r.code for r in rs] == ["R_A", "R_B"]
