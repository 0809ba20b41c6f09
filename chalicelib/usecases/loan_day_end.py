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
4. last, ONE transaction: the accrual of T with its posting, the class, and
   ``accrued_through`` = T (the loan's version guards it). A loan already
   accrued through T is skipped: steps 2 and 3 were done before it (and are
   idempotent), so a re-run after a crash anywhere does nothing twice.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.domain import accounting
from chalicelib.domain.classification import reclassify
from chalicelib.domain.collection_cases import LoanSnapshot, step
from chalicelib.domain.loan import Loan, LoanStatus
from chalicelib.domain.risk_warnings import LoanRiskChange, loan_warnings, multiple_overdue_loans
from chalicelib.observability import logger, metrics
from chalicelib.persistence import config_repository, loans, risk
from chalicelib.persistence.loans import LoanItem

MAX_ATTEMPTS = 3  # a loan changed by a repayment meanwhile is read again and closed again


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _segment(day: date, segment: int, total: int):  # noqa: ANN202 - an iterator of LoanItem
    condition = (LoanItem.sk == "LOAN") & (
        (LoanItem.status == LoanStatus.ACTIVE.value) | ((LoanItem.status == LoanStatus.SETTLED.value) & (LoanItem.settled_on == day.isoformat()))
    )
    return LoanItem.scan(condition, segment=segment, total_segments=total, consistent_read=True)


def _close_one(loan: Loan, day: date, policies: tuple[Any, Any]) -> dict[str, int]:
    warning_policy, collection_policy = policies
    counts = {"accrued": 0, "warnings": 0, "cases": 0, "skipped": 0}
    if loan.accrued_through is not None and loan.accrued_through >= day:
        counts["skipped"] = 1
        return counts
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
    if loan.status is LoanStatus.ACTIVE:
        accrual = loan.accrual(day)
        after = replace(loan.accrued(accrual), loan_class=new_class, dpd_at_close=dpd_after)
        loans.save(loan, after, _now(), posting=accounting.accrual(loan, accrual))
        counts["accrued"] = 1
    return counts


def close_segment(day: date, segment: int, total: int) -> dict[str, Any]:
    """Every loan of the segment closed for ``day``; counts of what was done."""
    if not 0 <= segment < total:
        raise ValueError("segment must be 0 to total - 1")
    policies = (config_repository.warning_policy(), config_repository.collection_policy())
    totals = {"loans": 0, "accrued": 0, "warnings": 0, "cases": 0, "skipped": 0}
    for item in _segment(day, segment, total):
        totals["loans"] += 1
        loan = loans.from_document(item.document)
        for attempt in range(MAX_ATTEMPTS):
            try:
                done = _close_one(loan, day, policies)
                break
            except loans.VersionConflict:
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                loan = loans.get(loan.loan_id)  # a repayment won: close what it left
        for key, value in done.items():
            totals[key] += value
    metrics.add_metric(name="LoansClosed", unit=MetricUnit.Count, value=totals["accrued"])
    logger.info("day-end segment closed", extra={"business_date": day.isoformat(), "segment": segment, "total": total, **totals})
    return {"business_date": day.isoformat(), "segment": segment, **totals}
