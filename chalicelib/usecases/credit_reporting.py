"""The daily credit-bureau file of a branch (征信报送): day T's account state of each of its loans.

The day end's ``CloseLoans`` step makes the records: each chunk of each
segment writes, per branch, a part holding the records of its loans as
closed (``usecases/loan_day_end.py``), so the work grows with the loans
across many Lambdas. ``CreditReports`` then assembles a branch's parts of the
run into its file (``domain/credit_report.assemble``: merged in account
order, every line checked, the trailer's counts, totals and hash made): one
read per part, never a read per loan.

The file holds names and ID numbers, so parts and file are sealed
(envelope-encrypted, bound to their key) before they are written to S3, and
never logged; the bureau upload job unseals the file. Assembled again, the
same run gives the same file (a new S3 version).
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.domain.credit_report import assemble
from chalicelib.observability import logger, metrics
from chalicelib.persistence import config_repository, pii_vault, reports
from chalicelib.usecases.loan_day_end import part_prefix


def _part(key: str) -> str:
    stored = reports.get(key)
    if stored is None:
        raise LookupError(f"part {key} is listed but cannot be read")
    return pii_vault.unseal(json.loads(stored), {"report": key})["lines"]


def write_branch_report(branch_code: str, day: date, run: str) -> dict[str, Any]:
    """Day-end step: the branch's file of ``day`` from the parts of day-end run ``run``, sealed, in S3;
    its key, record count and hash."""
    keys = reports.keys(part_prefix(day, run, branch_code))
    branch = config_repository.branch(branch_code)
    body = assemble(branch_code, branch.bureau_code if branch else branch_code.replace("_", ""), day, (_part(k) for k in keys))
    records = int(body[: body.index(b"\n")].rsplit(b"|", 1)[1])
    key = reports.credit_report_key(branch_code, day)
    sealed = pii_vault.seal({"file": body.decode("utf-8")}, {"report": key})
    reports.put(key, json.dumps(sealed).encode("utf-8"), "application/json")
    sha256 = hashlib.sha256(body).hexdigest()
    metrics.add_metric(name="CreditReportRecords", unit=MetricUnit.Count, value=records)
    logger.info(
        "credit report written",
        extra={"branch_code": branch_code, "business_date": day.isoformat(), "run": run, "parts": len(keys), "records": records, "sha256": sha256},
    )
    return {"branch_code": branch_code, "business_date": day.isoformat(), "key": key, "parts": len(keys), "records": records, "sha256": sha256}


def read_branch_report(branch_code: str, day: date) -> bytes | None:
    """The branch's file of ``day``, unsealed (for the bureau upload, and checks)."""
    key = reports.credit_report_key(branch_code, day)
    stored = reports.get(key)
    if stored is None:
        return None
    return pii_vault.unseal(json.loads(stored), {"report": key})["file"].encode("utf-8")
