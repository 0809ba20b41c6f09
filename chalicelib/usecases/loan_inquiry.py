"""The back office's loan list and loan detail, within the branches the operator sees.

List (``GET /backoffice/loans``): a branch's loans in one status (``status``;
without it ACTIVE, then DISBURSING, SETTLED, VOID), newest first, one branch
after another (the loans' ``by_branch_status`` index: keys only, then one
``BatchGetItem`` per page); ``loan_class`` is applied to what is read (no
index has it: a page may then hold fewer than ``limit``, see
``persistence/inquiries.py``).

Detail (``GET /backoffice/loans/{loan_id}``): the loan as the partner API shows
it (``usecases/loan_servicing.loan_view``) with the bank's own figures (its
five-tier class and days past due as the last day end left them), its schedule
with what is paid of each installment, its latest postings (newest first;
``GET /backoffice/loans/{loan_id}/postings`` pages through all of them), its
class history and its collection case (the open one, else the latest closed).
Another branch's loan is not found (404), as one that does not exist.
"""
from __future__ import annotations

from typing import Any

from chalicelib.domain.ledger import Account
from chalicelib.domain.loan import LoanStatus
from chalicelib.domain.money import format_amount
from chalicelib.domain.operator import Operator
from chalicelib.domain.product import Violation
from chalicelib.persistence import config_repository, inquiries, loans, risk
from chalicelib.usecases import branch_scope
from chalicelib.usecases.errors import invalid_input
from chalicelib.usecases.loan_servicing import loan_view, schedule_rows

STATUSES = (LoanStatus.ACTIVE, LoanStatus.DISBURSING, LoanStatus.SETTLED, LoanStatus.VOID)
POSTINGS_IN_DETAIL = 20


def _days_past_due(loan: Any, day: Any) -> int:
    return loan.days_past_due(day) if loan.status is LoanStatus.ACTIVE else 0


def summary(item: Any, day: Any) -> dict[str, Any]:
    loan = loans.from_document(item.document)
    return {
        "loan_id": loan.loan_id,
        "application_id": loan.application_id,
        "branch_code": loan.branch_code,
        "partner_id": loan.partner_id,
        "product_code": loan.product_code,
        "amount": format_amount(loan.amount),
        "outstanding_principal": format_amount(loan.outstanding_principal),
        "status": loan.status.value,
        "loan_class": loan.loan_class.value,
        "days_past_due": _days_past_due(loan, day),
        "start_date": loan.start_date.isoformat(),
    }


def _bad_cursor() -> Exception:
    return invalid_input("query", [Violation("cursor", "is not a cursor of this list (start again without it)")])


def search(
    operator: Operator, *, limit: int, cursor: str | None = None, branch_code: str | None = None,
    loan_class: str | None = None, status: str | None = None,
) -> dict[str, Any]:
    """``GET /backoffice/loans``: ``{"items", "next_cursor"}``."""
    branches = branch_scope.branches(operator, branch_code)
    statuses = [status] if status else [s.value for s in STATUSES]
    keep = (lambda item: (item.document.get("loan_class") or "NORMAL") == loan_class) if loan_class else None
    try:
        page = inquiries.walk(inquiries.loans_in_status(branches, statuses), limit, cursor, keep)
    except ValueError:
        raise _bad_cursor() from None
    day = config_repository.business_date()
    return {"items": [summary(item, day) for item in page.items], "next_cursor": page.next_cursor}


def _title(account: str) -> str | None:
    try:
        return Account(account).title
    except ValueError:
        return None


def posting_view(item: Any) -> dict[str, Any]:
    return {
        "posting_id": item.posting_id,
        "kind": item.kind,
        "business_date": item.business_date,
        "posted_at": item.posted_at,
        "reverses": item.reverses,
        "partner_id": item.partner_id,
        "lines": [
            {"account": line["account"], "title": _title(line["account"]), "party": line["party"], "side": line["side"], "amount": line["amount"]}
            for line in item.lines
        ],
    }


def _record_of(operator: Operator, loan_id: str) -> Any:
    record = loans.record(loan_id) if loan_id.startswith("LN") and len(loan_id) <= 64 else None
    if record is None or not branch_scope.visible(operator, record.branch_code):
        raise branch_scope.not_found("loan")
    return record


def _class_history(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"day": day, "from_class": before, "to_class": after, "days_past_due": int(dpd)}
        for day, before, after, dpd in document.get("class_history") or ()
    ]


def _collection_case(loan_id: str) -> dict[str, Any] | None:
    cases = risk.cases_of(loan_id)  # oldest first
    open_cases = [case for case in cases if not case.get("closed_on")]
    return (open_cases or cases or [None])[-1]


def detail(operator: Operator, loan_id: str) -> dict[str, Any]:
    """``GET /backoffice/loans/{loan_id}``."""
    record = _record_of(operator, loan_id)
    loan = loans.from_document(record.document)
    day = config_repository.business_date()
    latest = inquiries.walk(inquiries.postings_of(loan_id), POSTINGS_IN_DETAIL)
    return {
        "loan": {
            **loan_view(loan, record, day),
            "partner_id": loan.partner_id,
            "partner_application_no": loan.partner_application_no,
            "customer_id": loan.customer_id,
            "loan_class": loan.loan_class.value,
            "dpd_at_close": loan.dpd_at_close,
            "accrued_through": loan.accrued_through.isoformat() if loan.accrued_through else None,
        },
        "schedule": schedule_rows(loan, day),
        "postings": [posting_view(item) for item in latest.items],
        "postings_next_cursor": latest.next_cursor,
        "class_history": _class_history(record.document),
        "collection_case": _collection_case(loan_id),
    }


def postings(operator: Operator, loan_id: str, *, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """``GET /backoffice/loans/{loan_id}/postings``: the loan's postings, newest first."""
    _record_of(operator, loan_id)
    try:
        page = inquiries.walk(inquiries.postings_of(loan_id), limit, cursor)
    except ValueError:
        raise _bad_cursor() from None
    return {"items": [posting_view(item) for item in page.items], "next_cursor": page.next_cursor}
