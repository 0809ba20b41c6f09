"""The back office reads reconciliation reports, the collections queue and warnings, through Chalice's test client.

Against moto and the sample configuration: partners' files are uploaded to the
reports bucket (the S3 event reconciles them in-process, as on AWS), collection
cases and warnings are stored as the day end stores them (``persistence/risk``).
Every list answers ``{"items", "next_cursor"}``; walking the cursors gives the
whole list exactly once; branch staff see only their branch.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlencode

import boto3
import pytest

from chalicelib.api.backoffice_params import encode_cursor
from chalicelib.domain.collection_cases import CaseEvent, CloseReason, CollectionCase, StageChange, case_id_for
from chalicelib.domain.reconciliation import Row, reconcile, render_partner_file, render_report
from chalicelib.domain.risk_warnings import RiskWarning, Severity, WarningKind
from chalicelib.persistence import config_repository, loans, reconciliation_reports, reports, risk
from chalicelib.usecases import loan_servicing, reconciling
from tests.integration.test_loans_api import disbursed
from tests.support.aws import BUSINESS_DATE
from tests.support.operators import operator_headers

DAY = BUSINESS_DATE  # 2026-11-23
BRANCH_STAFF = ("operator.dongcheng", "reviewer.xicheng")


def get(client, path: str, operator: str = "admin", **params):
    query = urlencode({k: v for k, v in params.items() if v is not None})
    response = client.http.get(path + (f"?{query}" if query else ""), headers=operator_headers(operator))
    return response.status_code, json.loads(response.body)


def fields(body: dict) -> set[str]:
    return {detail["field"] for detail in body["details"]}


def walk(client, path: str, operator: str = "admin", **params) -> list[list[dict]]:
    """Every page of a list, following next_cursor to the end."""
    pages, cursor = [], None
    while True:
        status, body = get(client, path, operator, cursor=cursor, **params)
        assert status == 200, body
        assert set(body) >= {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


# -- reconciliation -----------------------------------------------------------------------------


def _file(day: date, *rows: Row, extra: bytes = b"") -> bytes:
    return render_partner_file(rows, day) + extra


def _breaks_only(day: date) -> bytes:
    """A file for a day the bank has nothing: 5 missing at the bank, a duplicate, 2 invalid lines."""
    rows = [Row("REPAYMENT", f"R-{i}", "LN-X", 100 * i, "SUCCESS") for i in range(1, 6)]
    return _file(day, *rows, rows[0], extra=b"not,a,row\n" + f"{day},R-9,REPAYMENT,LN-X,1.5,SUCCESS\n".encode())


def _without_reconciling(monkeypatch, key: str, data: bytes) -> None:
    """Upload a partner's file without the S3 event's reconciliation (a file that has just come in)."""
    with monkeypatch.context() as patched:
        patched.setattr(reconciling, "on_upload", lambda event: [])
        reports.put(key, data)


@pytest.fixture
def reconciled(aws, monkeypatch) -> dict:
    """Reports of two partners and several days, in each state; the P_DEMO day of a real loan."""
    loan_id = disbursed()
    loan = loans.get(loan_id)
    paid = {"partner_repayment_no": "R-REC-1", "amount": "500.00", "paid_at": datetime.now(timezone.utc).isoformat()}
    loan_servicing.repay(config_repository.partner("P_DEMO"), loan_id, paid)
    rows = [
        Row("DISBURSEMENT", loan.partner_application_no, loan_id, int(loan.amount * 100), "SUCCESS"),  # matches
        Row("REPAYMENT", "R-REC-1", loan_id, 50001, "SUCCESS"),  # one fen more than the bank took
        Row("REPAYMENT", "R-NOT-AT-THE-BANK", loan_id, 10000, "SUCCESS"),
    ]
    reports.put(reports.inbound_key("P_DEMO", DAY), _file(DAY, *rows))  # BREAKS (the S3 event reconciles it)
    reports.put(reports.inbound_key("P_DEMO", DAY - timedelta(days=1)), _file(DAY - timedelta(days=1)))  # BALANCED: nothing either side
    reports.put(reports.inbound_key("P_DEMO", DAY - timedelta(days=2)), b"not,our,layout\n1,2,3\n")  # INVALID_FILE
    _without_reconciling(monkeypatch, reports.inbound_key("P_DEMO", DAY - timedelta(days=3)), _file(DAY - timedelta(days=3)))  # AWAITING_FILE
    reports.put(reports.inbound_key("P_QIANHAI", DAY - timedelta(days=1)), _breaks_only(DAY - timedelta(days=1)))  # BREAKS, 8
    # A report stored before reports had summaries: read from the report's own head.
    old = DAY - timedelta(days=10)
    reports.put(reports.report_key("P_XINGYUN", old), render_report(reconcile([], []), "P_XINGYUN", old))
    return {"loan": loan}


def test_the_reconciliation_list_has_each_partner_s_days_with_status_and_totals(client, reconciled):
    status, body = get(client, "/backoffice/reconciliation")
    assert status == 200 and body["next_cursor"] is None
    listed = [(i["partner_id"], i["business_date"], i["status"]) for i in body["items"]]
    assert listed == [
        ("P_DEMO", "2026-11-20", "AWAITING_FILE"),
        ("P_DEMO", "2026-11-21", "INVALID_FILE"),
        ("P_DEMO", "2026-11-22", "BALANCED"),
        ("P_DEMO", "2026-11-23", "BREAKS"),
        ("P_QIANHAI", "2026-11-22", "BREAKS"),
        ("P_XINGYUN", "2026-11-13", "BALANCED"),
    ]
    items = {(i["partner_id"], i["business_date"]): i for i in body["items"]}
    loan_amount = reconciled["loan"].amount
    assert items[("P_DEMO", "2026-11-23")] == {
        "partner_id": "P_DEMO", "business_date": "2026-11-23", "status": "BREAKS",
        "bank_total": f"{loan_amount + Decimal('500.00'):.2f}", "partner_total": f"{loan_amount + Decimal('600.01'):.2f}", "breaks": 2,
    }
    assert items[("P_DEMO", "2026-11-22")] == {
        "partner_id": "P_DEMO", "business_date": "2026-11-22", "status": "BALANCED", "bank_total": "0.00", "partner_total": "0.00", "breaks": 0,
    }
    invalid = items[("P_DEMO", "2026-11-21")]
    assert invalid["bank_total"] is None and invalid["breaks"] is None and "first line" in invalid["reason"]
    assert items[("P_DEMO", "2026-11-20")]["bank_total"] is None
    assert items[("P_QIANHAI", "2026-11-22")]["breaks"] == 8 and items[("P_QIANHAI", "2026-11-22")]["bank_total"] == "0.00"

    # every page of two, in the same order, each item once
    pages = walk(client, "/backoffice/reconciliation", limit=2)
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [i for p in pages for i in p] == body["items"]

    # filters
    status, only = get(client, "/backoffice/reconciliation", partner_id="P_QIANHAI")
    assert [(i["partner_id"], i["business_date"]) for i in only["items"]] == [("P_QIANHAI", "2026-11-22")]
    status, window = get(client, "/backoffice/reconciliation", **{"from": "2026-11-21", "to": "2026-11-22"})
    assert [(i["partner_id"], i["business_date"]) for i in window["items"]] == [
        ("P_DEMO", "2026-11-21"), ("P_DEMO", "2026-11-22"), ("P_QIANHAI", "2026-11-22"),
    ]
    pages = walk(client, "/backoffice/reconciliation", limit=1, partner_id="P_DEMO", **{"from": "2026-11-21"})
    assert [i["business_date"] for p in pages for i in p] == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert get(client, "/backoffice/reconciliation", partner_id="P_NOBODY")[1] == {"items": [], "next_cursor": None}


def test_reconciliation_is_for_platform_operators_and_auditors(client, reconciled):
    status, body = get(client, "/backoffice/reconciliation", operator="auditor")
    assert status == 200 and len(body["items"]) == 6
    assert get(client, "/backoffice/reconciliation/P_DEMO/2026-11-23", operator="auditor")[0] == 200
    for operator in BRANCH_STAFF:
        status, body = get(client, "/backoffice/reconciliation", operator=operator)
        assert (status, body["code"]) == (403, "FORBIDDEN"), operator
        status, body = get(client, "/backoffice/reconciliation/P_DEMO/2026-11-23", operator=operator)
        assert (status, body["code"]) == (403, "FORBIDDEN"), operator
    response = client.http.get("/backoffice/reconciliation", headers={"authorization": "Bearer local-nobody"})
    assert response.status_code == 401


def test_bad_reconciliation_parameters_are_400_with_their_names(client, reconciled):
    status, body = get(client, "/backoffice/reconciliation", partner_id="p-demo", limit="101", cursor="!!", color="red", **{"from": "2026-13-01"})
    assert (status, body["code"]) == (400, "INVALID_INPUT")
    assert fields(body) == {"partner_id", "limit", "cursor", "color", "from"}
    status, body = get(client, "/backoffice/reconciliation", **{"from": "2026-11-23", "to": "2026-11-22"})
    assert (status, fields(body)) == (400, {"to"})
    _, first = get(client, "/backoffice/warnings", limit=1, day="2026-11-22")  # another list's cursor
    status, body = get(client, "/backoffice/reconciliation", cursor=first["next_cursor"] or "eyJsaXN0Ijoid2FybmluZ3MiLCJhdCI6e319")
    assert (status, fields(body)) == (400, {"cursor"})
    status, body = get(client, "/backoffice/reconciliation/P_QIANHAI/2026-11-22", kind="MATCHED")
    assert (status, fields(body)) == (400, {"kind"}) and "counted, not listed" in body["details"][0]["message"]
    status, body = get(client, "/backoffice/reconciliation/P_QIANHAI/2026-11-22", kind="NOPE", limit="x")
    assert (status, fields(body)) == (400, {"kind", "limit"})


def test_a_report_has_both_sides_totals_its_counts_and_its_breaks_a_page_at_a_time(client, reconciled):
    path = "/backoffice/reconciliation/P_QIANHAI/2026-11-22"
    status, whole = get(client, path, limit=100)
    assert status == 200 and whole["next_cursor"] is None
    assert (whole["status"], whole["breaks"], whole["partner_rows"], whole["invalid_rows"], whole["bank_rows"]) == ("BREAKS", 8, 6, 2, 0)
    assert whole["partner_total"] == "16.00" and whole["bank_total"] == "0.00"  # 1+2+3+4+5 and the duplicate 1 yuan
    assert whole["totals"]["partner"][-1] == {"txn_type": "ALL", "status": "ALL", "count": 6, "amount": "16.00"}
    assert whole["totals"]["bank"][3] == {"txn_type": "REPAYMENT", "status": "SUCCESS", "count": 0, "amount": "0.00"}
    assert whole["counts"] == {"MATCHED": 0, "INVALID_ROW": 2, "MISSING_AT_BANK": 5, "MISSING_AT_PARTNER": 0,
                               "AMOUNT_MISMATCH": 0, "STATUS_MISMATCH": 0, "DUPLICATE": 1}
    kinds = [i["kind"] for i in whole["items"]]
    assert kinds == ["INVALID_ROW"] * 2 + ["MISSING_AT_BANK"] * 5 + ["DUPLICATE"]
    invalid, missing = whole["items"][0], whole["items"][2]
    assert invalid["line"] == 8 and invalid["partner"] is None and invalid["txn_ref"] is None and invalid["fields"] == ["line"]
    assert missing == {"kind": "MISSING_AT_BANK", "side": "PARTNER", "txn_type": "REPAYMENT", "txn_ref": "R-1", "line": 2, "fields": [],
                       "partner": {"loan_id": "LN-X", "amount": "1.00", "status": "SUCCESS"}, "bank": None,
                       "detail": "in the partner's file, not in the bank's ledger"}

    pages = walk(client, path, limit=3)
    assert [len(p) for p in pages] == [3, 3, 2] and [i for p in pages for i in p] == whole["items"]
    pages = walk(client, path, limit=2, kind="MISSING_AT_BANK")
    assert [len(p) for p in pages] == [2, 2, 1] and [i["txn_ref"] for p in pages for i in p] == ["R-1", "R-2", "R-3", "R-4", "R-5"]
    assert get(client, path, kind="AMOUNT_MISMATCH")[1]["items"] == []
    status, first = get(client, path, limit=2, kind="MISSING_AT_BANK")
    status, body = get(client, path, kind="DUPLICATE", cursor=first["next_cursor"])  # a cursor of another kind
    assert (status, fields(body)) == (400, {"cursor"})
    for position in ({"version_id": "no-such-version", "offset": 900, "kind": None}, {"version_id": None, "offset": 7, "kind": None}, {"offset": -1}):
        status, body = get(client, path, cursor=encode_cursor("reconciliation-report", position))
        assert (status, fields(body)) == (400, {"cursor"}), position

    # The real loan's day: matched, an amount mismatch, one missing at the bank.
    status, real = get(client, "/backoffice/reconciliation/P_DEMO/2026-11-23")
    assert status == 200 and real["counts"]["MATCHED"] == 1
    mismatch = next(i for i in real["items"] if i["kind"] == "AMOUNT_MISMATCH")
    assert mismatch["partner"]["amount"] == "500.01" and mismatch["bank"]["amount"] == "500.00" and mismatch["fields"] == ["amount"]


def test_the_pages_of_a_report_stay_those_of_one_version_when_it_is_reconciled_again(client, reconciled):
    path = "/backoffice/reconciliation/P_QIANHAI/2026-11-22"
    status, first = get(client, path, limit=3)
    reports.put(reports.inbound_key("P_QIANHAI", DAY - timedelta(days=1)), _file(DAY - timedelta(days=1)))  # corrected: balanced now
    status, rest = get(client, path, limit=10, cursor=first["next_cursor"])
    assert status == 200 and [i["kind"] for i in rest["items"]] == ["MISSING_AT_BANK"] * 4 + ["DUPLICATE"]
    assert (rest["status"], rest["breaks"], rest["counts"]["MISSING_AT_BANK"]) == ("BREAKS", 8, 5)  # all of the version begun
    status, now = get(client, path)
    assert (now["status"], now["breaks"], now["items"]) == ("BALANCED", 0, [])
    assert [i["status"] for i in get(client, "/backoffice/reconciliation", partner_id="P_QIANHAI")[1]["items"]] == ["BALANCED"]


def test_a_day_without_a_report_says_why(client, reconciled):
    status, invalid = get(client, "/backoffice/reconciliation/P_DEMO/2026-11-21")
    assert (status, invalid["status"], invalid["items"], invalid["totals"], invalid["next_cursor"]) == (200, "INVALID_FILE", [], None, None)
    assert "first line" in invalid["reason"]
    status, awaiting = get(client, "/backoffice/reconciliation/P_DEMO/2026-11-20")
    assert (status, awaiting["status"], awaiting["items"]) == (200, "AWAITING_FILE", [])
    status, old = get(client, "/backoffice/reconciliation/P_XINGYUN/2026-11-13")
    assert (status, old["status"], old["counts"]["MATCHED"], old["items"]) == (200, "BALANCED", 0, [])
    for path in ("P_DEMO/2026-11-01", "P_NOBODY/2026-11-23", "P_DEMO/2026-13-45", "p-demo/2026-11-23", "P_DEMO/yesterday"):
        status, body = get(client, f"/backoffice/reconciliation/{path}")
        assert (status, body["code"]) == (404, "RECONCILIATION_NOT_FOUND"), path


def test_the_day_end_writes_a_summary_next_to_each_report(reconciled):
    summary = reconciliation_reports.summary("P_DEMO", DAY)
    assert summary["status"] == "BREAKS" and summary["counts"]["AMOUNT_MISMATCH"] == 1
    s3 = boto3.client("s3")
    stored = s3.head_object(Bucket=reports.bucket_name(), Key=reports.report_key("P_DEMO", DAY))
    assert summary["report_version_id"] == stored["VersionId"]
    assert reconciling.reconcile_partner("P_DEMO", DAY)["status"] == "BREAKS"  # again: a new version, and its summary
    again = reconciliation_reports.summary("P_DEMO", DAY)
    assert again["report_version_id"] != summary["report_version_id"]
    assert again["report_version_id"] == s3.head_object(Bucket=reports.bucket_name(), Key=reports.report_key("P_DEMO", DAY))["VersionId"]
    assert reconciliation_reports.summary("P_DEMO", DAY - timedelta(days=2))["status"] == "INVALID_FILE"
    assert reconciliation_reports.summary("P_DEMO", DAY - timedelta(days=3)) is None  # not reconciled yet
    assert reconciling.reconcile_partner("P_XINGYUN", DAY)["status"] == "AWAITING_FILE"  # no file: nothing written
    assert reconciliation_reports.summary("P_XINGYUN", DAY) is None


# -- the collections queue ----------------------------------------------------------------------


def _case(loan_id: str, branch: str, stage: str, opened: date, closed: bool = False) -> CollectionCase:
    history = (StageChange(opened, CaseEvent.OPENED, None, stage, 1),)
    case = CollectionCase(case_id_for(loan_id, opened), loan_id, "CU-" + loan_id, branch, stage, opened, history=history)
    if closed:
        change = StageChange(opened + timedelta(days=3), CaseEvent.CLOSED, stage, None, 0)
        case = CollectionCase(case.case_id, loan_id, case.customer_id, branch, stage, opened, opened + timedelta(days=3), CloseReason.CURED, history + (change,))
    return case


@pytest.fixture
def cases(aws) -> dict:
    """Open cases at two branches (one closed besides), and one of a real loan gone overdue."""
    loan_id = disbursed()
    loan = loans.get(loan_id)
    due = loan.installments[0].due_date
    stages = ["M1", "M2", "M1", "M3", "M1"]
    dongcheng = [_case(f"LN-D{i}", "BR_DONGCHENG", stage, DAY - timedelta(days=40 - i)) for i, stage in enumerate(stages)]
    xicheng = [_case(f"LN-X{i}", "BR_XICHENG", "M1", DAY - timedelta(days=5 - i)) for i in range(2)]
    for case in dongcheng + xicheng:
        risk.put_case(case)
    risk.put_case(_case("LN-D9", "BR_DONGCHENG", "M1", DAY - timedelta(days=50), closed=True))
    real = _case(loan_id, loan.branch_code, "M1", due + timedelta(days=1))
    risk.put_case(real)
    config_repository.set_business_date(due + timedelta(days=3))  # the day end of due + 2 is the last closed
    config_repository.clear_cache()
    return {"loan": loan, "due": due, "real": real, "dongcheng": dongcheng, "xicheng": xicheng}


def test_the_collections_queue_of_a_branch_oldest_first_with_each_loan_s_arrears(client, cases):
    loan = cases["loan"]
    assert loan.branch_code == "BR_DONGCHENG"  # the real loan's case sits in the same queue, opened last
    status, body = get(client, "/backoffice/collections", branch_code="BR_DONGCHENG")
    assert status == 200 and body["next_cursor"] is None
    assert [i["case_id"] for i in body["items"]] == [c.case_id for c in cases["dongcheng"]] + [cases["real"].case_id]
    first = body["items"][0]
    assert first == {
        "case_id": cases["dongcheng"][0].case_id, "loan_id": "LN-D0", "customer_id": "CU-LN-D0", "branch_code": "BR_DONGCHENG",
        "queue": "BR_DONGCHENG", "stage": "M1", "opened_on": "2026-10-14", "last_changed": "2026-10-14",
        "as_of": (cases["due"] + timedelta(days=2)).isoformat(), "days_past_due": None, "overdue_amount": None,
        "overdue_principal": None, "outstanding_principal": None, "loan_class": None, "partner_id": None, "product_code": None,
    }
    real = body["items"][-1]
    installment = loan.installments[0]
    assert real["days_past_due"] == 2 and real["overdue_principal"] == f"{installment.principal:.2f}"
    assert real["overdue_amount"] == f"{installment.principal + installment.interest:.2f}"
    assert real["outstanding_principal"] == f"{loan.amount:.2f}" and real["partner_id"] == "P_DEMO" and real["product_code"] == loan.product_code

    pages = walk(client, "/backoffice/collections", branch_code="BR_DONGCHENG", limit=2)
    assert [len(p) for p in pages] == [2, 2, 2] and [i for p in pages for i in p] == body["items"]
    status, m1 = get(client, "/backoffice/collections", branch_code="BR_DONGCHENG", stage="M1")
    assert [i["loan_id"] for i in m1["items"]] == ["LN-D0", "LN-D2", "LN-D4", loan.loan_id]
    pages = walk(client, "/backoffice/collections", branch_code="BR_DONGCHENG", stage="M1", limit=3)
    assert [[i["loan_id"] for i in p] for p in pages] == [["LN-D0", "LN-D2", "LN-D4"], [loan.loan_id]]
    assert len(get(client, "/backoffice/collections", branch_code="BR_DONGCHENG", queue="BR_DONGCHENG")[1]["items"]) == 6
    assert get(client, "/backoffice/collections", branch_code="BR_DONGCHENG", queue="LEGAL")[1]["items"] == []

    # A platform operator without a branch: every branch in turn (by branch code), each oldest first.
    pages = walk(client, "/backoffice/collections", limit=4)
    assert [i["loan_id"] for p in pages for i in p] == [i["loan_id"] for i in body["items"]] + ["LN-X0", "LN-X1"]


def test_branch_staff_see_only_their_own_branch_s_queue(client, cases):
    status, own = get(client, "/backoffice/collections", operator="operator.dongcheng")
    assert status == 200 and {i["branch_code"] for i in own["items"]} == {"BR_DONGCHENG"} and len(own["items"]) == 6
    assert get(client, "/backoffice/collections", operator="auditor", branch_code="BR_DONGCHENG")[1] == own
    status, xicheng = get(client, "/backoffice/collections", operator="reviewer.xicheng")
    assert [i["loan_id"] for i in xicheng["items"]] == ["LN-X0", "LN-X1"]
    for operator, other in (("operator.dongcheng", "BR_XICHENG"), ("reviewer.xicheng", "BR_DONGCHENG"), ("auditor", "BR_CHAOYANG")):
        status, body = get(client, "/backoffice/collections", operator=operator, branch_code=other)
        assert (status, body["code"]) == (403, "BRANCH_FORBIDDEN"), operator
    # a platform operator's cursor into another branch's queue opens nothing for branch staff
    _, admin_page = get(client, "/backoffice/collections", branch_code="BR_XICHENG", limit=1)
    status, body = get(client, "/backoffice/collections", operator="operator.dongcheng", cursor=admin_page["next_cursor"])
    assert (status, fields(body)) == (400, {"cursor"})


def test_bad_collections_parameters_are_400_with_their_names(client, cases):
    status, body = get(client, "/backoffice/collections", branch_code="br-x", stage="M9", limit="0", cursor="abc", branch="BR_XICHENG")
    assert (status, body["code"]) == (400, "INVALID_INPUT") and fields(body) == {"branch_code", "limit", "cursor", "branch"}
    status, body = get(client, "/backoffice/collections", stage="M9")
    assert (status, fields(body)) == (400, {"stage"}) and "M1, M2, M3, M3+" in body["details"][0]["message"]


# -- warnings -----------------------------------------------------------------------------------


def _warning(kind: WarningKind, branch: str | None, subject: str, **extra) -> RiskWarning:
    loan = subject if kind in (WarningKind.FIRST_OVERDUE, WarningKind.DPD_THRESHOLD, WarningKind.CLASS_DOWNGRADE) else None
    return RiskWarning(kind, Severity.MEDIUM, branch, loan, extra.pop("customer_id", None), DAY, f"about {subject}", **extra)


@pytest.fixture
def warned(aws) -> None:
    for i in range(3):
        risk.put_warning(_warning(WarningKind.FIRST_OVERDUE, "BR_DONGCHENG", f"LN-D{i}"))
    risk.put_warning(_warning(WarningKind.DPD_THRESHOLD, "BR_DONGCHENG", "LN-D0", threshold=30))
    risk.put_warning(_warning(WarningKind.CLASS_DOWNGRADE, "BR_DONGCHENG", "LN-D1"))
    risk.put_warning(_warning(WarningKind.FIRST_OVERDUE, "BR_XICHENG", "LN-X0"))
    risk.put_warning(_warning(WarningKind.MULTIPLE_OVERDUE_LOANS, None, "CU-1", customer_id="CU-1"))
    risk.put_warning(_warning(WarningKind.RECONCILIATION_BREAK, None, "P_DEMO", partner_id="P_DEMO"))
    risk.put_warning(RiskWarning(WarningKind.FIRST_OVERDUE, Severity.LOW, "BR_DONGCHENG", "LN-NEXT-DAY", None, DAY + timedelta(days=1), "the day after"))


def test_a_day_s_warnings_of_a_branch_by_kind_a_page_at_a_time(client, warned):
    status, body = get(client, "/backoffice/warnings", day="2026-11-23", branch_code="BR_DONGCHENG")
    assert status == 200 and body["next_cursor"] is None
    ids = [w["warning_id"] for w in body["items"]]
    assert ids == sorted(ids) and len(ids) == 5
    first = body["items"][0]
    assert first == {
        "kind": "CLASS_DOWNGRADE", "severity": "MEDIUM", "branch_code": "BR_DONGCHENG", "loan_id": "LN-D1", "customer_id": None,
        "day": "2026-11-23", "detail": "about LN-D1", "partner_id": None, "threshold": None, "warning_id": "CLASS_DOWNGRADE:2026-11-23:LN-D1",
    }
    status, overdue = get(client, "/backoffice/warnings", day="2026-11-23", branch_code="BR_DONGCHENG", kind="FIRST_OVERDUE")
    assert [w["loan_id"] for w in overdue["items"]] == ["LN-D0", "LN-D1", "LN-D2"]
    pages = walk(client, "/backoffice/warnings", day="2026-11-23", branch_code="BR_DONGCHENG", kind="FIRST_OVERDUE", limit=2)
    assert [len(p) for p in pages] == [2, 1] and [w for p in pages for w in p] == overdue["items"]

    # A platform operator without a branch: every branch in turn, then the platform's own.
    pages = walk(client, "/backoffice/warnings", day="2026-11-23", limit=3)
    listed = [(w["branch_code"], w["kind"]) for p in pages for w in p]
    assert [len(p) for p in pages] == [3, 3, 2]
    assert listed[:5] == [("BR_DONGCHENG", w["kind"]) for w in body["items"]]
    assert listed[5:] == [("BR_XICHENG", "FIRST_OVERDUE"), (None, "MULTIPLE_OVERDUE_LOANS"), (None, "RECONCILIATION_BREAK")]
    status, platform = get(client, "/backoffice/warnings", day="2026-11-23", branch_code="PLATFORM")
    assert [w["kind"] for w in platform["items"]] == ["MULTIPLE_OVERDUE_LOANS", "RECONCILIATION_BREAK"]

    # Without a day: the last day closed (the eve of the business date).
    config_repository.set_business_date(DAY + timedelta(days=1))
    config_repository.clear_cache()
    assert get(client, "/backoffice/warnings", branch_code="BR_DONGCHENG")[1] == body
    assert [w["loan_id"] for w in get(client, "/backoffice/warnings", day="2026-11-24")[1]["items"]] == ["LN-NEXT-DAY"]


def test_branch_staff_see_their_branch_s_warnings_and_auditors_the_platform_s_reconciliation_breaks(client, warned):
    status, own = get(client, "/backoffice/warnings", operator="operator.dongcheng", day="2026-11-23")
    assert status == 200 and len(own["items"]) == 5 and {w["branch_code"] for w in own["items"]} == {"BR_DONGCHENG"}
    status, body = get(client, "/backoffice/warnings", operator="operator.dongcheng", day="2026-11-23", branch_code="BR_XICHENG")
    assert (status, body["code"]) == (403, "BRANCH_FORBIDDEN")
    for operator in BRANCH_STAFF:
        status, body = get(client, "/backoffice/warnings", operator=operator, day="2026-11-23", branch_code="PLATFORM")
        assert (status, body["code"]) == (403, "BRANCH_FORBIDDEN"), operator
    status, breaks = get(client, "/backoffice/warnings", operator="auditor", day="2026-11-23", branch_code="PLATFORM")
    assert status == 200 and [w["kind"] for w in breaks["items"]] == ["RECONCILIATION_BREAK"]
    status, body = get(client, "/backoffice/warnings", operator="auditor", day="2026-11-23", branch_code="PLATFORM", kind="MULTIPLE_OVERDUE_LOANS")
    assert (status, body["code"]) == (403, "FORBIDDEN")
    assert len(get(client, "/backoffice/warnings", operator="auditor", day="2026-11-23")[1]["items"]) == 5  # the auditor's own branch


def test_bad_warning_parameters_are_400_with_their_names(client, warned):
    status, body = get(client, "/backoffice/warnings", day="23/11/2026", kind="LATE", branch_code="x", limit="1000", sort="asc")
    assert (status, body["code"]) == (400, "INVALID_INPUT") and fields(body) == {"day", "branch_code", "limit", "sort"}
    status, body = get(client, "/backoffice/warnings", day="2026-11-23", kind="LATE")
    assert (status, fields(body)) == (400, {"kind"})
    _, page = get(client, "/backoffice/warnings", day="2026-11-23", branch_code="BR_DONGCHENG", limit=1)
    status, body = get(client, "/backoffice/warnings", day="2026-11-24", branch_code="BR_DONGCHENG", cursor=page["next_cursor"])
    assert (status, fields(body)) == (400, {"cursor"})  # a cursor of another day
    status, body = get(client, "/backoffice/warnings", day="2026-11-23", branch_code="BR_DONGCHENG", kind="DPD_THRESHOLD", cursor=page["next_cursor"])
    assert (status, fields(body)) == (400, {"cursor"})  # ... or of another kind
