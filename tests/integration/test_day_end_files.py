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
from chalicelib.usecases import credit_reporting, loan_servicing, reconciling
from tests.integration.test_loans_api import SEQUENCE, disbursed
from tests.support.applications import person
from tests.support.aws import BUSINESS_DATE
from tests.support.signing import signed_headers


def test_a_branch_s_credit_file_lists_its_loans_and_is_sealed_at_rest(aws):
    loan_id = disbursed()
    loan = loans.get(loan_id)
    written = credit_reporting.write_branch_report(loan.branch_code, BUSINESS_DATE)
    assert written["records"] == 1
    stored = reports.get(reports.credit_report_key(loan.branch_code, BUSINESS_DATE))
    raw = person(SEQUENCE)["applicant"]  # the person disbursed() lends to
    assert raw["id_number"].encode() not in stored and raw["name"].encode("utf-8") not in stored  # sealed at rest
    unsealed = credit_reporting.read_branch_report(loan.branch_code, BUSINESS_DATE)
    assert raw["id_number"].encode() in unsealed  # ... and the bureau's upload job gets the borrower's number
    report = credit_report.parse(unsealed)
    [record] = report.records
    assert record.account_id == loan_id and record.event.value == "NEW" and record.outstanding_principal == loan.amount
    assert credit_reporting.write_branch_report(loan.branch_code, BUSINESS_DATE)["sha256"] == written["sha256"]  # again: the same file


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
