"""Repayments (还款) and what a partner sees of a loan: its balances, its schedule, its events.

``POST /v1/loans/{loan_id}/repayments`` takes a repayment the partner collected:
validated, allocated (``domain/repayment.py``) on the business date, and
recorded in ONE transaction with its posting (Dr partner clearing / Cr what
it paid off), the loan's new state, the repayment record (a partner's number
is taken once), a revolving line's quota given back by the principal repaid,
and a ``LOAN_SETTLED`` event when it settles the loan. The same number with
the same body answers the first allocation again; with another body, 409.
Two repayments of one loan at once: the loan's version decides, the loser is
allocated again on the new state.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import accounting
from chalicelib.domain.classification import classify
from chalicelib.domain.loan import Loan, LoanStatus
from chalicelib.domain.money import ZERO, format_amount
from chalicelib.domain.product import Violation
from chalicelib.domain.repayment import FEE, INTEREST, PENALTY, PRINCIPAL, Allocation, RepaymentRefused, allocate
from chalicelib.domain.wire import Amount, Timestamp
from chalicelib.observability import logger, metrics
from chalicelib.persistence import config_repository, loans
from chalicelib.usecases.errors import Refusal, Refused, invalid_input, parse_body

CLOCK_SKEW = timedelta(minutes=5)
MAX_ATTEMPTS = 5  # allocations retried when another change of the loan won


class RepaymentRequest(BaseModel):
    """``POST /v1/loans/{loan_id}/repayments``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner_repayment_no: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    amount: Amount
    paid_at: Timestamp


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _loan_of(partner: Any, loan_id: str) -> Any:
    record = loans.record(loan_id) if isinstance(loan_id, str) and loan_id.startswith("LN") else None
    if record is None or record.partner_id != partner.partner_id:
        raise Refused(Refusal.NOT_FOUND, "NOT_FOUND", "no such loan")
    return record


def _parse(payload: Any) -> RepaymentRequest:
    return parse_body(RepaymentRequest, payload, "repayment")


def _fingerprint(loan_id: str, request: RepaymentRequest) -> str:
    text = json.dumps([loan_id, request.partner_repayment_no, format_amount(request.amount), request.paid_at.isoformat()])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def allocation_view(allocation: Allocation, loan_id: str, request: RepaymentRequest, posting_id: str) -> dict[str, Any]:
    money = format_amount
    return {
        "loan_id": loan_id,
        "partner_repayment_no": request.partner_repayment_no,
        "amount": money(allocation.amount),
        "paid_at": request.paid_at.isoformat(),
        "value_date": allocation.day.isoformat(),
        "allocated": {
            "penalty": money(allocation.total(PENALTY)),
            "interest": money(allocation.total(INTEREST)),
            "principal": money(allocation.total(PRINCIPAL)),
            "fee": money(allocation.total(FEE)),
        },
        "prepaid_principal": money(allocation.prepaid_principal),
        "items": [{"period": i.period, "component": i.component, "amount": money(i.amount), "kind": i.kind} for i in allocation.items],
        "settled": allocation.settled,
        "loan_status": allocation.loan.status.value,
        "outstanding_principal": money(allocation.loan.outstanding_principal),
        "posting_id": posting_id,
    }


def _replay(existing: Any, fingerprint: str) -> tuple[dict[str, Any], bool]:
    if existing.fingerprint != fingerprint:
        raise Refused(
            Refusal.CONFLICT, "IDEMPOTENCY_CONFLICT", "this partner_repayment_no was used for another repayment",
            [Violation("partner_repayment_no", "already used with another amount or time")],
        )
    return existing.answer, False


def repay(partner: Any, loan_id: str, payload: Any) -> tuple[dict[str, Any], bool]:
    """The allocation of a repayment, and whether it was recorded now (False: a replay)."""
    record = _loan_of(partner, loan_id)
    request = _parse(payload)
    fingerprint = _fingerprint(loan_id, request)
    existing = loans.repayment(loan_id, request.partner_repayment_no)
    if existing is not None:
        return _replay(existing, fingerprint)
    now = _now()
    if request.paid_at > now + CLOCK_SKEW:
        raise invalid_input("repayment", [Violation("paid_at", "must not be in the future")])
    day = config_repository.business_date()
    for _ in range(MAX_ATTEMPTS):
        loan = loans.from_document(record.document)
        try:
            allocation = allocate(loan, request.amount, day)
        except RepaymentRefused as refused:
            raise Refused(Refusal.BUSINESS_RULE, refused.code, refused.message, [Violation("amount", refused.message)]) from None
        posting = accounting.repayment(loan, allocation, request.partner_repayment_no)
        answer = allocation_view(allocation, loan_id, request, posting.posting_id)
        event = None
        if allocation.settled:
            event = {
                "event_id": f"LOAN_SETTLED#{loan_id}", "type": "LOAN_SETTLED", "loan_id": loan_id, "application_id": loan.application_id,
                "partner_application_no": loan.partner_application_no, "settled_on": day.isoformat(),
            }
        restore = (loan.credit_line_id, allocation.total(PRINCIPAL)) if loan.credit_line_id else None
        try:
            loans.save(
                loan, allocation.loan, now, posting=posting, repayment_no=request.partner_repayment_no,
                repayment_record={"fingerprint": fingerprint, "answer": answer, "posting_id": posting.posting_id},
                event=event, line_restore=restore,
            )
        except (loans.VersionConflict, loans.AlreadyExists):
            # Which condition failed is not told reliably (the transaction's items are not in the order
            # they were added: pynamodb sends puts before updates), so look: the same number recorded
            # meanwhile (a retry racing its original) answers that; else another change of the loan won.
            existing = loans.repayment(loan_id, request.partner_repayment_no)
            if existing is not None:
                return _replay(existing, fingerprint)
            fresh = loans.record(loan_id)
            if fresh is None or fresh.version == loan.version:
                raise  # not a race: another condition refused it (a revolving line's quota missing)
            record = fresh  # allocate on what the winner left
            continue
        metrics.add_metric(name="RepaymentsPosted", unit=MetricUnit.Count, value=1)
        if allocation.settled:
            metrics.add_metric(name="LoansSettled", unit=MetricUnit.Count, value=1)
        logger.info("repayment posted", extra={"loan_id": loan_id, "partner_repayment_no": request.partner_repayment_no, "settled": allocation.settled})
        return answer, True
    raise Refused(Refusal.CONFLICT, "LOAN_BUSY", "the loan is changing too often just now; retry with the same partner_repayment_no")


# -- views ------------------------------------------------------------------------------------------


def _money(value: Any) -> str:
    return format_amount(value)


def loan_view(loan: Loan, record: Any, day: Any) -> dict[str, Any]:
    due = loan.due(day)
    nxt = next((i for i in loan.installments if not i.paid), None)
    dpd = loan.days_past_due(day)
    quote = loan.settlement(day) if loan.status is LoanStatus.ACTIVE else None
    return {
        "loan_id": loan.loan_id,
        "application_id": loan.application_id,
        "status": loan.status.value,
        "product_code": loan.product_code,
        "branch_code": loan.branch_code,
        "amount": _money(loan.amount),
        "annual_rate": str(loan.annual_rate),
        "repayment_method": loan.method.value,
        "term_months": loan.term_months,
        "disbursed_on": loan.start_date.isoformat(),
        "maturity_date": loan.installments[-1].due_date.isoformat(),
        "as_of": day.isoformat(),
        "outstanding": {
            "principal": _money(loan.outstanding_principal),
            "principal_due": _money(sum((i.unpaid_principal for i in due), ZERO)),
            "interest_due": _money(sum((i.unpaid_interest for i in due), ZERO)),
            "interest_accrued": _money(loan.interest_receivable),
            "penalty": _money(loan.penalty_receivable),
        },
        "next_installment": (
            {"period": nxt.period, "due_date": nxt.due_date.isoformat(), "amount": _money(nxt.unpaid)} if nxt and loan.status is LoanStatus.ACTIVE else None
        ),
        "settlement": {"as_of": day.isoformat(), "amount": _money(quote.total), "principal": _money(quote.principal + quote.due_principal),
                       "interest": _money(quote.interest + quote.due_interest), "penalty": _money(quote.due_penalty), "fee": _money(quote.fee)} if quote else None,
        "days_past_due": dpd,
        "classification": classify(dpd).value,
        "funders": [{"funder": f.funder, "amount": _money(f.amount), "outstanding": _money(f.outstanding)} for f in loan.funders],
        "credit_line_id": loan.credit_line_id,
        "settled_on": loan.settled_on.isoformat() if loan.settled_on else None,
        "contract": record.contract,
        "payment": {k: (record.payment or {}).get(k) for k in ("state", "reference", "paid_at", "reason")},
    }


def view(partner: Any, loan_id: str) -> dict[str, Any]:
    """``GET /v1/loans/{loan_id}``: balances, status, days past due, classification, settlement quote."""
    record = _loan_of(partner, loan_id)
    return loan_view(loans.from_document(record.document), record, config_repository.business_date())


def schedule_rows(loan: Loan, day: Any) -> list[dict[str, Any]]:
    return [
        {
            "period": i.period,
            "due_date": i.due_date.isoformat(),
            "principal": _money(i.principal),
            "interest": _money(i.interest),
            "penalty": _money(i.penalty),
            "paid_principal": _money(i.paid_principal),
            "paid_interest": _money(i.paid_interest),
            "paid_penalty": _money(i.paid_penalty),
            "outstanding": _money(i.unpaid),
            "status": i.state(day),
        }
        for i in loan.installments
    ]


def schedule(partner: Any, loan_id: str) -> dict[str, Any]:
    """``GET /v1/loans/{loan_id}/schedule``: every installment with what is paid of it."""
    record = _loan_of(partner, loan_id)
    loan = loans.from_document(record.document)
    day = config_repository.business_date()
    rows = schedule_rows(loan, day)
    return {
        "loan_id": loan_id,
        "status": loan.status.value,
        "as_of": day.isoformat(),
        "installments": rows,
        "totals": {
            "principal": _money(sum((i.principal for i in loan.installments), ZERO)),
            "interest": _money(sum((i.interest for i in loan.installments), ZERO)),
            "penalty": _money(loan.penalty_receivable + sum((i.paid_penalty for i in loan.installments), ZERO)),
        },
    }


MAX_EVENTS = 100


def events(partner: Any, after: str | None, limit: str | None) -> dict[str, Any]:
    """``GET /v1/events``: the partner's events after a cursor, oldest first."""
    try:
        count = int(limit) if limit is not None else MAX_EVENTS
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_EVENTS:
        raise invalid_input("query", [Violation("limit", f"must be 1 to {MAX_EVENTS}")])
    if after is not None:
        try:
            if len(after) > 400:
                raise ValueError("too long")
            loans.sort_key_of(after)
        except ValueError:
            raise invalid_input("query", [Violation("after", "is not a cursor this API gave")]) from None
    found = loans.events(partner.partner_id, after, count, _now())
    return {"events": found, "next_cursor": found[-1]["cursor"] if found else after}
