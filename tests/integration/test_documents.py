"""An application's write-once document is an item of its own, and every reader sees it as before.

What intake stored (the masked application, the sealed personal data) is ``DOC#<id>``, put in the
same transaction as the application; the application item, rewritten at every change of status,
carries neither (``persistence/applications.py``). ``ApplicationItem.application`` and
``.sealed_pii`` read the document on first use; lists read theirs in one BatchGetItem.
"""
from __future__ import annotations

import json
from typing import Any

import boto3

from chalicelib import resources
from chalicelib.domain.operator import Operator, Role
from chalicelib.persistence import applications, config_repository, pii_vault
from chalicelib.persistence.models import ApplicationItem, document_key
from chalicelib.usecases import application_history, intake
from tests.integration.test_backoffice_inquiries import MANY_INQUIRIES, disbursed, ok, raw_personal_data, received, reviewed
from tests.support.aws_calls import recorded_calls

REVIEWER = Operator(operator_id="reviewer.dongcheng", name="东城审核员", role=Role.REVIEWER, branch_code="BR_DONGCHENG")


def stored(aws: Any, pk: str) -> dict[str, Any] | None:
    """The item as DynamoDB holds it (its attributes, serialised)."""
    return boto3.client("dynamodb").get_item(TableName=aws.env[resources.APPLICATIONS_TABLE.env], Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def dynamodb_calls(calls: list[Any]) -> list[str]:
    return [call.operation for call in calls if call.service == "dynamodb"]


def test_the_application_item_carries_no_document_and_every_reader_sees_it(client, aws):
    application_id, loan_id = disbursed(452)  # the review, the routing, the contract and the payment read it
    raw, document = stored(aws, f"APP#{application_id}"), stored(aws, document_key(application_id))
    assert "application" not in raw and "sealed_pii" not in raw
    assert set(document) == {"pk", "application_id", "application", "sealed_pii"}
    application, sealed = json.loads(document["application"]["S"]), json.loads(document["sealed_pii"]["S"])
    assert application["applicant"]["mobile"] == "139****0452" and application["amount"]
    for raw_value in raw_personal_data(452):
        assert raw_value not in json.dumps(document, ensure_ascii=False)

    for item in (applications.get(application_id), applications.tracked(application_id)):
        with recorded_calls() as calls:
            assert item.application == application and item.sealed_pii == sealed
            assert item.application == application  # kept: read once
        assert dynamodb_calls(calls) == ["GetItem"]
    opened = pii_vault.unseal(applications.get(application_id).sealed_pii, {"application_id": application_id})
    assert opened["mobile"].endswith("0452")

    partner = config_repository.partner("P_DEMO")
    assert intake.view(partner, application_id)["application"] == application
    shown = ok(client, f"/backoffice/applications/{application_id}", "auditor")
    assert shown["applicant"] == application["applicant"] and shown["amount"] == application["amount"]
    assert shown["loan_id"] == loan_id


def test_a_list_reads_its_documents_in_one_batch(client, aws):
    ids = [received(450 + n) for n in range(3)]
    items = applications.queue("BR_DONGCHENG", "RECEIVED")
    assert sorted(item.application_id for item in items) == sorted(ids)
    with recorded_calls() as calls:
        applications.documents_of(items)
        shown = [item.application for item in items]
    assert dynamodb_calls(calls) == ["BatchGetItem"]
    assert shown == [json.loads(stored(aws, document_key(item.application_id))["application"]["S"]) for item in items]
    with recorded_calls() as calls:
        applications.documents_of(items)  # read already: nothing read again
    assert dynamodb_calls(calls) == []

    with recorded_calls() as calls:
        found = application_history.search(REVIEWER, limit=10, status="RECEIVED")["items"]
    assert sorted(i["application_id"] for i in found) == sorted(ids) and all(i["amount"] for i in found)
    assert dynamodb_calls(calls).count("BatchGetItem") == 2 and "GetItem" not in dynamodb_calls(calls)  # the items, their documents

    waiting = received(MANY_INQUIRIES)
    assert reviewed(waiting) == "MANUAL_REVIEW"
    [shown_in_queue] = ok(client, "/backoffice/reviews", "admin", branch="BR_DONGCHENG")["items"]  # the review queue
    assert shown_in_queue["application_id"] == waiting
    assert shown_in_queue["application"] == json.loads(stored(aws, document_key(waiting))["application"]["S"])


def test_an_application_stored_before_the_document_items_reads_its_own(aws):
    application_id = received(452)
    document = json.loads(stored(aws, document_key(application_id))["application"]["S"])
    sealed = json.loads(stored(aws, document_key(application_id))["sealed_pii"]["S"])
    boto3.client("dynamodb").delete_item(TableName=aws.env[resources.APPLICATIONS_TABLE.env], Key={"pk": {"S": document_key(application_id)}})
    applications.get(application_id).update(actions=[ApplicationItem.stored_application.set(document), ApplicationItem.stored_sealed_pii.set(sealed)])
    item = applications.tracked(application_id)
    with recorded_calls() as calls:
        assert item.application == document and item.sealed_pii == sealed
        applications.documents_of([item])
    assert dynamodb_calls(calls) == []
    assert reviewed(application_id) == "APPROVE"  # the review reads them from the item
