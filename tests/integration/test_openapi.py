"""The OpenAPI document describes exactly the app's routes, and its examples are accepted."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

import app
from chalicelib.api import methods as undeclared
from chalicelib.api.quotes import QuoteRequest
from chalicelib.domain.schedule import RepaymentMethod

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text(encoding="utf-8"))


def test_the_document_lists_exactly_the_routes_of_the_app():
    """The partner API, that is: the back office (/backoffice, IAM-authorised) is not the partners'."""
    documented = {(path, method.upper()) for path, item in SPEC["paths"].items() for method in item}
    routed = {
        (path, method)
        for path, methods in app.app.routes.items()
        for method, entry in methods.items()
        if not path.startswith("/backoffice") and entry.view_name != undeclared.RESPONDER
    }
    assert documented == routed


def test_a_method_the_document_does_not_declare_answers_405_with_allow_and_options_lists_them(client):
    """Every other method API Gateway routes, on every partner resource; no signature needed, as it tells only the document."""
    for path, item in SPEC["paths"].items():
        if not path.startswith("/v1/"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "X1", path)
        allowed = ", ".join(sorted(method.upper() for method in item))
        for method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} - {m.upper() for m in item}:
            response = client.http.request(method, concrete, headers={})
            assert (response.status_code, {k.lower(): v for k, v in response.headers.items()}.get("allow")) == (405, allowed), (method, path)
            if method != "HEAD":
                assert json.loads(response.body)["code"] == "METHOD_NOT_ALLOWED"
        response = client.http.request("OPTIONS", concrete, headers={})
        assert (response.status_code, {k.lower(): v for k, v in response.headers.items()}.get("allow"), response.body) == (204, allowed, b""), path


def test_the_quote_example_is_a_valid_request():
    example = SPEC["paths"]["/v1/quotes"]["post"]["requestBody"]["content"]["application/json"]["example"]
    QuoteRequest.model_validate(example)


def test_the_enums_and_fields_match_the_code():
    schemas = SPEC["components"]["schemas"]
    assert schemas["RepaymentMethod"]["enum"] == [m.value for m in RepaymentMethod]
    assert set(schemas["QuoteRequest"]["properties"]) == set(QuoteRequest.model_fields)
    assert set(schemas["QuoteRequest"]["required"]) == {n for n, f in QuoteRequest.model_fields.items() if f.is_required()}


def test_a_real_answer_fits_the_documented_shape(post_signed):
    from tests.conftest import QUOTE

    body = json.loads(post_signed("/v1/quotes", QUOTE).body)
    quote = SPEC["components"]["schemas"]["Quote"]
    assert set(body) == set(quote["properties"])
    amount = re.compile(SPEC["components"]["schemas"]["Amount"]["pattern"])
    assert set(body["installments"][0]) == set(SPEC["components"]["schemas"]["Installment"]["properties"])
    assert all(amount.match(i[k]) for i in body["installments"] for k in ("principal", "interest", "payment", "balance_after"))


def test_the_standard_application_schema_matches_the_model():
    from chalicelib.domain import application as model

    schemas = SPEC["components"]["schemas"]
    for name, cls in [("StandardApplication", model.StandardApplication), ("Applicant", model.Applicant), ("Account", model.Account), ("Consents", model.Consents)]:
        assert set(schemas[name]["properties"]) == set(cls.model_fields), name
        assert set(schemas[name]["required"]) == {n for n, f in cls.model_fields.items() if f.is_required()}, name
    applicant = schemas["Applicant"]["properties"]
    for field, enum in [("occupation", model.Occupation), ("education", model.Education), ("marital_status", model.MaritalStatus), ("id_type", model.IdType)]:
        assert applicant[field]["enum"] == [e.value for e in enum], field
    assert schemas["StandardApplication"]["properties"]["purpose"]["enum"] == [p.value for p in model.Purpose]
    example = SPEC["paths"]["/v1/applications"]["post"]["requestBody"]["content"]["application/json"]["example"]
    model.StandardApplication.model_validate(example)


def test_the_statuses_are_the_code_s():
    from chalicelib.domain.application_status import ApplicationStatus

    assert SPEC["components"]["schemas"]["ApplicationStatus"]["enum"] == [s.value for s in ApplicationStatus]


def test_the_drawdown_schema_matches_the_model_and_its_example_is_valid():
    from chalicelib.domain.credit_line import DrawdownRequest

    schema = SPEC["components"]["schemas"]["DrawdownRequest"]
    assert set(schema["properties"]) == set(DrawdownRequest.model_fields)
    assert set(schema["required"]) == {n for n, f in DrawdownRequest.model_fields.items() if f.is_required()}
    DrawdownRequest.model_validate(SPEC["paths"]["/v1/credit-lines/{credit_line_id}/drawdowns"]["post"]["requestBody"]["content"]["application/json"]["example"])


def test_a_real_credit_line_and_its_offer_fit_the_documented_shapes(aws, client):
    from datetime import date
    from decimal import Decimal

    from chalicelib.domain.credit_line import CreditLine, CreditLineStatus
    from chalicelib.domain.funding import Channel
    from chalicelib.persistence import credit_lines
    from chalicelib.usecases.intake import _partner_offer
    from tests.support.signing import signed_headers

    line = CreditLine(
        "CL20261123-100000-0123456789", "AP20261123-100000-0123456789", "P_DEMO", "CU1", "BR_DONGCHENG", "CONSUMER_LINE",
        Decimal("20000.00"), Decimal("0.0720"), Channel.single("CH", "BR_DONGCHENG"), date(2026, 11, 23), date(2027, 11, 23), CreditLineStatus.ACTIVE,
    )
    credit_lines.open_line(line, "hash", "2026-11-23T10:00:00+00:00")
    path = f"/v1/credit-lines/{line.credit_line_id}"
    body = json.loads(client.http.get(path, headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", path, b"")).body)
    schema = SPEC["components"]["schemas"]["CreditLine"]
    assert set(body) == set(schema["properties"]) and body["available"] == "20000.00"
    offer = _partner_offer({"type": "CREDIT_LINE", "amount": "1.00", "annual_rate": "0.0720", "term_months": 12, "funders": [], "joint": False,
                            "expires_at": "x", "credit_line_id": line.credit_line_id, "line_expires_on": "2027-11-23", "reservation": None, "channel": "CH"})
    assert set(offer) <= set(SPEC["components"]["schemas"]["Offer"]["properties"])


def test_the_documented_patterns_are_the_servers():
    """One rule in two places: the document's patterns are the code's (the name's, less what ECMA cannot list)."""
    from chalicelib.domain.application import _NAME_TEXT
    from chalicelib.domain.wire import TIMESTAMP_PATTERN

    schemas = SPEC["components"]["schemas"]
    assert schemas["PastInstant"]["pattern"] == TIMESTAMP_PATTERN
    assert schemas["PersonName"]["pattern"] == "^" + _NAME_TEXT.pattern.replace("\U00020000-\U0003134f", "") + "$"
    for name in ("Amount", "Rate", "PersonName", "PrintableText", "PastInstant"):
        re.compile(schemas[name]["pattern"])
