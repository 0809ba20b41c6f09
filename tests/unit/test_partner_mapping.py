"""Partner mappings: the converters, the errors (naming the partner's fields), and the two sample partners."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tests.support.applications import STANDARD
from chalicelib.domain.partner_mapping import (
    Adapted,
    FieldError,
    MappingError,
    PartnerMapping,
    adapt,
    load_mapping,
    load_mappings,
    partner_field,
)

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "config" / "sample" / "partner_mappings"
PAYLOADS = ROOT / "config" / "sample" / "partner_payloads"

# The standard example of the partner API contract (POST /v1/applications).
STANDARD_EXAMPLE: dict[str, Any] = STANDARD


def leaf_paths(tree: dict[str, Any], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        paths |= leaf_paths(value, path + ".") if isinstance(value, dict) else {path}
    return paths


STANDARD_FIELDS = leaf_paths(STANDARD_EXAMPLE)


def sample(partner_id: str) -> tuple[PartnerMapping, dict[str, Any]]:
    payload = json.loads((PAYLOADS / f"{partner_id}.json").read_text(encoding="utf-8"))
    return load_mapping(MAPPINGS / f"{partner_id}.json"), payload


def one_rule(rule: dict[str, Any]) -> PartnerMapping:
    return PartnerMapping.model_validate({"rules": [rule]})


def convert(converter: Any, value: Any) -> Any:
    """Run one converter through adapt, reading the value from the partner field ``v``."""
    return adapt(one_rule({"target": "x", "source": "v", "convert": converter}), {"v": value}).standard["x"]


def errors_of(mapping: PartnerMapping, payload: Any) -> list[FieldError]:
    with pytest.raises(MappingError) as caught:
        adapt(mapping, payload)
    return caught.value.errors


def fields_of(mapping: PartnerMapping, payload: Any) -> list[str]:
    return [error.field for error in errors_of(mapping, payload)]


# --- the samples ---

@pytest.mark.parametrize("partner_id", ["P_QIANHAI", "P_XINGYUN"])
def test_each_sample_payload_adapts_to_the_contract_s_standard_example(partner_id):
    mapping, payload = sample(partner_id)
    adapted = adapt(mapping, payload)
    assert adapted.standard == STANDARD_EXAMPLE


def test_the_samples_are_exactly_the_two_mappings_in_the_sample_directory():
    assert sorted(load_mappings(MAPPINGS)) == ["P_QIANHAI", "P_XINGYUN"]
    assert sorted(path.stem for path in PAYLOADS.glob("*.json")) == ["P_QIANHAI", "P_XINGYUN"]


@pytest.mark.parametrize("partner_id", ["P_QIANHAI", "P_XINGYUN"])
def test_each_sample_maps_every_standard_field_once(partner_id):
    mapping, _ = sample(partner_id)
    assert sorted(rule.target for rule in mapping.rules) == sorted(STANDARD_FIELDS)


def test_the_two_formats_differ_from_the_standard_and_from_each_other():
    qianhai, xingyun = sample("P_QIANHAI")[0], sample("P_XINGYUN")[0]
    q = {rule.target: rule for rule in qianhai.rules}
    x = {rule.target: rule for rule in xingyun.rules}
    # names: no partner field is spelt like the standard's, nor like the other partner's
    q_sources = {r.source for r in q.values() if r.source}
    x_sources = {r.source for r in x.values() if r.source}
    assert not q_sources & x_sources
    assert not (q_sources | x_sources) & STANDARD_FIELDS
    # nesting: one flat, one nested with arrays
    assert all("." not in s and "[" not in s for s in q_sources)
    assert any("[" in s for s in x_sources) and all("." in s for s in x_sources)
    # code tables: numbers versus Chinese words, for the same standard values
    assert q["repayment_method"].codes["01"] == x["repayment_method"].codes["等额本息"] == "EQUAL_INSTALLMENT"
    assert q["purpose"].codes["01"] == x["purpose"].codes["日常消费"] == "CONSUMPTION"
    # units and types: fen integers versus yuan numbers, "Y"/"N" versus 1/0, the term as text versus a number
    names = lambda rule: [c.name for c in rule.convert]  # noqa: E731
    assert names(q["amount"]) == names(q["applicant.monthly_income"]) == ["fen_to_yuan"]
    assert names(x["amount"]) == names(x["applicant.monthly_income"]) == ["yuan_to_string"]
    assert q["consents.credit_inquiry"].convert[0].true == ("Y",)
    assert x["consents.credit_inquiry"].convert[0].true == (1,)
    _, q_payload = sample("P_QIANHAI")
    _, x_payload = sample("P_XINGYUN")
    assert q_payload["loan_term"] == "12" and x_payload["order"]["loan"]["periods"] == 12
    assert q_payload["loan_amt_fen"] == 5000000 and x_payload["order"]["loan"]["principal"] == 50000
    # id type: a code table versus a constant (星云 has no such field)
    assert q["applicant.id_type"].codes == {"0": "RESIDENT_ID"}
    assert x["applicant.id_type"].const == "RESIDENT_ID"


@pytest.mark.parametrize(("converter", "partner_id", "field", "iso"), [
    ({"name": "date", "format": "%Y%m%d"}, "P_QIANHAI", "cust_cert_exp_date", "2036-03-07"),
    ({"name": "date", "format": "%Y/%m/%d"}, "P_XINGYUN", "persons[0].idCard.validUntil", "2036-03-07"),
    ({"name": "date", "format": "%Y/%m/%d %H:%M:%S"}, "P_XINGYUN", "order.applyTime", "2026-11-23"),
])
def test_the_samples_dates_in_their_own_formats_convert_to_iso(converter, partner_id, field, iso):
    # The standard application has no date field yet; the samples' dates show the converter works on them.
    _, payload = sample(partner_id)
    mapping = one_rule({"target": "some_date", "source": field, "convert": converter})
    assert adapt(mapping, payload).standard == {"some_date": iso}


def test_sources_name_the_partner_field_of_each_standard_field():
    q = adapt(*sample("P_QIANHAI"))
    x = adapt(*sample("P_XINGYUN"))
    assert q.sources["applicant.id_number"] == "cust_cert_no"
    assert x.sources["applicant.id_number"] == "persons[0].idCard.number"
    assert x.sources["applicant.mobile"] == "persons[0].contacts.phones[0]"
    assert "applicant.id_type" not in x.sources  # a constant has no partner field
    assert set(q.sources) == STANDARD_FIELDS


def test_the_samples_errors_name_the_partners_own_fields():
    q_mapping, q_payload = sample("P_QIANHAI")
    bad = {**q_payload, "loan_amt_fen": 50000.5, "rpy_type": "05", "auth_share": True}
    del bad["cust_mobile"]
    assert errors_of(q_mapping, bad) == [
        FieldError("loan_amt_fen", "must be a whole, non-negative number of fen (an integer)"),
        FieldError("rpy_type", "is not a known code; expected one of 01, 02, 03, 04"),
        FieldError("cust_mobile", "is required"),
        FieldError("auth_share", 'must be one of "Y", "N"'),
    ]
    x_mapping, x_payload = sample("P_XINGYUN")
    bad = copy.deepcopy(x_payload)
    bad["order"]["loan"]["principal"] = 0.1 + 0.2
    bad["persons"][0]["profile"]["marriage"] = "married"
    bad["bankCards"] = []
    assert fields_of(x_mapping, bad) == [
        "order.loan.principal",
        "persons[0].profile.marriage",
        "bankCards[0].cardNo",
        "bankCards[0].bank",
        "bankCards[0].holder",
    ]


# --- converters ---

@pytest.mark.parametrize(("fen", "yuan"), [(5000000, "50000.00"), (0, "0.00"), (1, "0.01"), (99, "0.99"), (123456, "1234.56"),
                                           (10**17 - 1, "999999999999999.99")])
def test_fen_to_yuan(fen, yuan):
    assert convert("fen_to_yuan", fen) == yuan


@pytest.mark.parametrize("bad", [-1, 10**17, 100.0, 1.5, "100", True, False, [100], {"fen": 1}])
def test_fen_to_yuan_refuses_anything_but_a_non_negative_integer(bad):
    assert fields_of(one_rule({"target": "x", "source": "v", "convert": "fen_to_yuan"}), {"v": bad}) == ["v"]


@pytest.mark.parametrize(("value", "yuan"), [
    (50000, "50000.00"), (12000.0, "12000.00"), (0.3, "0.30"), (1234.56, "1234.56"), (-0.0, "0.00"), (1e14, "100000000000000.00"),
    ("50000", "50000.00"), ("50000.5", "50000.50"), ("0.01", "0.01"),
])
def test_yuan_to_string(value, yuan):
    assert convert("yuan_to_string", value) == yuan


@pytest.mark.parametrize("bad", [
    0.1 + 0.2, 1.005 * 3, 0.001, 1e-7, 1e15, float("inf"), float("nan"), -1, -0.5, 10**15, 10**400,
    "1.001", "-1.00", "1e3", "", " 1.00", "1,000.00", "１００", True, [1], {"yuan": 1},
])
def test_yuan_to_string_refuses_what_is_not_exact_to_the_fen(bad):
    assert fields_of(one_rule({"target": "x", "source": "v", "convert": "yuan_to_string"}), {"v": bad}) == ["v"]


@pytest.mark.parametrize(("fmt", "text", "iso"), [
    ("%Y%m%d", "20261123", "2026-11-23"), ("%Y/%m/%d", "2026/01/05", "2026-01-05"), ("%d.%m.%Y", "29.02.2028", "2028-02-29"),
])
def test_date(fmt, text, iso):
    assert convert({"name": "date", "format": fmt}, text) == iso


@pytest.mark.parametrize("bad", ["2026113", "20260230", "2026-11-23", "2026/1/5", "", 20261123, ["20261123"]])
def test_date_refuses_text_that_is_not_a_real_date_in_the_format(bad):
    mapping = one_rule({"target": "x", "source": "v", "convert": {"name": "date", "format": "%Y%m%d"}})
    assert errors_of(mapping, {"v": bad}) == [FieldError("v", "must be a real date as %Y%m%d" if isinstance(bad, str) else "must be a date as %Y%m%d")]


@pytest.mark.parametrize(("value", "number"), [("12", 12), (12, 12), ("007", 7), (-3, -3)])
def test_int(value, number):
    assert convert("int", value) == number


@pytest.mark.parametrize("bad", ["12.0", "-3", " 12", "", "twelve", 12.0, True, "1" * 19])
def test_int_refuses_what_is_not_a_whole_number(bad):
    assert fields_of(one_rule({"target": "x", "source": "v", "convert": "int"}), {"v": bad}) == ["v"]


def test_bool_codes_match_type_and_value():
    yn = {"name": "bool_codes", "true": ["Y"], "false": ["N"]}
    ten = {"name": "bool_codes", "true": [1], "false": [0]}
    assert (convert(yn, "Y"), convert(yn, "N"), convert(ten, 1), convert(ten, 0)) == (True, False, True, False)
    for converter, bad in [(yn, "y"), (yn, True), (ten, True), (ten, False), (ten, "1"), (ten, 1.0), (ten, 2)]:
        assert fields_of(one_rule({"target": "x", "source": "v", "convert": converter}), {"v": bad}) == ["v"]


@pytest.mark.parametrize(("value", "ratio"), [("7.2", "0.072"), (7.2, "0.072"), ("4.35", "0.0435"), (24, "0.24"), ("0", "0"), ("100", "1"),
                                              ("0.000001", "0.00000001")])
def test_percent_to_ratio(value, ratio):
    assert convert("percent_to_ratio", value) == ratio


@pytest.mark.parametrize("bad", ["7.2%", "-1", "1000", "0.0000001", 1e-7, True, []])
def test_percent_to_ratio_refuses_what_is_not_a_plain_percentage(bad):
    assert fields_of(one_rule({"target": "x", "source": "v", "convert": "percent_to_ratio"}), {"v": bad}) == ["v"]


def test_upper_and_strip_and_chains_in_order():
    assert convert("upper", "11010119900307451x") == "11010119900307451X"
    assert convert("strip", "  张三 ") == "张三"
    assert convert(["strip", "upper"], " ab ") == "AB"
    for converter in ("upper", "strip"):
        assert fields_of(one_rule({"target": "x", "source": "v", "convert": converter}), {"v": 1}) == ["v"]


def test_codes_after_converters_and_integer_codes_by_their_text():
    mapping = one_rule({"target": "x", "source": "v", "convert": "strip", "codes": {"等额本息": "EQUAL_INSTALLMENT"}})
    assert adapt(mapping, {"v": " 等额本息 "}).standard == {"x": "EQUAL_INSTALLMENT"}
    numeric = one_rule({"target": "x", "source": "v", "codes": {"6": "BACHELOR"}})
    assert adapt(numeric, {"v": 6}).standard == {"x": "BACHELOR"}
    for bad in (6.0, True, "06", [6]):
        assert errors_of(numeric, {"v": bad}) == [FieldError("v", "is not a known code; expected one of 6")]


# --- reading the payload ---

def test_a_payload_that_is_not_an_object_is_an_error_of_the_body():
    mapping, _ = sample("P_XINGYUN")
    for payload in ([], "x", 1, None, True):
        assert errors_of(mapping, payload) == [FieldError("body", "must be a JSON object")]


def test_missing_and_null_sources_are_required_unless_optional_or_defaulted():
    mapping = PartnerMapping.model_validate({"rules": [
        {"target": "a", "source": "p.a"},
        {"target": "b.c", "source": "p.b", "required": False},
        {"target": "b.d", "source": "p.d", "default": "D"},
        {"target": "e", "const": "E"},
    ]})
    assert adapt(mapping, {"p": {"a": 1, "b": 2, "d": 3}}).standard == {"a": 1, "b": {"c": 2, "d": 3}, "e": "E"}
    assert adapt(mapping, {"p": {"a": 1, "b": None}}).standard == {"a": 1, "b": {"d": "D"}, "e": "E"}
    assert errors_of(mapping, {"p": {"a": None}}) == [FieldError("p.a", "is required")]
    assert errors_of(mapping, {}) == [FieldError("p.a", "is required")]


def test_a_default_is_a_standard_value_and_is_not_converted():
    mapping = one_rule({"target": "x", "source": "v", "convert": "fen_to_yuan", "default": "0.00"})
    assert adapt(mapping, {}).standard == {"x": "0.00"}


def test_a_wrong_container_is_named_once_for_every_rule_beneath_it():
    mapping, payload = sample("P_XINGYUN")
    assert errors_of(mapping, {**payload, "persons": {"0": {}}}) == [FieldError("persons", "must be a list")]
    assert errors_of(mapping, {**payload, "order": "A2026112300001"}) == [FieldError("order", "must be an object")]
    bad = copy.deepcopy(payload)
    bad["persons"][0]["contacts"]["phones"] = "13800138000"
    assert errors_of(mapping, bad) == [FieldError("persons[0].contacts.phones", "must be a list")]


def test_an_index_past_the_end_is_missing():
    mapping = one_rule({"target": "x", "source": "a[2].b"})
    assert errors_of(mapping, {"a": [{"b": 1}]}) == [FieldError("a[2].b", "is required")]
    assert adapt(mapping, {"a": [{}, {}, {"b": 1}]}).standard == {"x": 1}


def test_fields_no_rule_reads_are_ignored():
    mapping, payload = sample("P_QIANHAI")
    assert adapt(mapping, {**payload, "ext": {"anything": [1, 2]}, "sign": "…"}).standard == STANDARD_EXAMPLE


def test_values_without_converters_pass_through_for_the_standard_model_to_judge():
    mapping = one_rule({"target": "x", "source": "v"})
    for value in (12, 12.5, "12", [1], {"a": 1}, True):
        assert adapt(mapping, {"v": value}).standard == {"x": value}


def test_all_errors_are_collected_and_the_exception_says_them():
    mapping, _ = sample("P_QIANHAI")
    with pytest.raises(MappingError) as caught:
        adapt(mapping, {"req_no": "A1"})
    assert len(caught.value.errors) == len([r for r in mapping.rules if r.source]) - 1
    assert "loan_amt_fen: is required" in str(caught.value)


# --- the mapping itself is validated when loaded ---

@pytest.mark.parametrize("rules", [
    [{"target": "x", "source": "v", "unknown": 1}],
    [{"target": "x"}],
    [{"target": "x", "const": None}],
    [{"target": "x", "source": "v", "const": 1}],
    [{"target": "x", "const": 1, "convert": "upper"}],
    [{"target": "x", "const": 1, "required": False}],
    [{"target": "x", "source": "v", "convert": "to_yuan"}],
    [{"target": "x", "source": "v", "convert": {"name": "date"}}],
    [{"target": "x", "source": "v", "convert": {"name": "bool_codes", "true": [True], "false": [False]}}],
    [{"target": "x", "source": "v", "codes": {}}],
    [{"target": "x", "source": "a..b"}],
    [{"target": "x", "source": "a[x]"}],
    [{"target": "x", "source": "[0].a"}],
    [{"target": "Applicant.Name", "source": "v"}],
    [{"target": "a[0]", "source": "v"}],
    [{"target": "x", "source": "v"}, {"target": "x", "source": "w"}],
    [{"target": "a", "source": "v"}, {"target": "a.b", "source": "w"}],
    [],
])
def test_bad_mappings_are_refused(rules):
    with pytest.raises(ValidationError):
        PartnerMapping.model_validate({"rules": rules})


@pytest.mark.parametrize("partner_id", ["P_QIANHAI", "P_XINGYUN"])
def test_a_mapping_survives_being_stored_as_its_json_dump(partner_id):
    # the config repository stores model_dump(mode="json") and validates it again when read
    mapping, payload = sample(partner_id)
    stored = PartnerMapping.model_validate(json.loads(json.dumps(mapping.model_dump(mode="json"))))
    assert stored == mapping
    assert adapt(stored, payload) == adapt(mapping, payload)
    assert fields_of(stored, {}) == fields_of(mapping, {})


def test_a_null_default_is_no_default():
    mapping = one_rule({"target": "x", "source": "v", "default": None})
    assert errors_of(mapping, {}) == [FieldError("v", "is required")]


def test_a_mapping_has_no_other_keys():
    with pytest.raises(ValidationError):
        PartnerMapping.model_validate({"rules": [{"target": "x", "const": 1}], "partner": "P_X"})


# --- naming the partner's field for errors found on the standard application ---

def test_partner_field():
    x = adapt(*sample("P_XINGYUN")).sources
    q = adapt(*sample("P_QIANHAI")).sources
    assert partner_field("applicant.id_number", x) == "persons[0].idCard.number"
    assert partner_field(("applicant", "id_number"), x) == "persons[0].idCard.number"
    assert partner_field("amount", q) == "loan_amt_fen"
    assert partner_field("applicant.id_type", x) == "applicant.id_type"  # a constant: no partner field
    assert partner_field("unmapped", x) == "unmapped"
    assert partner_field((), x) == "body"
    # above mapped paths: the partner's object holding them all, else the standard path
    assert partner_field("applicant", x) == "persons[0]"
    assert partner_field(("account",), x) == "bankCards[0]"
    assert partner_field("consents", x) == "authorizations"
    assert partner_field("applicant", q) == "applicant"
    # below a mapped path: continue under the partner's field
    whole = {"applicant": "borrower", "items": "goods"}
    assert partner_field("applicant.name", whole) == "borrower.name"
    assert partner_field(("items", 0, "price"), whole) == "goods[0].price"


class _StandIn(BaseModel):
    """A stand-in for the standard application model (written elsewhere), enough to show the round trip."""

    model_config = ConfigDict(extra="forbid")

    class _Applicant(BaseModel):
        id_number: str = Field(pattern=r"^\d{17}[\dX]$")
        name: str
        model_config = ConfigDict(extra="ignore")

    term_months: int = Field(ge=1, le=360)
    applicant: _Applicant
    model_config = ConfigDict(extra="ignore")


def test_errors_of_the_standard_model_are_reported_at_the_partner_s_fields():
    mapping, payload = sample("P_XINGYUN")
    bad = copy.deepcopy(payload)
    bad["order"]["loan"]["periods"] = 12.5
    bad["persons"][0]["idCard"]["number"] = "1101011990030745"
    adapted: Adapted = adapt(mapping, bad)
    with pytest.raises(ValidationError) as caught:
        _StandIn.model_validate(adapted.standard)
    fields = sorted(partner_field(error["loc"], adapted.sources) for error in caught.value.errors())
    assert fields == ["order.loan.periods", "persons[0].idCard.number"]
