"""POST /v1/quotes through Chalice's test client, against moto."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.domain.partner import Partner, PartnerStatus
from chalicelib.persistence import config_repository, partner_secrets
from tests.conftest import QUOTE
from tests.support.signing import body_bytes, signed_headers

PATH = "/v1/quotes"


def test_a_signed_quote_answers_the_schedule(post_signed):
    response = post_signed(PATH, QUOTE)
    assert response.status_code == 200, response.body
    body = json.loads(response.body)
    assert len(body["installments"]) == 12
    first = body["installments"][0]
    assert first == {"period": 1, "due_date": "2026-02-15", "principal": "972.80", "interest": "60.00", "payment": "1032.80", "balance_after": "11027.20"}
    assert body["total_principal"] == "12000.00"
    assert body["total_payment"] == "12393.58"  # 11 x 1032.80 + 1032.78, checked with exact fractions
    assert body["installments"][-1]["balance_after"] == "0.00"
    assert all(isinstance(v, str) for i in body["installments"] for k, v in i.items() if k not in ("period",))


def test_rate_and_start_date_default_to_the_product_and_the_business_date(post_signed, aws):
    payload = {k: v for k, v in QUOTE.items() if k not in ("annual_rate", "start_date")}
    body = json.loads(post_signed(PATH, payload).body)
    assert body["annual_rate"] == "0.0720"
    assert body["start_date"] == "2026-11-23"
    assert body["installments"][0]["due_date"] == "2026-12-23"


@pytest.mark.parametrize("method, count", [("EQUAL_INSTALLMENT", 12), ("EQUAL_PRINCIPAL", 12), ("INTEREST_FIRST", 12), ("BULLET", 1)])
def test_every_repayment_method(post_signed, method, count):
    body = json.loads(post_signed(PATH, {**QUOTE, "repayment_method": method}).body)
    assert len(body["installments"]) == count
    assert body["total_principal"] == "12000.00"


def error(response):
    return response.status_code, json.loads(response.body)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"amount": "12000.001"}, "amount"),
        ({"amount": "-100.00"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": 12000}, "amount"),
        ({"amount": 12000.5}, "amount"),
        ({"amount": "1e5"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "9" * 40}, "amount"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 361}, "term_months"),
        ({"term_months": 10**30}, "term_months"),
        ({"term_months": "12"}, "term_months"),
        ({"term_months": 12.5}, "term_months"),
        ({"term_months": True}, "term_months"),
        ({"repayment_method": "WEEKLY"}, "repayment_method"),
        ({"repayment_method": None}, "repayment_method"),
        ({"annual_rate": "0.37"}, "annual_rate"),
        ({"annual_rate": "-0.01"}, "annual_rate"),
        ({"annual_rate": 0.06}, "annual_rate"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": "15/01/2026"}, "start_date"),
        ({"start_date": "9999-01-01"}, "start_date"),
        ({"start_date": 1767225600}, "start_date"),
        ({"product_code": "consumer std"}, "product_code"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_answers_400_with_the_field_path(post_signed, change, field):
    status, body = error(post_signed(PATH, {**QUOTE, **change}))
    assert status == 400
    assert body["code"] == "INVALID_INPUT"
    assert field in [d["field"] for d in body["details"]], body


def test_a_missing_field_is_named(post_signed):
    status, body = error(post_signed(PATH, {k: v for k, v in QUOTE.items() if k != "amount"}))
    assert status == 400 and body["details"] == [{"field": "amount", "message": "is required"}]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"", b"[" * 5000 + b"]" * 5000])
def test_a_body_that_is_not_a_json_object_answers_400(post_signed, raw):
    status, body = error(post_signed(PATH, raw))
    assert status == 400, body
    assert body["code"] in ("INVALID_JSON", "INVALID_INPUT")


@pytest.mark.parametrize(
    "change, field",
    [({"amount": "999.99"}, "amount"), ({"amount": "300000.01"}, "amount"), ({"term_months": 7}, "term_months"), ({"annual_rate": "0.25"}, "annual_rate"), ({"annual_rate": "0.0299"}, "annual_rate")],
)
def test_terms_outside_the_product_answer_422(post_signed, change, field):
    status, body = error(post_signed(PATH, {**QUOTE, **change}))
    assert status == 422
    assert body["code"] == "OUTSIDE_PRODUCT_TERMS"
    assert [d["field"] for d in body["details"]] == [field]


def test_a_product_not_offered_to_the_partner_answers_422(post_signed):
    status, body = error(post_signed(PATH, {**QUOTE, "product_code": "MORTGAGE_X"}))
    assert (status, body["code"]) == (422, "PRODUCT_NOT_OFFERED")


# --- authentication -------------------------------------------------------------------------


def send(client, headers, body=body_bytes(QUOTE)):
    return error(client.http.post(PATH, headers=headers, body=body))


def good_headers(aws, **overrides):
    return signed_headers("P_DEMO", aws.secrets["P_DEMO"], "POST", PATH, body_bytes(QUOTE), **overrides)


def test_an_unsigned_request_answers_401(client):
    status, body = send(client, {"content-type": "application/json"})
    assert (status, body["code"]) == (401, "PARTNER_UNKNOWN")


@pytest.mark.parametrize("missing", ["x-signature", "x-nonce"])
def test_a_request_missing_a_signing_header_answers_401(client, aws, missing):
    headers = good_headers(aws)
    del headers[missing]
    assert send(client, headers)[0] == 401


def test_a_tampered_body_answers_signature_invalid(client, aws):
    tampered = body_bytes({**QUOTE, "amount": "13000.00"})
    status, body = send(client, good_headers(aws), tampered)
    assert (status, body["code"]) == (401, "SIGNATURE_INVALID")


def test_a_wrong_key_answers_signature_invalid(client):
    headers = signed_headers("P_DEMO", "not-the-secret", "POST", PATH, body_bytes(QUOTE))
    assert send(client, headers)[1]["code"] == "SIGNATURE_INVALID"


def test_an_old_timestamp_answers_timestamp_expired(client, aws):
    status, body = send(client, good_headers(aws, timestamp=int(time.time()) - 301))
    assert (status, body["code"]) == (401, "TIMESTAMP_EXPIRED")


def test_an_unknown_partner_answers_partner_unknown(client):
    headers = signed_headers("P_NOBODY", "whatever", "POST", PATH, body_bytes(QUOTE))
    assert send(client, headers) == (401, {"code": "PARTNER_UNKNOWN", "message": "no partner has this X-Partner-Id", "details": []})


def test_a_disabled_partner_answers_403(client, aws):
    config_repository.put_partner(Partner(partner_id="P_OFF", name="停用渠道", status=PartnerStatus.DISABLED, products=("CONSUMER_STD",)))
    partner_secrets.put_secret("P_OFF", "off-secret")
    headers = signed_headers("P_OFF", "off-secret", "POST", PATH, body_bytes(QUOTE))
    assert send(client, headers)[0:1] == (403,)
    assert send(client, signed_headers("P_OFF", "wrong", "POST", PATH, body_bytes(QUOTE)))[0] == 401


def test_another_partner_signs_with_its_own_secret(client, aws):
    config_repository.put_partner(Partner(partner_id="P_TWO", name="第二渠道", products=("CONSUMER_STD",)))
    partner_secrets.put_secret("P_TWO", "two-secret")
    assert send(client, signed_headers("P_TWO", "two-secret", "POST", PATH, body_bytes(QUOTE)))[0] == 200
    assert send(client, signed_headers("P_TWO", aws.secrets["P_DEMO"], "POST", PATH, body_bytes(QUOTE)))[0] == 401


def test_secrets_are_stored_encrypted_with_the_declared_key(aws):
    import boto3

    parameter = boto3.client("ssm").get_parameter(Name=partner_secrets.parameter_name("P_DEMO"))["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert parameter["Value"] != aws.secrets["P_DEMO"]


def test_a_charset_in_the_content_type_is_fine(client, aws):
    headers = good_headers(aws) | {"content-type": "application/json; charset=utf-8"}
    assert send(client, headers)[0] == 200


def test_chalice_s_own_refusals_answer_in_the_contract_shape(client, aws):
    assert send(client, good_headers(aws) | {"content-type": "text/plain"}) == (
        415,
        {"code": "UNSUPPORTED_MEDIA_TYPE", "message": "Unsupported media type: text/plain", "details": []},
    )
    status, body = error(client.http.get(PATH))
    assert (status, body["code"], body["details"]) == (405, "METHOD_NOT_ALLOWED", [])
