"""Closing the loans of one segment for business day T: accrual, days past due, class, warnings, cases.

See ``usecases/day_end.py`` for where this runs. For each loan of the segment
(a DynamoDB parallel-scan segment of the loans table: the ACTIVE loans, and
the loans settled on T):

1. its state before T's close: the days past due and class the last day end
   left; after: days past due at T, ``reclassify`` (never better while
   overdue);
2. warnings (``domain/risk_warnings.py``): put once per id; an overdue loan
   also marks its customer's overdue loans of T and, counted with the marks of
   other segments, may raise the customer's warning;
3. its collection case (``domain/collection_cases.py``): opened, escalated,
   or closed when current again or settled; written by its id;
4. last, ONE transaction: the accrual of T with its posting, the class (a
   change kept in the loan's class history), and ``accrued_through`` = T
   (the loan's version guards it). A loan already accrued through T is
   skipped: steps 2 and 3 were done before it (and are idempotent), so a
   re-run after a crash anywhere does nothing twice;
5. its credit-bureau record of T (``domain/credit_report.py``) from the loan
   as closed (a skipped loan's too: it is as the earlier run left it), kept
   for the segment's part files.

**Chunks.** A segment is closed in chunks: one call works until its time
budget (the Lambda's remaining time less ``SAFETY_SECONDS``) or
``DAY_END_LOANS_PER_CALL`` loans, then answers ``more`` with the scan's
cursor, and the state machine calls again from there. So no call nears the
Lambda's 15 minutes however large a segment grows. Each call writes, per
branch, one part of that branch's credit-bureau file
(``credit-reports/parts/<T>/<run>/<branch>/<segment>-<chunk>``, sealed: it
holds names and ID numbers); ``usecases/credit_reporting.py`` assembles a
branch's parts of the run into its file. A chunk called again (a retry)
writes the same part again; a new run of the day end writes under its own
run id, so parts of a run that failed are never mixed in.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.domain import accounting, cursors
from chalicelib.domain.classification import reclassify
from chalicelib.domain.collection_cases import LoanSnapshot, step
from chalicelib.domain.credit_report import CreditRecord, Personal, reportable
from chalicelib.domain.loan import Loan, LoanStatus
from chalicelib.domain.risk_warnings import LoanRiskChange, loan_warnings, multiple_overdue_loans
from chalicelib.observability import logger, metrics
from chalicelib import settings
from chalicelib.persistence import config_repository, loans, pii_vault, reports, risk
from chalicelib.persistence.loans import LoanItem

MAX_ATTEMPTS = 3  # a loan changed by a repayment meanwhile is read again and closed again
SAFETY_SECONDS = 60  # a call stops taking loans when less than this is left of its Lambda's time
LOANS_PER_CALL = "DAY_END_LOANS_PER_CALL"  # optional cap on the loans of one call (the local stack's is small)
MAX_CURSOR = 4096  # a loans-table key, encoded
COUNTS = ("loans", "accrued", "warnings", "cases", "skipped", "reported")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _segment(day: date, segment: int, total: int, cursor: str | None):  # noqa: ANN202 - a pynamodb ResultIterator of LoanItem
    condition = (LoanItem.sk == "LOAN") & (
        (LoanItem.status == LoanStatus.ACTIVE.value) | ((LoanItem.status == LoanStatus.SETTLED.value) & (LoanItem.settled_on == day.isoformat()))
    )
    return LoanItem.scan(condition, segment=segment, total_segments=total, consistent_read=True, last_evaluated_key=cursors.decode(cursor, MAX_CURSOR) if cursor else None)


def _close_one(loan: Loan, day: date, policies: tuple[Any, Any]) -> tuple[dict[str, int], Loan]:
    """What was done, and the loan as closed."""
    warning_policy, collection_policy = policies
    counts = {"accrued": 0, "warnings": 0, "cases": 0, "skipped": 0}
    if loan.accrued_through is not None and loan.accrued_through >= day:
        counts["skipped"] = 1
        return counts, loan
    # before: as the last day end left it (not recomputed: a repayment of today must not make a
    # loan that was overdue look as if it had just fallen overdue)
    dpd_before, dpd_after = loan.dpd_at_close, loan.days_past_due(day)
    new_class = reclassify(loan.loan_class, dpd_after)
    change = LoanRiskChange(loan.loan_id, loan.branch_code, loan.customer_id, day, dpd_before, dpd_after, loan.loan_class, new_class)
    found = list(loan_warnings(change, warning_policy))
    if dpd_after >= 1:
        marked = risk.mark_overdue(day, loan.customer_id, loan.loan_id, loan.branch_code)
        customer = multiple_overdue_loans(loan.customer_id, day, marked, warning_policy)
        if customer is not None:
            found.append(customer)
    counts["warnings"] = sum(risk.put_warning(w) for w in found)
    # a case is open only while a loan is overdue: a loan current at the last close and now has none to read
    if dpd_before or dpd_after or loan.status is LoanStatus.SETTLED:
        case, action = step(risk.open_case_of(loan.loan_id), LoanSnapshot.of(loan, day), day, collection_policy)
        if action is not None and case is not None:
            risk.put_case(case)
            counts["cases"] = 1
    if loan.status is not LoanStatus.ACTIVE:
        return counts, loan
    accrual = loan.accrual(day)
    after = loan.accrued(accrual).classified(day, new_class, dpd_after)
    if new_class is not loan.loan_class:
        logger.info("loan reclassified", extra={"loan_id": loan.loan_id, "from": loan.loan_class.value, "to": new_class.value, "days_past_due": dpd_after})
    loans.save(loan, after, _now(), posting=accounting.accrual(loan, accrual))
    counts["accrued"] = 1
    return counts, after


def _borrower(item: LoanItem) -> Personal:
    """The borrower's name and ID number, unsealed for the credit-bureau record only."""
    if item.borrower:
        data = pii_vault.unseal(item.borrower, {"loan_id": item.loan_id})
    else:  # a loan booked before the loan kept its borrower: the application's sealed data
        from chalicelib.persistence import applications
        from chalicelib.usecases.contracting import personal_data

        application = applications.get(item.application_id)
        if application is None:
            raise LookupError(f"application {item.application_id} is not stored")
        data = personal_data(application)
    return Personal(name=data["name"], id_number=data["id_number"])


def part_key(day: date, run: str, branch_code: str, segment: int, chunk: int) -> str:
    return f"{part_prefix(day, run, branch_code)}{segment:04d}-{chunk:05d}.sealed.json"


def part_prefix(day: date, run: str, branch_code: str) -> str:
    return f"credit-reports/parts/{day.isoformat()}/{run}/{branch_code}/"


def write_parts(day: date, run: str, segment: int, chunk: int, lines: dict[str, list[str]]) -> None:
    """Each branch's credit-bureau lines of this chunk, sorted by account, sealed, in S3."""
    for branch_code, branch_lines in lines.items():
        key = part_key(day, run, branch_code, segment, chunk)
        sealed = pii_vault.seal({"lines": "".join(line + "\n" for line in sorted(branch_lines))}, {"report": key})
        reports.put(key, json.dumps(sealed).encode("utf-8"), "application/json")


def close_segment(
    day: date,
    segment: int,
    total: int,
    run: str = "direct",
    cursor: str | None = None,
    chunk: int = 0,
    so_far: dict[str, int] | None = None,
    seconds_left: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """One chunk of the segment closed for ``day``, from ``cursor``: counts so far, and ``more``
    with the cursor to go on from (see the module's docstring)."""
    if not 0 <= segment < total:
        raise ValueError("segment must be 0 to total - 1")
    cap = int(settings.env(LOANS_PER_CALL, "0") or 0) or None
    policies = (config_repository.warning_policy(), config_repository.collection_policy())
    totals = {key: int((so_far or {}).get(key, 0)) for key in COUNTS}
    lines: dict[str, list[str]] = defaultdict(list)
    scan = _segment(day, segment, total, cursor)
    taken, more = 0, False
    for item in scan:
        totals["loans"] += 1
        taken += 1
        loan = loans.from_document(item.document)
        for attempt in range(MAX_ATTEMPTS):
            try:
                done, closed = _close_one(loan, day, policies)
                break
            except loans.VersionConflict:
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                loan = loans.get(loan.loan_id)  # a repayment won: close what it left
        for key, value in done.items():
            totals[key] += value
        if reportable(closed, day):
            record = CreditRecord.from_loan(closed, day, closed.repaid_on(day), closed.loan_class, _borrower(item))
            lines[closed.branch_code].append(record.line())
            totals["reported"] += 1
        if (cap is not None and taken >= cap) or (seconds_left is not None and seconds_left() < SAFETY_SECONDS):
            more = True
            break
    next_cursor = cursors.encode(scan.last_evaluated_key) if more and scan.last_evaluated_key else None
    write_parts(day, run, segment, chunk, lines)
    metrics.add_metric(name="LoansClosed", unit=MetricUnit.Count, value=taken)
    logger.info(
        "day-end chunk closed",
        extra={"business_date": day.isoformat(), "segment": segment, "total": total, "chunk": chunk, "more": next_cursor is not None, **totals},
    )
    return {
        "business_date": day.isoformat(), "run": run, "segment": segment, "total": total,
        "chunk": chunk + 1, "cursor": next_cursor, "more": next_cursor is not None, **totals,
    }
