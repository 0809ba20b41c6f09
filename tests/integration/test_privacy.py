"""No raw ID number, mobile, card number or name at rest or in a log line.

An end-to-end run through the API (three partners, replays, refusals), then
every item of every declared table (the applications' trail and document items among them),
every workflow history and every log line the app wrote are searched for the
raw values.
"""
from __future__ import annotations

import json

import boto3
import pytest

from chalicelib import resources
from chalicelib.observability import logger
from tests.support.applications import RAW_PII, STANDARD, partner_payload, standard
from tests.support.aws import wait_until_settled
from tests.support.signing import signed_headers


def test_no_raw_personal_data_at_rest_or_in_logs(client, post_signed, aws, app_log):
    logger.setLevel("DEBUG")
    secrets = aws.secrets
    ids = []
    for partner_id, payload in [("P_DEMO", STANDARD), ("P_QIANHAI", partner_payload("P_QIANHAI")), ("P_XINGYUN", partner_payload("P_XINGYUN"))]:
        response = post_signed("/v1/applications", payload, partner_id=partner_id, secret=secrets[partner_id])
        assert response.status_code == 202, response.body
        ids.append((partner_id, json.loads(response.body)["application_id"]))
        post_signed("/v1/applications", payload, partner_id=partner_id, secret=secrets[partner_id])  # a replay
    # refusals that quote the input in their messages
    post_signed("/v1/applications", standard(partner_application_no="X1", amount="50000.00", applicant__mobile="13800138000x"))
    post_signed("/v1/applications", standard(partner_application_no="X2", amount="9999999.00"))
    post_signed("/v1/applications", standard(amount="1.00"))  # an idempotency conflict
    for partner_id, application_id in ids:
        path = f"/v1/applications/{application_id}"
        assert client.http.get(path, headers=signed_headers(partner_id, secrets[partner_id], "GET", path, b"")).status_code == 200
    logger.error("an unexpected failure quoting %s and %s", "110101199003074514", "6222020200112233446")
    logger.setLevel("INFO")

    sfn = boto3.client("stepfunctions")
    histories = []
    for execution in sfn.list_executions(stateMachineArn=aws.provisioned.state_machine_arns["origination"])["executions"]:
        wait_until_settled(sfn, execution["executionArn"])
        histories.append(json.dumps(sfn.get_execution_history(executionArn=execution["executionArn"])["events"], default=str, ensure_ascii=False))

    ddb = boto3.client("dynamodb")
    stored = []
    for table in resources.TABLES:
        items = ddb.scan(TableName=aws.env[table.env])["Items"]
        stored += [json.dumps(item, ensure_ascii=False) for item in items]
    logs = app_log.getvalue()

    assert len(stored) > 10 and len(histories) == 3 and "application received" in logs
    for part in ("REVIEW", "ROUTING"):  # the trail's own items are searched too
        assert len([s for s in stored if '"pk": {"S": "TRAIL#' in s and f'#{part}"}}' in s]) == len(ids), part
    documents = [json.loads(s) for s in stored if '"pk": {"S": "DOC#' in s]  # and the applications' documents
    assert sorted(d["pk"]["S"] for d in documents) == sorted(f"DOC#{application_id}" for _, application_id in ids)
    for document in documents:  # the masked application and the sealed personal data, nothing else
        assert set(document) == {"pk", "application_id", "application", "sealed_pii"}
        applicant = json.loads(document["application"]["S"])["applicant"]
        assert "*" in applicant["id_number"] and "*" in applicant["mobile"]
        assert set(json.loads(document["sealed_pii"]["S"])) == {"v", "key", "nonce", "data"}  # an envelope
    for raw in RAW_PII:
        assert not [s for s in stored if raw in s], f"{raw} found at rest"
        assert not [h for h in histories if raw in h], f"{raw} found in a workflow history"
        assert raw not in logs, f"{raw} found in a log line"
    assert "110101********4514" in logs  # the unexpected failure was logged, masked
