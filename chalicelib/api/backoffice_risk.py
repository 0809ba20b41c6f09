"""The back-office API for reconciliation reports, the collections queue and warnings.

Operators only (never partners); read only. Every answer is JSON; amounts are
strings with two decimals, dates ``YYYY-MM-DD``. Lists take ``limit`` (1-100,
default 20) and ``cursor`` (the ``next_cursor`` of the page before) and answer
``{"items": [...], "next_cursor": "..." | null}``; a bad or unknown query
parameter is 400 ``INVALID_INPUT`` naming it (``details[].field``).

=======  ==================================================  =====================================================
method   path                                                answers
=======  ==================================================  =====================================================
GET      /backoffice/reconciliation                          200 one item per partner and day with a report or a
         ``?partner_id=&from=&to=``                          file, by partner then day; 400; 403 FORBIDDEN (branch
                                                             operators and reviewers)
GET      /backoffice/reconciliation/{partner_id}/{day}       200 the report: totals, counts, a page of its breaks;
         ``?kind=``                                          400; 403 FORBIDDEN; 404 RECONCILIATION_NOT_FOUND
GET      /backoffice/collections                             200 open collection cases, oldest first; 400; 403
         ``?branch_code=&queue=&stage=``                     BRANCH_FORBIDDEN (another branch's)
GET      /backoffice/warnings                                200 a day's warnings by id (``day`` default: the last
         ``?day=&branch_code=&kind=``                        day closed; ``branch_code=PLATFORM``: those spanning
                                                             branches); 400; 403 BRANCH_FORBIDDEN, FORBIDDEN
=======  ==================================================  =====================================================

Who sees what: ``chalicelib/usecases/reconciliation_reports.py`` (platform
operators and auditors; other branch staff 403) and
``chalicelib/usecases/post_loan_risk.py`` (branch staff their own branch).

Examples::

    GET /backoffice/reconciliation?partner_id=P_DEMO&from=2026-11-01&to=2026-11-30&limit=2
    -> {"items": [{"partner_id": "P_DEMO", "business_date": "2026-11-23", "status": "BREAKS",
                   "bank_total": "63534.57", "partner_total": "63034.57", "breaks": 2},
                  {"partner_id": "P_DEMO", "business_date": "2026-11-24", "status": "INVALID_FILE",
                   "bank_total": null, "partner_total": null, "breaks": null, "reason": "not a partner ..."}],
        "next_cursor": "eyJsaXN0Ijoi..."}

    GET /backoffice/reconciliation/P_DEMO/2026-11-23?kind=STATUS_MISMATCH
    -> {"partner_id": "P_DEMO", "business_date": "2026-11-23", "status": "BREAKS",
        "bank_total": "63534.57", "partner_total": "63034.57", "breaks": 2,
        "partner_rows": 3, "invalid_rows": 0, "bank_rows": 4, "kind": "STATUS_MISMATCH",
        "totals": {"partner": [{"txn_type": "DISBURSEMENT", "status": "SUCCESS", "count": 1, "amount": "12000.00"}, ...
                               {"txn_type": "ALL", "status": "ALL", "count": 3, "amount": "63034.57"}],
                   "bank": [...]},
        "counts": {"MATCHED": 2, "INVALID_ROW": 0, "MISSING_AT_BANK": 0, "MISSING_AT_PARTNER": 1,
                   "AMOUNT_MISMATCH": 0, "STATUS_MISMATCH": 1, "DUPLICATE": 0},
        "items": [{"kind": "STATUS_MISMATCH", "side": "BOTH", "txn_type": "DISBURSEMENT",
                   "txn_ref": "PA20261123000118", "line": 3, "fields": ["status"],
                   "partner": {"loan_id": "LN...", "amount": "50000.00", "status": "FAILED"},
                   "bank": {"loan_id": "LN...", "amount": "50000.00", "status": "SUCCESS"},
                   "detail": "status: partner FAILED, bank SUCCESS"}],
        "next_cursor": null}

    GET /backoffice/collections?branch_code=BR_DONGCHENG&stage=M1
    -> {"items": [{"case_id": "CC-LN...-20261224", "loan_id": "LN...", "customer_id": "CU...",
                   "branch_code": "BR_DONGCHENG", "queue": "BR_DONGCHENG", "stage": "M1",
                   "opened_on": "2026-12-24", "last_changed": "2026-12-24", "as_of": "2026-12-25",
                   "days_past_due": 2, "overdue_amount": "1036.20", "overdue_principal": "961.20",
                   "outstanding_principal": "12000.00", "loan_class": "SPECIAL_MENTION",
                   "partner_id": "P_DEMO", "product_code": "CONSUMER_STD"}],
        "next_cursor": null}

    GET /backoffice/warnings?day=2026-12-24&branch_code=BR_DONGCHENG&kind=FIRST_OVERDUE
    -> {"items": [{"warning_id": "FIRST_OVERDUE:2026-12-24:LN...", "kind": "FIRST_OVERDUE",
                   "severity": "MEDIUM", "branch_code": "BR_DONGCHENG", "loan_id": "LN...",
                   "customer_id": "CU...", "day": "2026-12-24", "detail": "days past due 0 -> 1",
                   "partner_id": null, "threshold": null}],
        "next_cursor": null}

A report's ``kind`` is one of the break kinds (``INVALID_ROW``, ``MISSING_AT_BANK``,
``MISSING_AT_PARTNER``, ``AMOUNT_MISMATCH``, ``STATUS_MISMATCH``, ``DUPLICATE``):
matched items are counted (``counts.MATCHED``), not listed. A report of a file
refused whole (``INVALID_FILE``, with ``reason``) or not yet reconciled
(``AWAITING_FILE``) has ``totals`` and ``counts`` null and no items.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Response

from chalicelib.api import backoffice_params
from chalicelib.domain.reconciliation import BREAK_KINDS
from chalicelib.usecases import post_loan_risk, reconciliation_reports
from chalicelib.usecases.errors import Refusal, Refused
from chalicelib.usecases.operator_auth import operator_of


def reconciliation_days(request: Any) -> Response:
    operator = operator_of(request)
    reconciliation_reports.may_see(operator)
    query = backoffice_params.ListQuery(request, "reconciliation", ("partner_id", "from", "to"))
    partner_id = query.code("partner_id", "partner id")
    first, last = query.day("from"), query.day("to")
    if first is not None and last is not None and first > last:
        query.invalid("to", "must not be before from")
    limit, at = query.limit(), query.cursor()
    query.checked()
    items, position = reconciliation_reports.list_days(operator, partner_id, first, last, at, limit)
    return backoffice_params.page("reconciliation", items, position)


def _day_in_path(partner_id: str, day: str) -> date:
    """The day a path names; a path that names none is not found (404), never an error."""
    try:
        if len(day) != 10:
            raise ValueError
        return date.fromisoformat(day)
    except ValueError:
        raise Refused(Refusal.NOT_FOUND, "RECONCILIATION_NOT_FOUND", f"no reconciliation of partner {partner_id[:32]} for {day[:32]}") from None


def reconciliation_report(request: Any, partner_id: str, day: str) -> Response:
    operator = operator_of(request)
    reconciliation_reports.may_see(operator)
    business_date = _day_in_path(partner_id, day)
    if not backoffice_params.ListQuery.is_code(partner_id):
        raise Refused(Refusal.NOT_FOUND, "RECONCILIATION_NOT_FOUND", f"no reconciliation of partner {partner_id[:32]} for {day}")
    query = backoffice_params.ListQuery(request, "reconciliation-report", ("kind",))
    kind = query.choice("kind", BREAK_KINDS)
    if query.text("kind") == "MATCHED":
        query.details[-1]["message"] = f"must be one of {', '.join(BREAK_KINDS)} (matched items are counted, not listed)"
    limit, at = query.limit(), query.cursor()
    query.checked()
    view, position = reconciliation_reports.report(operator, partner_id, business_date, kind, at, limit)
    items = view.pop("items")
    return backoffice_params.page("reconciliation-report", items, position, **view)


def collections(request: Any) -> Response:
    operator = operator_of(request)
    query = backoffice_params.ListQuery(request, "collections", ("branch_code", "queue", "stage"))
    branch_code = query.code("branch_code", "branch code")
    queue = query.text("queue")
    if queue is not None and len(queue) > 64:
        query.invalid("queue", "must be at most 64 characters")
    stage = query.text("stage")
    limit, at = query.limit(), query.cursor()
    query.checked()
    items, position = post_loan_risk.collection_queue(operator, branch_code, queue, stage, at, limit)
    return backoffice_params.page("collections", items, position)


def warnings(request: Any) -> Response:
    operator = operator_of(request)
    query = backoffice_params.ListQuery(request, "warnings", ("day", "branch_code", "kind"))
    day = query.day("day")
    branch_code = query.code("branch_code", "branch code (or PLATFORM)")
    kind = query.text("kind")
    limit, at = query.limit(), query.cursor()
    query.checked()
    items, position = post_loan_risk.warning_list(operator, day, branch_code, kind, at, limit)
    return backoffice_params.page("warnings", items, position)
