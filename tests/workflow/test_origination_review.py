"""The real origination.asl.json on moto's interpreter, its Tasks running the app's review handlers.

Every path: approve, reject, manual approve, manual reject, review expired,
bureau timeout retried then answered, bureau failure to a defined state.
The simulated bureau answers by the ID's sequence digits (see chalicelib/ports/credit_bureau.py).
"""
from __future__ import annotations

import json
import time

import boto3
import pytest

from chalicelib.persistence import applications
from chalicelib.persistence.models import ApplicationItem
from chalicelib.usecases import intake
from tests.support.applications import person
from tests.support.aws import executions_of, wait_until_settled
from tests.support.operators import operator_headers

CLEAN, CURRENT_OVERDUE, MANY_INQUIRIES, TIMEOUT_ONCE, ALWAYS_TIMEOUT, UNAVAILABLE = 451, 911, 920, 971, 951, 961


@pytest.fixture
def sfn(aws):
    return boto3.client("stepfunctions")


def execution_of(aws, application_id):
    """The application's first leg (REVIEW or DRAWDOWN), named by the application."""
    return aws.provisioned.state_machine_arns["origination"].replace(":stateMachine:", ":execution:") + f":{application_id}"


def legs_of(sfn, aws, application_id):
    """Every leg of the application's origination, the first first."""
    return executions_of(sfn, aws.provisioned.state_machine_arns["origination"], application_id)


def last_leg(sfn, aws, application_id):
    return legs_of(sfn, aws, application_id)[-1]["executionArn"]


def submit(post_signed, body):
    response = post_signed("/v1/applications", body)
    assert response.status_code == 202, response.body
    return json.loads(response.body)["application_id"]


def until_status(application_id, wanted, timeout=20.0):
    deadline = time.monotonic() + timeout
    while (item := applications.get(application_id)).status not in wanted:
        assert time.monotonic() < deadline, f"still {item.status}"
        time.sleep(0.1)
    return item


def finished(sfn, aws, application_id, timeout=30.0):
    """The application once no leg of its workflow runs (its last leg succeeded): an offer waiting
    for the borrower's answer, a manual review waiting for a reviewer, or an end."""
    described = wait_until_settled(sfn, execution_of(aws, application_id), timeout=timeout)
    assert described["status"] == "SUCCEEDED", described
    return applications.get(application_id)


def ended(sfn, aws, application_id):
    return finished(sfn, aws, application_id)


def test_a_clean_applicant_is_approved_for_routing_with_a_limit_and_a_rate(sfn, aws, post_signed):
    item = finished(sfn, aws, submit(post_signed, person(CLEAN)))
    assert item.status == "OFFERED"
    assert item.decision["outcome"] == "APPROVE"
    assert item.decision["approved_limit"] and item.decision["annual_rate"]
    trail = applications.trail_of(item)
    assert trail["bureau"]["source"] == "SIMULATOR" and trail["rule_results"]
    assert item.branch_status == "BR_DONGCHENG#OFFERED"


def test_a_current_overdue_is_rejected_with_its_reason(sfn, aws, post_signed):
    item = finished(sfn, aws, submit(post_signed, person(CURRENT_OVERDUE)))
    assert (item.status, item.decision["outcome"]) == ("REJECTED", "REJECT")
    assert "R_CURRENT_OVERDUE" in item.decision["reasons"]


def reviewer_post(client, application_id, outcome, operator="reviewer.dongcheng"):
    body = json.dumps({"outcome": outcome, "comment": "电核通过" if outcome == "APPROVE" else "电核拒绝"}).encode()
    headers = operator_headers(operator, json_body=True)
    return client.http.post(f"/backoffice/reviews/{application_id}", headers=headers, body=body)


@pytest.mark.parametrize("outcome, status", [("APPROVE", "OFFERED"), ("REJECT", "REJECTED")])
def test_a_referred_application_waits_for_a_reviewer_of_its_branch(sfn, aws, post_signed, client, outcome, status):
    application_id = submit(post_signed, person(MANY_INQUIRIES))
    item = until_status(application_id, {"MANUAL_REVIEW"})
    assert "R_MULTI_LENDING" in item.decision["reasons"]
    queue = client.http.get("/backoffice/reviews", headers=operator_headers("reviewer.dongcheng"))
    assert [i["application_id"] for i in json.loads(queue.body)["items"]] == [application_id]
    other = client.http.get("/backoffice/reviews", headers=operator_headers("reviewer.xicheng"))
    assert json.loads(other.body)["items"] == []
    assert reviewer_post(client, application_id, outcome, operator="reviewer.xicheng").status_code == 404  # not their branch
    response = reviewer_post(client, application_id, outcome)
    assert response.status_code == 200, response.body
    item = finished(sfn, aws, application_id)
    assert item.status == status
    assert applications.trail_of(item)["manual_review"]["by"] == "reviewer.dongcheng"
    assert list(item.trail) == ["manual_review"]  # all the application item carries of the trail
    assert reviewer_post(client, application_id, outcome).status_code == 409  # decided already


def test_partner_credentials_open_nothing_in_the_back_office(client, aws):
    from tests.support.signing import signed_headers

    headers = signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", "/backoffice/reviews", b"")
    response = client.http.get("/backoffice/reviews", headers=headers)
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "OPERATOR_UNKNOWN")


def test_a_review_left_too_long_expires_at_the_watch_s_next_round(sfn, aws, post_signed, client, monkeypatch):
    from chalicelib.usecases import origination, origination_watch

    real_start = origination.start
    monkeypatch.setattr(origination, "start", lambda client, application_id, timeout: real_start(client, application_id, 2))
    application_id = submit(post_signed, person(MANY_INQUIRIES))
    item = finished(sfn, aws, application_id)
    assert item.status == "MANUAL_REVIEW" and item.due_branch == "BR_DONGCHENG" and item.waits_until
    assert origination_watch.sweep(sfn)["reviews_expired"] == 0  # not due yet
    time.sleep(2.1)
    assert origination_watch.sweep(sfn)["reviews_expired"] == 1
    item = applications.get(application_id)
    assert item.status == "EXPIRED"
    assert "MANUAL_REVIEW_EXPIRED" in item.decision["reasons"] and item.due_branch is None and item.waits_until is None
    assert origination_watch.sweep(sfn)["reviews_expired"] == 0  # out of the index
    late = reviewer_post(client, application_id, "APPROVE")
    assert (late.status_code, json.loads(late.body)["code"]) == (409, "NOT_IN_MANUAL_REVIEW")


def test_a_bureau_timeout_is_retried_and_then_answered(sfn, aws, post_signed):
    application_id = submit(post_signed, person(TIMEOUT_ONCE))
    item = finished(sfn, aws, application_id)
    assert item.status in ("OFFERED", "NO_FUNDER", "REJECTED", "MANUAL_REVIEW") and "BUREAU_UNAVAILABLE" not in (item.decision or {}).get("reasons", [])
    history = sfn.get_execution_history(executionArn=execution_of(aws, application_id))["events"]
    failures = [e for e in history if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert len(failures) == 1 and "BureauTimeout" in json.dumps(failures[0], default=str)


@pytest.mark.parametrize("sequence", [ALWAYS_TIMEOUT, UNAVAILABLE])
def test_a_bureau_that_keeps_failing_ends_in_a_defined_state(sfn, aws, post_signed, sequence):
    item = finished(sfn, aws, submit(post_signed, person(sequence)))
    assert (item.status, item.decision["reasons"]) == ("REJECTED", ["BUREAU_UNAVAILABLE"])


def test_a_second_application_reuses_the_valid_report(sfn, aws, post_signed):
    first = finished(sfn, aws, submit(post_signed, person(CLEAN)))
    second_id = submit(post_signed, person(CLEAN, partner_application_no="P-again"))
    finished(sfn, aws, second_id)
    history = sfn.get_execution_history(executionArn=execution_of(aws, second_id))["events"]
    exited = next(e for e in history if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "QueryBureau")
    assert json.loads(exited["stateExitedEventDetails"]["output"])["bureau"]["reused"] is True
    assert applications.trail_of(first)["bureau"]["report_id"]


def test_no_application_stays_in_review_after_its_execution(sfn, aws, post_signed):
    ids = [submit(post_signed, person(s)) for s in (CLEAN, CURRENT_OVERDUE, ALWAYS_TIMEOUT)]
    for application_id in ids:
        finished(sfn, aws, application_id)
    stuck = [i for i in ApplicationItem.scan() if i.pk.startswith("APP#") and i.status in ("REVIEWING", "RECEIVED")]
    assert stuck == []


def test_a_branch_s_override_applies_to_its_applications(sfn, aws, post_signed):
    from chalicelib.ports.credit_bureau import make_id

    # BR_XICHENG (division 110102) requires a monthly income of 5,000; the product 3,000.
    low_income = {"applicant__monthly_income": "4000.00", "amount": "20000.00"}
    xicheng = person(452, applicant__id_number=make_id(452, division="110102"), **low_income)
    dongcheng = person(453, **low_income)
    at_xicheng = finished(sfn, aws, submit(post_signed, xicheng))
    at_dongcheng = finished(sfn, aws, submit(post_signed, dongcheng))
    assert at_xicheng.branch_code == "BR_XICHENG" and "R_INCOME_MIN" in at_xicheng.decision["reasons"]
    assert at_dongcheng.status == "OFFERED"
    assert applications.trail_of(at_xicheng)["policy"]["branch_code"] == "BR_XICHENG"


def test_a_mobile_shared_by_too_many_people_is_refused(sfn, aws, post_signed):
    shared = {"applicant__mobile": "13912345678"}
    outcomes = [finished(sfn, aws, submit(post_signed, person(s, **shared))) for s in (454, 455, 456)]
    assert [o.status for o in outcomes[:2]] == ["OFFERED", "OFFERED"]
    assert outcomes[2].status == "REJECTED" and "F_MOBILE_SHARED" in outcomes[2].decision["reasons"]


def test_the_bank_s_blacklist_refuses(sfn, aws, post_signed):
    from chalicelib.persistence import config_repository, pii_vault
    from chalicelib.ports.credit_bureau import make_id

    config_repository.put_blacklisted("ID", pii_vault.keyed_hash(make_id(457)), "fraud case 2026-031")
    item = finished(sfn, aws, submit(post_signed, person(457)))
    assert item.status == "REJECTED" and "F_BLACKLIST" in item.decision["reasons"]


def test_the_partner_sees_the_decision_but_not_the_score(sfn, aws, post_signed, client):
    from tests.support.signing import signed_headers

    application_id = submit(post_signed, person(CLEAN))
    finished(sfn, aws, application_id)
    path = f"/v1/applications/{application_id}"
    shown = json.loads(client.http.get(path, headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", path, b"")).body)
    assert shown["status"] == "OFFERED"
    assert set(shown["decision"]) == {"outcome", "reasons", "approved_limit", "annual_rate"}


def test_a_leg_that_keeps_stalling_is_started_again_then_closed_as_failed(sfn, aws, post_signed, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from chalicelib.usecases import origination, origination_watch

    monkeypatch.setattr(origination, "start", lambda *args, **kwargs: "lost")  # the REVIEW leg never runs
    monkeypatch.setattr(origination, "resume", lambda *args, **kwargs: "lost")  # nor any leg started again
    application_id = submit(post_signed, person(CLEAN))
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert origination_watch.sweep(sfn)["legs_restarted"] == 0  # not stalled yet
    rounds = [origination_watch.sweep(sfn, now=later) for _ in range(4)]
    assert [r["legs_restarted"] for r in rounds] == [1, 1, 1, 0] and [r["legs_failed"] for r in rounds] == [0, 0, 0, 1]
    item = applications.get(application_id)
    assert (item.status, item.decision["reasons"], item.watch_restarts) == ("REJECTED", ["REVIEW_ERROR"], 3)
    assert origination_watch.sweep(sfn, now=later) == {k: 0 for k in rounds[0]}  # a defined end: nothing more
