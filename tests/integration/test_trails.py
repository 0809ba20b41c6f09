"""The trail's write-once parts are items of their own, and the merged trail reads as it always did.

The review's trail (``TRAIL#<id>#REVIEW``) and the routing trail (``TRAIL#<id>#ROUTING``) are put
before the change of status that refers to them; the application item, rewritten at every change
of status, carries only the reviewer's decision (``persistence/applications.py``). Applications are
taken through their steps in-process, as the origination workflow runs them.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest

from chalicelib import resources
from chalicelib.domain.operator import Operator, Role
from chalicelib.persistence import applications
from chalicelib.usecases import fund_routing, review
from chalicelib.usecases.errors import Refused
from tests.integration.test_backoffice_inquiries import MANY_INQUIRIES, NoWorkflow, offered, received, reviewed

DECIDED_AT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
SUMMARY = ("outcome", "reasons", "approved_limit", "annual_rate", "band", "score", "pd")


def stored(aws: Any, pk: str) -> dict[str, Any] | None:
    """The item as DynamoDB holds it (its attributes, serialised)."""
    return boto3.client("dynamodb").get_item(TableName=aws.env[resources.APPLICATIONS_TABLE.env], Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def trail_items(aws: Any, application_id: str) -> list[str]:
    table = aws.env[resources.APPLICATIONS_TABLE.env]
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(
        TableName=table, FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": {"S": f"TRAIL#{application_id}#"}}
    )
    return sorted(item["pk"]["S"] for page in pages for item in page["Items"])


def part(aws: Any, application_id: str, name: str) -> dict[str, Any]:
    return json.loads(stored(aws, applications.trail_key(application_id, name))["trail"]["S"])


def test_the_application_item_carries_no_review_or_routing_trail_and_the_merged_trail_reads_as_before(aws):
    application_id = offered(452)
    item = applications.get(application_id)
    raw = stored(aws, f"APP#{application_id}")
    assert "trail" not in raw and item.trail is None
    assert "rule_results" not in json.dumps(raw) and "attempts" not in json.dumps(raw)
    assert trail_items(aws, application_id) == [f"TRAIL#{application_id}#REVIEW", f"TRAIL#{application_id}#ROUTING"]

    merged = applications.trail_of(item)
    review_trail, routing_trail = part(aws, application_id, "REVIEW"), part(aws, application_id, "ROUTING")
    assert merged == {**review_trail, "routing": routing_trail}  # what the application's ``trail`` held
    assert {"rule_results", "fraud_facts", "scorecard", "bureau", "decided_at", "inputs", "policy"} <= set(review_trail)
    assert {k: merged[k] for k in SUMMARY} == item.decision  # the decision is the trail's summary, as before
    assert routing_trail["attempts"][-1]["result"] == "APPROVED" and routing_trail["routed_at"]
    assert applications.trail_of(item, parts=(applications.ROUTING,)) == {"routing": routing_trail}
    assert applications.trails_of([item, item]) == [merged, merged]

    # An application stored before the trail items: its whole trail in the item, read as it was.
    boto3.client("dynamodb").delete_item(TableName=aws.env[resources.APPLICATIONS_TABLE.env], Key={"pk": {"S": applications.trail_key(application_id, "REVIEW")}})
    boto3.client("dynamodb").delete_item(TableName=aws.env[resources.APPLICATIONS_TABLE.env], Key={"pk": {"S": applications.trail_key(application_id, "ROUTING")}})
    item.update(actions=[applications.ApplicationItem.trail.set(merged)])
    assert applications.trail_of(applications.get(application_id)) == merged


def test_a_reviewer_s_decision_stays_in_the_application_and_is_recorded_by_the_reviewer_who_won(aws):
    application_id = received(MANY_INQUIRIES)
    assert reviewed(application_id) == "MANUAL_REVIEW"
    first = Operator(operator_id="reviewer.dongcheng", name="东城审核员", role=Role.REVIEWER, branch_code="BR_DONGCHENG")
    second = Operator(operator_id="admin.dongcheng", name="东城主管", role=Role.REVIEWER, branch_code="BR_DONGCHENG")
    review.manual_decision(first, application_id, "APPROVE", "电核通过", NoWorkflow())
    with pytest.raises(Refused):  # decided already: the second reviewer's decision is not recorded
        review.manual_decision(second, application_id, "REJECT", "电核拒绝", NoWorkflow())
    assert fund_routing.route(application_id)["status"] == "OFFERED"
    item = applications.get(application_id)
    assert list(item.trail) == ["manual_review"] and item.trail["manual_review"]["by"] == "reviewer.dongcheng"
    merged = applications.trail_of(item)
    assert merged == {**part(aws, application_id, "REVIEW"), "manual_review": item.trail["manual_review"], "routing": part(aws, application_id, "ROUTING")}


def test_a_review_step_run_twice_writes_the_same_trail_item(aws, monkeypatch):
    monkeypatch.setattr(review, "_now", lambda: DECIDED_AT)
    application_id = received(452)
    report_key = review.query_bureau(application_id)["report_key"]
    assert review.decide(application_id, report_key)["outcome"] == "APPROVE"
    once = stored(aws, applications.trail_key(application_id, "REVIEW"))
    assert review.decide(application_id, report_key)["outcome"] == "APPROVE"  # the step retried
    assert stored(aws, applications.trail_key(application_id, "REVIEW")) == once
    assert trail_items(aws, application_id) == [f"TRAIL#{application_id}#REVIEW"]
    assert applications.trail_of(applications.get(application_id))["decided_at"] == DECIDED_AT.isoformat()

    review.close(application_id, "APPROVED")
    with pytest.raises(applications.StatusConflict):  # a stale run once the review is over rewrites nothing
        review.decide(application_id, report_key)
    assert stored(aws, applications.trail_key(application_id, "REVIEW")) == once


def test_a_routing_step_that_crashed_before_its_change_of_status_is_retried_onto_the_same_trail_item(aws, monkeypatch):
    """The retry routes again (its answers may differ) and its trail replaces the crashed run's: one
    item, the one the offer made refers to."""
    application_id = received(452)
    assert reviewed(application_id) == "APPROVE"
    transition = applications.transition

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the function timed out")

    monkeypatch.setattr(applications, "transition", crash)
    with pytest.raises(RuntimeError):
        fund_routing.route(application_id)
    assert applications.get(application_id).status == "ROUTING"
    crashed = stored(aws, applications.trail_key(application_id, "ROUTING"))
    assert crashed is not None  # put before the change of status

    monkeypatch.setattr(applications, "transition", transition)
    monkeypatch.setattr(fund_routing, "_now", lambda: DECIDED_AT)
    assert fund_routing.route(application_id)["status"] == "OFFERED"  # the step retried
    retried = json.loads(stored(aws, applications.trail_key(application_id, "ROUTING"))["trail"]["S"])
    assert retried["routed_at"] == DECIDED_AT.isoformat() != json.loads(crashed["trail"]["S"])["routed_at"]
    assert trail_items(aws, application_id) == [f"TRAIL#{application_id}#REVIEW", f"TRAIL#{application_id}#ROUTING"]
    item = applications.get(application_id)
    assert item.trail is None and applications.trail_of(item)["routing"] == retried
    assert retried["attempts"][-1]["channel"] == item.offer["channel"]
    assert fund_routing.route(application_id)["status"] == "OFFERED"  # run again once routed: nothing rewritten
    assert json.loads(stored(aws, applications.trail_key(application_id, "ROUTING"))["trail"]["S"]) == retried
