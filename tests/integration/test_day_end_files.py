"""The day end's files on moto: each branch's sealed credit-bureau file; partners' reconciliation files and reports.

A partner's file is reconciled when it arrives (the bucket's S3 event invokes
``reconcile_partner_file`` in-process, as on AWS), or by the day end; a file
that comes after the day end (late) is reconciled on arrival, not lost.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from chalicelib.domain import credit_report
from chalicelib.domain.reconciliation import Row, render_partner_file
from chalicelib.persistence import config_repository, loans, reports, risk
from chalicelib.usecases import credit_reporting, loan_day_end, loan_servicing, reconciling
from tests.integration.test_loans_api import SEQUENCE, disbursed
from tests.support.applications import person
from tests.support.aws import BUSINESS_DATE
from tests.support.signing import signed_headers


def test_a_branch_s_credit_file_lists_its_loans_and_is_sealed_at_rest(aws):
    loan_id = disbursed()
    loan = loans.get(loan_id)
    closed = loan_day_end.close_segment(BUSINESS_DATE, 0, 1, "run-1")  # the day end's close writes the branch's part ...
    assert closed["reported"] == 1 and not closed["more"]
    [part] = reports.keys(loan_day_end.part_prefix(BUSINESS_DATE, "run-1", loan.branch_code))
    written = credit_reporting.write_branch_report(loan.branch_code, BUSINESS_DATE, "run-1")  # ... and the file is assembled
    assert (written["records"], written["parts"]) == (1, 1)
    raw = person(SEQUENCE)["applicant"]  # the person disbursed() lends to
    for key in (part, reports.credit_report_key(loan.branch_code, BUSINESS_DATE)):
        stored = reports.get(key)
        assert raw["id_number"].encode() not in stored and raw["name"].encode("utf-8") not in stored  # sealed at rest, parts too
    assert raw["id_number"].encode() not in json.dumps(loans.record(loan_id).borrower).encode()  # and the loan's copy
    unsealed = credit_reporting.read_branch_report(loan.branch_code, BUSINESS_DATE)
    assert raw["id_number"].encode() in unsealed  # ... and the bureau's upload job gets the borrower's number
    report = credit_report.parse(unsealed)
    [record] = report.records
    assert record.account_id == loan_id and record.event.value == "NEW" and record.outstanding_principal == loan.amount
    assert (record.borrower_name, record.id_number) == (raw["name"], raw["id_number"])
    assert credit_reporting.write_branch_report(loan.branch_code, BUSINESS_DATE, "run-1")["sha256"] == written["sha256"]  # again: the same file


def test_a_chunked_segment_reports_each_loan_once_and_a_new_run_only_its_own_parts(aws, monkeypatch):
    """Chunks of 2 loans: the cursor carries on where a chunk stopped; a re-run of the day (a new run
    name) skips what was closed yet reports every loan again, under its own parts only."""
    ids = [disbursed(sequence) for sequence in (452, 453, 454, 455, 456)]  # people the review approves
    branch = loans.get(ids[0]).branch_code
    monkeypatch.setenv("DAY_END_LOANS_PER_CALL", "2")
    state: dict = {}
    calls = 0
    while True:
        calls += 1
        state = loan_day_end.close_segment(BUSINESS_DATE, 0, 1, "run-1", cursor=state.get("cursor"), chunk=state.get("chunk", 0), so_far=state)
        if not state["more"]:
            break
    assert (calls, state["chunk"]) == (3, 3) and (state["loans"], state["accrued"], state["reported"]) == (5, 5, 5)
    written = credit_reporting.write_branch_report(branch, BUSINESS_DATE, "run-1")
    assert (written["records"], written["parts"]) == (5, 3)  # a part a chunk: 2 + 2 + 1 loans
    monkeypatch.setenv("DAY_END_LOANS_PER_CALL", "0")
    again = loan_day_end.close_segment(BUSINESS_DATE, 0, 1, "run-2")
    assert (again["loans"], again["skipped"], again["accrued"], again["reported"]) == (5, 5, 0, 5)
    rewritten = credit_reporting.write_branch_report(branch, BUSINESS_DATE, "run-2")
    assert (rewritten["records"], rewritten["parts"], rewritten["sha256"]) == (5, 1, written["sha256"])
    report = credit_report.parse(credit_reporting.read_branch_report(branch, BUSINESS_DATE))
    assert sorted(r.account_id for r in report.records) == sorted(ids)


def _file_with_breaks(loan_id: str, repaid_no: str, repaid: str) -> bytes:
    loan = loans.get(loan_id)
    rows = [
        Row("DISBURSEMENT", loan.partner_application_no, loan_id, int(loan.amount * 100), "SUCCESS"),  # matches
        Row("REPAYMENT", repaid_no, loan_id, int(float(repaid) * 100) + 1, "SUCCESS"),  # one fen more than the bank took
        Row("REPAYMENT", "R-NOT-AT-THE-BANK", loan_id, 10000, "SUCCESS"),  # the bank never had it
    ]
    return render_partner_file(rows, BUSINESS_DATE)


def test_a_late_partner_file_is_reconciled_on_arrival_and_its_breaks_warned(aws):
    loan_id = disbursed()
    paid = {"partner_repayment_no": "R-REC-1", "amount": "500.00", "paid_at": datetime.now(timezone.utc).isoformat()}
    loan_servicing.repay(config_repository.partner("P_DEMO"), loan_id, paid)
    assert reconciling.reconcile_partner("P_DEMO", BUSINESS_DATE)["status"] == "AWAITING_FILE"  # the day end: no file yet
    reports.put(reports.inbound_key("P_DEMO", BUSINESS_DATE), _file_with_breaks(loan_id, "R-REC-1", "500.00"))  # late: the S3 event
    assert "reconcile_partner_file" in [i.function for i in aws.runtime.invocations]
    report = reports.get(reports.report_key("P_DEMO", BUSINESS_DATE)).decode("utf-8")
    assert "AMOUNT_MISMATCH" in report and "MISSING_AT_BANK" in report and "R-NOT-AT-THE-BANK" in report
    warned = [w for w in risk.warnings(None, BUSINESS_DATE) if w["kind"] == "RECONCILIATION_BREAK"]
    assert len(warned) == 1 and warned[0]["partner_id"] == "P_DEMO"
    again = reconciling.reconcile_partner("P_DEMO", BUSINESS_DATE)  # the day end finds it too: the same result, one warning
    assert again["status"] == "BREAKS" and again["counts"]["MATCHED"] == 1
    assert len([w for w in risk.warnings(None, BUSINESS_DATE) if w["kind"] == "RECONCILIATION_BREAK"]) == 1


def test_a_file_of_another_layout_is_refused_and_warned_not_lost(aws):
    reports.put(reports.inbound_key("P_DEMO", BUSINESS_DATE), b"not,our,layout\n1,2,3\n")
    result = reconciling.reconcile_partner("P_DEMO", BUSINESS_DATE)
    assert result["status"] == "INVALID_FILE"
    assert [w["kind"] for w in risk.warnings(None, BUSINESS_DATE)] == ["RECONCILIATION_BREAK"]


def test_a_partner_gets_an_upload_link_for_a_closed_day_only(aws, client):
    def post(body: dict) -> tuple[int, dict]:
        raw = json.dumps(body).encode()
        response = client.http.post("/v1/reconciliation-files", headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "POST", "/v1/reconciliation-files", raw), body=raw)
        return response.status_code, json.loads(response.body)

    status, body = post({"business_date": BUSINESS_DATE.isoformat()})
    assert status == 200 and body["key"] == reports.inbound_key("P_DEMO", BUSINESS_DATE)
    assert body["upload"]["method"] == "PUT" and "Signature" in body["upload"]["url"] and body["upload"]["expires_in"] > 0
    status, body = post({"business_date": "2099-01-01"})
    assert (status, body["code"]) == (422, "DAY_NOT_CLOSED")
    status, body = post({"business_date": "23/11/2026"})
    assert status == 400 and body["details"][0]["field"] == "business_date"
