"""The daily credit-bureau file of a branch (征信报送): day T's account state of each of its loans.

A day-end step per branch, after the loans are closed: every loan that is
ACTIVE, or was settled on T (``domain/credit_report.reportable``), as a record
(``domain/credit_report.CreditRecord``: the day's event, balances, overdue
amounts by age, class, the borrower), with what was repaid on T from the
branch's postings of T. The file holds names and ID numbers, so it is sealed
(envelope-encrypted, bound to its key) before it is written to S3, and never
logged; the bureau upload job unseals it. Written again, the same day gives
the same file (a new S3 version).
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.domain.credit_report import CreditRecord, Personal, render, reportable
from chalicelib.domain.ledger import Account, Side
from chalicelib.domain.loan import LoanStatus
from chalicelib.domain.money import ZERO
from chalicelib.observability import logger, metrics
from chalicelib.persistence import applications, config_repository, ledger, loans, pii_vault, reports


def _repaid_on(branch_code: str, day: date) -> dict[str, Decimal]:
    repaid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for posting in ledger.postings_of_day(branch_code, day):
        if posting.kind == "REPAYMENT":
            repaid[posting.loan_id] += sum(
                (line.amount for line in posting.lines if line.account is Account.PARTNER_CLEARING and line.side is Side.DEBIT), ZERO
            )
    return repaid


def _personal(application_id: str) -> Personal:
    from chalicelib.usecases.contracting import personal_data

    item = applications.get(application_id)
    if item is None:
        raise LookupError(f"application {application_id} is not stored")
    data = personal_data(item)
    return Personal(name=data["name"], id_number=data["id_number"])


def write_branch_report(branch_code: str, day: date) -> dict[str, Any]:
    """Day-end step: the branch's file of ``day``, sealed, in S3; its key, record count and hash."""
    repaid = _repaid_on(branch_code, day)
    records = []
    for status in (LoanStatus.ACTIVE, LoanStatus.SETTLED):
        for loan_id in loans.of_branch(branch_code, status):
            loan = loans.get(loan_id)
            if loan is not None and reportable(loan, day):
                records.append(CreditRecord.from_loan(loan, day, repaid.get(loan_id, ZERO), loan.loan_class, _personal(loan.application_id)))
    branch = config_repository.branch(branch_code)
    body = render(branch_code, branch.bureau_code if branch else branch_code.replace("_", ""), day, records)
    key = reports.credit_report_key(branch_code, day)
    sealed = pii_vault.seal({"file": body.decode("utf-8")}, {"report": key})
    reports.put(key, json.dumps(sealed).encode("utf-8"), "application/json")
    sha256 = hashlib.sha256(body).hexdigest()
    metrics.add_metric(name="CreditReportRecords", unit=MetricUnit.Count, value=len(records))
    logger.info("credit report written", extra={"branch_code": branch_code, "business_date": day.isoformat(), "records": len(records), "sha256": sha256})
    return {"branch_code": branch_code, "business_date": day.isoformat(), "key": key, "records": len(records), "sha256": sha256}


def read_branch_report(branch_code: str, day: date) -> bytes | None:
    """The branch's file of ``day``, unsealed (for the bureau upload, and checks)."""
    key = reports.credit_report_key(branch_code, day)
    stored = reports.get(key)
    if stored is None:
        return None
    return pii_vault.unseal(json.loads(stored), {"report": key})["file"].encode("utf-8")
