"""End to end over HTTP: a partner's plain signed client against the running local stack."""
from __future__ import annotations

import json
import time

import boto3
import pytest
import requests

from local.partner_client import PartnerClient
from tests.conftest import QUOTE

pytestmark = pytest.mark.e2e


@pytest.fixture
def partner(local_stack):
    return PartnerClient(local_stack.api_url, "P_DEMO", local_stack.secrets["P_DEMO"])


def test_the_stack_prints_the_local_partner_secrets(local_stack):
    assert local_stack.secrets["P_DEMO"] == "demo-secret-change-me"
    assert set(local_stack.secrets) == {"P_DEMO", "P_QIANHAI", "P_XINGYUN"}


def test_a_signed_quote_round_trips_over_http(partner):
    response = partner.post("/v1/quotes", QUOTE)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["total_principal"] == "12000.00"
    assert [i["due_date"] for i in body["installments"][:2]] == ["2026-02-15", "2026-03-15"]


def test_an_unsigned_quote_answers_401(local_stack):
    response = requests.post(local_stack.api_url + "/v1/quotes", json=QUOTE, timeout=10)
    assert (response.status_code, response.json()["code"]) == (401, "PARTNER_UNKNOWN")


def test_a_wrongly_signed_quote_answers_401(local_stack):
    response = PartnerClient(local_stack.api_url, "P_DEMO", "wrong-secret").post("/v1/quotes", QUOTE)
    assert (response.status_code, response.json()["code"]) == (401, "SIGNATURE_INVALID")


def test_bad_input_answers_400_over_http(partner):
    response = partner.post("/v1/quotes", {**QUOTE, "amount": "1.001"})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "amount"


def aws_client(local_stack, service):
    return boto3.client(
        service, endpoint_url=local_stack.aws_endpoint, region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
    )


def test_the_local_resources_can_be_inspected_at_the_aws_endpoint(local_stack):
    assert "zhudai-local-config" in aws_client(local_stack, "dynamodb").list_tables()["TableNames"]
    machines = [m["name"] for m in aws_client(local_stack, "stepfunctions").list_state_machines()["stateMachines"]]
    assert "zhudai-local-day_end" in machines
    functions = {f["FunctionName"] for f in aws_client(local_stack, "lambda").list_functions()["Functions"]}
    assert {"zhudai-local-api_handler", "zhudai-local-advance_business_date", "zhudai-local-start_day_end"} <= functions


def test_a_state_machine_runs_the_apps_handlers_in_the_server_process(local_stack):
    sfn = aws_client(local_stack, "stepfunctions")
    arn = next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "zhudai-local-day_end")
    ddb = aws_client(local_stack, "dynamodb")
    today = ddb.get_item(TableName="zhudai-local-config", Key={"pk": {"S": "PLATFORM"}, "sk": {"S": "BUSINESS_DATE"}})["Item"]["value"]["S"]
    day_end_input = {  # as the schedule's start_day_end makes it
        "business_date": today, "reconcile_date": today, "segments": [{"segment": 0, "total": 1}], "branches": ["BR_DONGCHENG"], "partners": ["P_DEMO"],
    }
    started = sfn.start_execution(stateMachineArn=arn, name="e2e-day-end", input=json.dumps(day_end_input))
    deadline = time.monotonic() + 30
    while (status := sfn.describe_execution(executionArn=started["executionArn"])["status"]) == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status == "SUCCEEDED"
    after = ddb.get_item(TableName="zhudai-local-config", Key={"pk": {"S": "PLATFORM"}, "sk": {"S": "BUSINESS_DATE"}})["Item"]["value"]["S"]
    assert after > today
    assert local_stack.printed("workflow e2e-day-end: MapStateEntered CloseLoans")
    assert local_stack.printed("workflow e2e-day-end: TaskStateEntered AdvanceBusinessDate")
    assert local_stack.printed("workflow e2e-day-end: ExecutionSucceeded")


def test_the_stack_logs_each_request(local_stack, partner):
    partner.post("/v1/quotes", QUOTE)
    assert local_stack.printed('"POST /v1/quotes HTTP/1.1" 200')


def test_applications_from_three_partners_in_their_own_formats(local_stack):
    from tests.support.applications import STANDARD, partner_payload

    shown = {}
    for partner_id, payload in [("P_DEMO", STANDARD), ("P_QIANHAI", partner_payload("P_QIANHAI")), ("P_XINGYUN", partner_payload("P_XINGYUN"))]:
        client = PartnerClient(local_stack.api_url, partner_id, local_stack.secrets[partner_id])
        response = client.post("/v1/applications", payload)
        assert response.status_code in (200, 202), response.text
        application_id = response.json()["application_id"]
        view = client.get(f"/v1/applications/{application_id}")
        assert view.status_code == 200, view.text
        shown[partner_id] = view.json()
        assert PartnerClient(local_stack.api_url, "P_DEMO" if partner_id != "P_DEMO" else "P_QIANHAI", local_stack.secrets["P_DEMO" if partner_id != "P_DEMO" else "P_QIANHAI"]).get(f"/v1/applications/{application_id}").status_code == 404
    assert shown["P_DEMO"]["application"] == shown["P_QIANHAI"]["application"] == shown["P_XINGYUN"]["application"]
    assert shown["P_DEMO"]["application"]["applicant"]["id_number"] == "110101********4514"
    # The workflow's first leg ran to its end (rejected, no funder, or an offer waiting for the borrower's answer).
    workflow = f"workflow {shown['P_XINGYUN']['application_id']}: "
    deadline = time.monotonic() + 15
    while not any(local_stack.printed(workflow + event, timeout=0.2) for event in ("ExecutionSucceeded",)):
        assert time.monotonic() < deadline


def test_an_accepted_offer_s_signed_contract_downloads_over_plain_http(local_stack):
    """The whole path over HTTP: apply, offer, accept, the signed contract's link, its bytes and hash."""
    import hashlib
    import urllib.request
    from datetime import datetime, timezone

    from local.people import person

    client = PartnerClient(local_stack.api_url, "P_DEMO", local_stack.secrets["P_DEMO"])
    application_id = client.post("/v1/applications", person(461, amount="15000.00")).json()["application_id"]
    deadline = time.monotonic() + 60
    while (shown := client.get(f"/v1/applications/{application_id}").json())["status"] not in ("OFFERED", "REJECTED", "NO_FUNDER"):
        assert time.monotonic() < deadline, shown["status"]
        time.sleep(0.2)
    assert shown["status"] == "OFFERED", shown["decision"]
    answered = client.post(f"/v1/applications/{application_id}/acceptance", {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()})
    assert answered.status_code == 200 and answered.json()["status"] == "SIGNING"
    while (links := client.get(f"/v1/applications/{application_id}/contract")).status_code == 404:
        assert time.monotonic() < deadline, links.text
        time.sleep(0.2)
    body = links.json()
    with urllib.request.urlopen(body["url"], timeout=10) as response:  # noqa: S310 - the local stack's own link
        pdf = response.read()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == body["sha256"]
    assert client.get(f"/v1/applications/{application_id}").json()["contract"]["sha256"] == body["sha256"]


def test_a_loan_is_disbursed_repaid_and_announced_over_http(local_stack):
    """Apply, accept, the loan disbursed through the simulated gateway; a repayment, its replay, the loan, the event feed."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from local.people import person

    client = PartnerClient(local_stack.api_url, "P_DEMO", local_stack.secrets["P_DEMO"])
    body = person(465, amount="12000.00", term_months=6, partner_application_no="E2E-LOAN-1")
    application_id = client.post("/v1/applications", body).json()["application_id"]
    deadline = time.monotonic() + 90
    while (shown := client.get(f"/v1/applications/{application_id}").json())["status"] not in ("OFFERED", "REJECTED", "NO_FUNDER"):
        assert time.monotonic() < deadline, shown["status"]
        time.sleep(0.2)
    assert shown["status"] == "OFFERED", shown["decision"]
    client.post(f"/v1/applications/{application_id}/acceptance", {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()})
    while (shown := client.get(f"/v1/applications/{application_id}").json())["status"] not in ("DISBURSED", "DISBURSEMENT_FAILED"):
        assert time.monotonic() < deadline, shown["status"]
        time.sleep(0.2)
    assert shown["status"] == "DISBURSED" and shown["disbursement"]["payment_reference"], shown
    loan_id = shown["loan_id"]
    loan = client.get(f"/v1/loans/{loan_id}").json()
    assert (loan["status"], loan["amount"], loan["outstanding"]["principal"]) == ("ACTIVE", "12000.00", "12000.00")
    repayment = {"partner_repayment_no": "E2E-R1", "amount": "1000.00", "paid_at": datetime.now(timezone.utc).isoformat()}
    first = client.post(f"/v1/loans/{loan_id}/repayments", repayment)
    again = client.post(f"/v1/loans/{loan_id}/repayments", repayment)
    assert (first.status_code, again.status_code) == (201, 200) and first.json() == again.json()
    after = client.get(f"/v1/loans/{loan_id}").json()
    assert after["outstanding"]["principal"] == first.json()["outstanding_principal"]
    schedule = client.get(f"/v1/loans/{loan_id}/schedule").json()["installments"]
    assert sum(Decimal(row["principal"]) for row in schedule) == Decimal("12000.00") and len(schedule) == 6
    while not any(e["type"] == "LOAN_DISBURSED" and e["loan_id"] == loan_id for e in client.get("/v1/events?limit=100").json()["events"]):
        assert time.monotonic() < deadline, "no LOAN_DISBURSED event"  # served once settled (1 s on the local stack)
        time.sleep(0.3)
