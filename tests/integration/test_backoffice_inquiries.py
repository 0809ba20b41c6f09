"""The back office's read API (dashboard, application search and history, loans) through Chalice's
test client, against moto.

Applications are taken through their steps in-process, as the origination
workflow runs them (no state machine): intake, review, routing, the borrower's
acceptance, signing, disbursement. BR_DONGCHENG serves ID numbers of division
110101, BR_XICHENG of 110102.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.domain.classification import LoanClass
from chalicelib.persistence import applications, config_repository, loans
from chalicelib.ports.credit_bureau import make_id
from chalicelib.usecases import contracting, disbursement, fund_routing, intake, review
from tests.support.applications import card_number, person
from tests.support.aws import BUSINESS_DATE
from tests.support.operators import operator_headers

DONGCHENG, XICHENG = "110101", "110102"
OVERDUE_NOW, MANY_INQUIRIES = 911, 920


class NoWorkflow:
    """Stands in for Step Functions: nothing starts in the background; a reviewer's answer goes nowhere."""

    class exceptions:  # noqa: N801 - the shape of a boto3 client
        class ExecutionAlreadyExists(Exception):
            pass

        class TaskTimedOut(Exception):
            pass

        class InvalidToken(Exception):
            pass

        class TaskDoesNotExist(Exception):
            pass

    def start_execution(self, **kwargs: Any) -> dict[str, str]:
        return {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:none:" + kwargs["name"]}

    def send_task_success(self, **kwargs: Any) -> None:
        return None


def applicant(sequence: int, division: str = DONGCHENG, **changes: Any) -> dict[str, Any]:
    return person(sequence, applicant__id_number=make_id(sequence, division=division), **changes)


def received(sequence: int, division: str = DONGCHENG, **changes: Any) -> str:
    return intake.submit(config_repository.partner("P_DEMO"), applicant(sequence, division, **changes), NoWorkflow()).application_id


def reviewed(application_id: str) -> str:
    """The review's outcome; the review closed (APPROVE -> ROUTING, REJECT -> REJECTED; MANUAL_REVIEW waits)."""
    outcome = review.decide(application_id, review.query_bureau(application_id)["report_key"])["outcome"]
    if outcome == "APPROVE":
        review.close(application_id, "APPROVED")
    elif outcome == "REJECT":
        review.close(application_id, "REJECTED")
    else:  # MANUAL_REVIEW
        review.await_manual(application_id, 3600)
    return outcome


def offered(sequence: int, division: str = DONGCHENG) -> str:
    application_id = received(sequence, division)
    assert reviewed(application_id) == "APPROVE"
    assert fund_routing.route(application_id)["status"] == "OFFERED"
    return application_id


def disbursed(sequence: int, division: str = DONGCHENG) -> tuple[str, str]:
    application_id = offered(sequence, division)
    now = datetime.now(timezone.utc).isoformat()
    applications.transition(application_id, "SIGNING", {"OFFERED"}, now, acceptance={"accepted": True, "accepted_at": now, "received_at": now})
    contracting.sign(application_id)
    done = disbursement.disburse(application_id)
    assert done["status"] == "DISBURSED", done
    return application_id, done["loan_id"]


def get(client: Any, path: str, operator: str = "admin", **params: Any) -> Any:
    query = f"?{urlencode(params)}" if params else ""
    return client.http.get(path + query, headers=operator_headers(operator))


def ok(client: Any, path: str, operator: str = "admin", **params: Any) -> Any:
    response = get(client, path, operator, **params)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def walk(client: Any, path: str, operator: str = "admin", **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following next_cursor: (items, pages)."""
    items, pages, cursor = [], 0, None
    while True:
        page = ok(client, path, operator, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 50


def refused(client: Any, path: str, expected: int, operator: str = "admin", **params: Any) -> dict[str, Any]:
    response = get(client, path, operator, **params)
    assert response.status_code == expected, response.body
    body = json.loads(response.body)
    assert set(body) == {"code", "message", "details"}
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {d["field"] for d in body["details"]}


def raw_personal_data(sequence: int, division: str = DONGCHENG) -> list[str]:
    return [make_id(sequence, division=division), f"139{sequence:08d}", card_number(sequence)]


# -- the dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_counts_the_business_dates_applications_per_branch_in_scope(client, aws):
    _, loan_id = disbursed(452)
    rejected = received(OVERDUE_NOW)
    assert reviewed(rejected) == "REJECT"
    waiting = received(454)
    elsewhere = received(456, XICHENG)
    assert reviewed(elsewhere) == "APPROVE"
    fund_routing.route(elsewhere)
    elsewhere_status = applications.get(elsewhere).status
    amount = str(loans.get(loan_id).amount)

    shown = ok(client, "/backoffice/dashboard")
    assert set(shown) >= {"business_date", "applications_by_status", "approval_rate", "disbursed_by_branch", "quota_use", "loans_by_class"}
    assert shown["business_date"] == BUSINESS_DATE.isoformat() and shown["branch_code"] is None
    by_status = shown["applications_by_status"]
    assert sum(by_status.values()) == 4 and by_status["DISBURSED"] == 1 and by_status["REJECTED"] == 1
    assert by_status["RECEIVED"] == 1 and by_status[elsewhere_status] == 1 and applications.get(waiting).status == "RECEIVED"
    assert shown["approval_rate"] == "0.6667" and shown["decided"] == {"approved": 2, "rejected": 1}
    disbursed_rows = {row["branch_code"]: row for row in shown["disbursed_by_branch"]}
    assert disbursed_rows["BR_DONGCHENG"] == {"branch_code": "BR_DONGCHENG", "count": 1, "amount": amount}
    assert disbursed_rows["BR_XICHENG"] == {"branch_code": "BR_XICHENG", "count": 0, "amount": "0.00"}
    assert set(shown["loans_by_class"]) == {c.value for c in LoanClass}
    quota = {(r["branch_code"], r["funder"], r["period"]): r for r in shown["quota_use"]}
    total = quota[("BR_DONGCHENG", None, "TOTAL")]
    assert total["used"] == amount and total["limit"] == "800000000.00"
    assert total["remaining"] == f"{800000000 - float(amount):.2f}"
    assert ("BR_DONGCHENG", None, BUSINESS_DATE.isoformat()) in quota
    assert any(funder and branch is None for branch, funder, _ in quota)  # a participating bank, own funds: platform only

    mine = ok(client, "/backoffice/dashboard", "reviewer.xicheng")
    assert mine["branch_code"] == "BR_XICHENG" and sum(mine["applications_by_status"].values()) == 1
    assert mine["approval_rate"] == "1.0000" and [r["branch_code"] for r in mine["disbursed_by_branch"]] == ["BR_XICHENG"]
    assert {r["branch_code"] for r in mine["quota_use"]} == {"BR_XICHENG"}

    narrowed = ok(client, "/backoffice/dashboard", branch_code="BR_DONGCHENG")
    assert narrowed["branch_code"] == "BR_DONGCHENG" and sum(narrowed["applications_by_status"].values()) == 3
    assert narrowed["approval_rate"] == "0.5000"

    assert refused(client, "/backoffice/dashboard", 403, "reviewer.xicheng", branch_code="BR_DONGCHENG")["code"] == "BRANCH_FORBIDDEN"
    assert fields(refused(client, "/backoffice/dashboard", 400, branch_code="BR_NOWHERE")) == {"branch_code"}
    assert fields(refused(client, "/backoffice/dashboard", 400, branch_code="not a code", since="today")) == {"branch_code", "since"}


def test_the_dashboard_of_another_day_starts_from_nothing(client, aws):
    received(452)
    config_repository.set_business_date(BUSINESS_DATE.replace(day=24))
    config_repository.clear_cache()
    shown = ok(client, "/backoffice/dashboard")
    assert shown["business_date"] == "2026-11-24" and sum(shown["applications_by_status"].values()) == 0
    assert shown["approval_rate"] is None


def test_a_status_change_is_counted_and_kept_once(aws):
    application_id = received(452)
    now = datetime.now(timezone.utc).isoformat()
    applications.transition(application_id, "REVIEWING", {"RECEIVED"}, now)
    applications.transition(application_id, "REVIEWING", {"RECEIVED"}, now)  # a retried step: already there
    with pytest.raises(applications.StatusConflict):
        applications.transition(application_id, "SIGNING", {"OFFERED"}, now)
    stored = applications.tracked(application_id)
    assert [s for s, _ in stored.status_history] == ["RECEIVED", "REVIEWING"]
    assert stored.received_on == BUSINESS_DATE.isoformat() and stored.branch_day == f"BR_DONGCHENG#{BUSINESS_DATE.isoformat()}"
    shards = applications.counts(["BR_DONGCHENG"], BUSINESS_DATE.isoformat())["BR_DONGCHENG"]
    totals = {name: sum(int(s.get(name) or 0) for s in shards) for name in ("RECEIVED", "REVIEWING")}
    assert totals == {"RECEIVED": 0, "REVIEWING": 1}


# -- applications -----------------------------------------------------------------------------------


def test_application_search_walks_every_page_within_the_operators_branches(client, aws):
    dongcheng = [received(s) for s in (452, 453, 454, 456, 457)]
    xicheng = received(458, XICHENG)

    everything, pages = walk(client, "/backoffice/applications", limit=2)
    assert sorted(i["application_id"] for i in everything) == sorted(dongcheng + [xicheng]) and pages >= 3
    first = everything[0]
    assert set(first) == {
        "application_id", "partner_id", "partner_application_no", "branch_code", "product_code", "kind", "status", "amount", "created_at", "updated_at",
    }
    assert first["amount"] == "50000.00" and first["status"] == "RECEIVED" and first["partner_id"] == "P_DEMO"
    ours = [i["application_id"] for i in everything if i["branch_code"] == "BR_DONGCHENG"]
    assert ours == sorted(dongcheng, reverse=True)  # newest first

    mine, _ = walk(client, "/backoffice/applications", "operator.dongcheng", limit=3)
    assert sorted(i["application_id"] for i in mine) == sorted(dongcheng)
    assert [i["application_id"] for i in walk(client, "/backoffice/applications", "reviewer.xicheng")[0]] == [xicheng]

    in_status, _ = walk(client, "/backoffice/applications", status="RECEIVED", branch_code="BR_DONGCHENG", limit=2)
    assert sorted(i["application_id"] for i in in_status) == sorted(dongcheng)
    assert walk(client, "/backoffice/applications", status="OFFERED")[0] == []
    by_partner, _ = walk(client, "/backoffice/applications", partner_id="P_DEMO", limit=4)
    assert len(by_partner) == 6
    assert ok(client, "/backoffice/applications", partner_id="P_NOBODY") == {"items": [], "next_cursor": None}
    assert walk(client, "/backoffice/applications", received_on="2026-11-22")[0] == []

    by_id = ok(client, "/backoffice/applications", q=dongcheng[0])
    assert [i["application_id"] for i in by_id["items"]] == [dongcheng[0]] and by_id["next_cursor"] is None
    number = applications.get(dongcheng[1]).partner_application_no
    assert [i["application_id"] for i in ok(client, "/backoffice/applications", "operator.dongcheng", q=number)["items"]] == [dongcheng[1]]
    assert ok(client, "/backoffice/applications", "reviewer.dongcheng", q=xicheng)["items"] == []  # another branch's: not found

    assert refused(client, "/backoffice/applications", 403, "reviewer.xicheng", branch_code="BR_DONGCHENG")["code"] == "BRANCH_FORBIDDEN"


def test_application_search_refuses_bad_parameters_with_their_names(client, aws):
    received(452)
    cases = [
        ({"limit": "0"}, {"limit"}), ({"limit": "101"}, {"limit"}), ({"limit": "ten"}, {"limit"}),
        ({"status": "LOST"}, {"status"}), ({"received_on": "2026-13-01"}, {"received_on"}), ({"q": "110101 1990"}, {"q"}),
        ({"cursor": "not a cursor!"}, {"cursor"}), ({"cursor": "eyJwIjo5LCJrIjpudWxsfQ"}, {"cursor"}),  # {"p": 9, "k": null}
        ({"page": "2", "status": "NOPE"}, {"page", "status"}),
    ]
    for params, names in cases:
        body = refused(client, "/backoffice/applications", 400, **params)
        assert body["code"] == "INVALID_INPUT" and fields(body) == names, (params, body)
    response = client.http.get("/backoffice/applications?limit=1&limit=2", headers=operator_headers("admin"))
    assert response.status_code == 400 and fields(json.loads(response.body)) == {"limit"}


def test_a_cursor_cannot_be_moved_to_another_list_or_branch(client, aws):
    for sequence in (452, 453):
        received(sequence)
    page = ok(client, "/backoffice/applications", "operator.dongcheng", limit=1)
    assert page["next_cursor"]
    assert fields(refused(client, "/backoffice/applications", 400, "reviewer.xicheng", cursor=page["next_cursor"])) == {"cursor"}
    assert fields(refused(client, "/backoffice/applications", 400, status="RECEIVED", cursor=page["next_cursor"])) == {"cursor"}
    assert fields(refused(client, "/backoffice/loans", 400, cursor=page["next_cursor"])) == {"cursor"}


def test_an_applications_history_shows_its_timeline_review_and_documents_masked(client, aws):
    application_id, loan_id = disbursed(452)
    shown = ok(client, f"/backoffice/applications/{application_id}", "auditor")
    statuses = [e["status"] for e in shown["timeline"] if e["kind"] == "STATUS"]
    assert statuses == ["RECEIVED", "REVIEWING", "ROUTING", "OFFERED", "SIGNING", "DISBURSING", "DISBURSED"]
    kinds = {e["kind"] for e in shown["timeline"]}
    assert {"DECISION", "ROUTING", "ANSWER", "CONTRACT_SIGNED", "DISBURSED"} <= kinds
    assert shown["status"] == "DISBURSED" and shown["loan_id"] == loan_id and shown["received_on"] == BUSINESS_DATE.isoformat()
    assert shown["decision"]["outcome"] == "APPROVE" and isinstance(shown["score"]["score"], int) and shown["score"]["contributions"]
    assert shown["rule_results"] and shown["bureau"]["report_id"] and all(k.startswith("bureau_") for k in shown["bureau"]["facts"])
    assert shown["decision_trail"]["inputs"] and shown["routing_trail"]["attempts"]
    assert [d["kind"] for d in shown["documents"]] == ["contract", "authorisation"]
    assert all(len(d["sha256"]) == 64 and d["key"] for d in shown["documents"])
    assert shown["applicant"]["id_number"] == "110101********" + make_id(452)[-4:]
    assert shown["applicant"]["mobile"] == "139****0452" and shown["account"]["card_number"].startswith("622202*")
    assert not {"sealed_pii", "id_hash", "due_branch", "fingerprint"} & set(shown)
    for raw in raw_personal_data(452) + ["张三"]:
        assert raw not in json.dumps(shown, ensure_ascii=False)

    assert refused(client, f"/backoffice/applications/{application_id}", 404, "reviewer.xicheng")["code"] == "NOT_FOUND"
    assert refused(client, "/backoffice/applications/AP20990101-000000-0000000000", 404)["code"] == "NOT_FOUND"
    assert refused(client, "/backoffice/applications/nothing", 404)["code"] == "NOT_FOUND"


def test_a_manual_review_shows_the_reviewer_and_a_scrubbed_comment(client, aws):
    application_id = received(MANY_INQUIRIES)
    assert reviewed(application_id) == "MANUAL_REVIEW"
    from chalicelib.domain.operator import Operator, Role

    reviewer = Operator(operator_id="reviewer.dongcheng", name="东城审核员", role=Role.REVIEWER, branch_code="BR_DONGCHENG")
    review.manual_decision(reviewer, application_id, "APPROVE", "电核通过, 回拨 13800138000", NoWorkflow())
    review.close(application_id, "APPROVED")
    shown = ok(client, f"/backoffice/applications/{application_id}", "reviewer.dongcheng")
    assert shown["manual_review"]["by"] == "reviewer.dongcheng" and "13800138000" not in json.dumps(shown)
    statuses = [e["status"] for e in shown["timeline"] if e["kind"] == "STATUS"]
    assert statuses == ["RECEIVED", "REVIEWING", "MANUAL_REVIEW", "ROUTING"]
    assert ok(client, "/backoffice/dashboard")["decided"] == {"approved": 1, "rejected": 0}


# -- loans ------------------------------------------------------------------------------------------


def _classified(loan_id: str, loan_class: LoanClass, days_past_due: int) -> None:
    """What a day end does to a loan that fell overdue: its class and days past due, a class change kept."""
    loan = loans.get(loan_id)
    after = replace(loan.classified(BUSINESS_DATE, loan_class, days_past_due), version=loan.version + 1)
    loans.save(loan, after, datetime.now(timezone.utc))


def test_the_loan_list_walks_every_page_filters_and_scopes(client, aws):
    first = disbursed(452)[1]
    second = disbursed(453)[1]
    theirs = disbursed(459, XICHENG)[1]
    _classified(second, LoanClass.SPECIAL_MENTION, 5)

    everything, pages = walk(client, "/backoffice/loans", limit=1)
    assert sorted(i["loan_id"] for i in everything) == sorted([first, second, theirs]) and pages >= 3
    one = next(i for i in everything if i["loan_id"] == first)
    loan = loans.get(first)
    assert one == {
        "loan_id": first, "application_id": loan.application_id, "branch_code": "BR_DONGCHENG", "partner_id": "P_DEMO",
        "product_code": loan.product_code, "amount": f"{loan.amount:.2f}", "outstanding_principal": f"{loan.outstanding_principal:.2f}",
        "status": "ACTIVE", "loan_class": "NORMAL", "days_past_due": 0, "start_date": loan.start_date.isoformat(),
    }
    mine, _ = walk(client, "/backoffice/loans", "operator.dongcheng", limit=1)
    assert sorted(i["loan_id"] for i in mine) == sorted([first, second])
    assert [i["loan_id"] for i in walk(client, "/backoffice/loans", "reviewer.xicheng")[0]] == [theirs]
    assert [i["loan_id"] for i in walk(client, "/backoffice/loans", loan_class="SPECIAL_MENTION")[0]] == [second]
    assert walk(client, "/backoffice/loans", status="SETTLED")[0] == []
    assert len(walk(client, "/backoffice/loans", status="ACTIVE", branch_code="BR_DONGCHENG")[0]) == 2

    assert refused(client, "/backoffice/loans", 403, "reviewer.xicheng", branch_code="BR_DONGCHENG")["code"] == "BRANCH_FORBIDDEN"
    for params, names in [({"loan_class": "BAD"}, {"loan_class"}), ({"status": "OPEN"}, {"status"}), ({"limit": "-1"}, {"limit"}), ({"q": "x"}, {"q"})]:
        assert fields(refused(client, "/backoffice/loans", 400, **params)) == names


def test_a_loans_detail_shows_its_schedule_postings_class_history_and_case(client, aws):
    from chalicelib.domain.collection_cases import CollectionCase
    from chalicelib.persistence import risk

    application_id, loan_id = disbursed(452)
    _classified(loan_id, LoanClass.SPECIAL_MENTION, 5)
    risk.put_case(CollectionCase(f"CC-{loan_id}-20261123", loan_id, "C1", "BR_DONGCHENG", "M1", BUSINESS_DATE))

    shown = ok(client, f"/backoffice/loans/{loan_id}", "operator.dongcheng")
    assert set(shown) >= {"loan", "schedule", "postings", "class_history", "collection_case"}
    loan = loans.get(loan_id)
    assert shown["loan"]["loan_id"] == loan_id and shown["loan"]["application_id"] == application_id
    assert shown["loan"]["loan_class"] == "SPECIAL_MENTION" and shown["loan"]["amount"] == f"{loan.amount:.2f}"
    assert len(shown["schedule"]) == len(loan.installments) and shown["schedule"][0]["paid_principal"] == "0.00"
    assert {"period", "due_date", "principal", "interest", "outstanding", "status"} <= set(shown["schedule"][0])
    assert [p["kind"] for p in shown["postings"]] == ["DISBURSEMENT"] and shown["postings_next_cursor"] is None
    lines = shown["postings"][0]["lines"]
    assert sum(float(l["amount"]) for l in lines if l["side"] == "DEBIT") == sum(float(l["amount"]) for l in lines if l["side"] == "CREDIT")
    assert shown["class_history"] == [{"day": BUSINESS_DATE.isoformat(), "from_class": "NORMAL", "to_class": "SPECIAL_MENTION", "days_past_due": 5}]
    assert shown["collection_case"]["stage"] == "M1" and shown["collection_case"]["closed_on"] is None

    postings, _ = walk(client, f"/backoffice/loans/{loan_id}/postings", limit=1)
    assert [p["posting_id"] for p in postings] == [p["posting_id"] for p in shown["postings"]]

    assert refused(client, f"/backoffice/loans/{loan_id}", 404, "reviewer.xicheng")["code"] == "NOT_FOUND"
    assert refused(client, f"/backoffice/loans/{loan_id}/postings", 404, "reviewer.xicheng")["code"] == "NOT_FOUND"
    assert refused(client, "/backoffice/loans/LN20990101-000000-0000000000", 404)["code"] == "NOT_FOUND"
    assert fields(refused(client, f"/backoffice/loans/{loan_id}/postings", 400, limit="500")) == {"limit"}
    for raw in raw_personal_data(452):
        assert raw not in json.dumps(shown)


def test_the_dashboard_counts_active_loans_by_class(client, aws):
    first = disbursed(452)[1]
    disbursed(453)
    _classified(first, LoanClass.SUBSTANDARD, 95)
    assert ok(client, "/backoffice/dashboard")["loans_by_class"] == {c.value: 0 for c in LoanClass} | {"NORMAL": 1, "SUBSTANDARD": 1}


def test_loan_class_counts_move_with_a_loans_write_and_the_dashboard_reads_them(client, aws):
    from pynamodb.transactions import TransactWrite

    from chalicelib.domain.loan import LoanStatus
    from chalicelib.persistence import loan_class_counts
    from chalicelib.persistence.models import transaction_connection

    def written(before: Any, after: Any) -> None:
        with TransactWrite(connection=transaction_connection()) as tx:
            loan_class_counts.add_to(tx, before, after)

    loan = loans.get(disbursed(452)[1])  # booked DISBURSING (not counted), then paid: ACTIVE, counted by the loan's own writes
    assert ok(client, "/backoffice/dashboard", "operator.dongcheng")["loans_by_class"] == {c.value: 0 for c in LoanClass} | {"NORMAL": 1}
    worse = replace(loan, loan_class=LoanClass.SUBSTANDARD)
    written(loan, worse)
    classes = ok(client, "/backoffice/dashboard", "operator.dongcheng")["loans_by_class"]
    assert classes == {c.value: 0 for c in LoanClass} | {"SUBSTANDARD": 1}
    written(worse, replace(worse, status=LoanStatus.SETTLED))
    assert ok(client, "/backoffice/dashboard")["loans_by_class"] == {c.value: 0 for c in LoanClass}
    assert ok(client, "/backoffice/dashboard", "reviewer.xicheng")["loans_by_class"]["SUBSTANDARD"] == 0
