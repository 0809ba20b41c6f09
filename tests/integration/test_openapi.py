"""The OpenAPI document describes exactly the app's routes, and its examples are accepted."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

import app
from chalicelib.api.quotes import QuoteRequest
from chalicelib.domain.schedule import RepaymentMethod

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text(encoding="utf-8"))


def test_the_document_lists_exactly_the_routes_of_the_app():
    """The partner API, that is: the back office (/backoffice, IAM-authorised) is not the partners'."""
    documented = {(path, method.upper()) for path, item in SPEC["paths"].items() for method in item}
    routed = {(path, method) for path, methods in app.app.routes.items() for method in methods if not path.startswith("/backoffice")}
    assert documented == routed


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
