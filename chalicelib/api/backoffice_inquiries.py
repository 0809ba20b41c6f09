"""The back-office read API for the console: the dashboard, application search and history, loans.

Operators only (never partners); what each sees is scoped by branch: branch
staff their own branch, platform operators every branch (and may narrow to one
with ``branch_code``). Every answer is JSON; amounts are strings with 2
decimals, dates and times ISO 8601.

=======  ===========================================  =========================================================
method   path                                         answers
=======  ===========================================  =========================================================
GET      /backoffice/dashboard                        200 the business date's figures (``branch_code``: platform
                                                      operators narrow to one branch); 400; 403 BRANCH_FORBIDDEN
GET      /backoffice/applications                     200 a page of application summaries: ``status``,
                                                      ``partner_id``, ``branch_code``, ``received_on`` (a business
                                                      date; default the current one, when no ``status``), ``q``
                                                      (an application id or a partner's application number);
                                                      400; 403 BRANCH_FORBIDDEN
GET      /backoffice/applications/{application_id}    200 the application: timeline, decision, score, rule results,
                                                      bureau summary, trails, documents, masked applicant;
                                                      404 NOT_FOUND (also another branch's)
GET      /backoffice/loans                            200 a page of loan summaries: ``branch_code``, ``loan_class``,
                                                      ``status``; 400; 403 BRANCH_FORBIDDEN
GET      /backoffice/loans/{loan_id}                  200 ``loan``, ``schedule``, the latest ``postings`` (and
                                                      ``postings_next_cursor``), ``class_history``,
                                                      ``collection_case``; 404 NOT_FOUND (also another branch's)
GET      /backoffice/loans/{loan_id}/postings         200 a page of the loan's postings, newest first; 400; 404
=======  ===========================================  =========================================================

Lists take ``limit`` (1-100, default 20) and ``cursor`` (the ``next_cursor`` of
the page before, opaque) and answer ``{"items": [...], "next_cursor": "..." |
null}``; ``null`` means there is no more. A page filtered by what no index holds
(``partner_id``, ``loan_class``) may hold fewer items than ``limit``, even none,
with a ``next_cursor``: follow it. A search by ``q`` answers one page. A query
parameter that is unknown, given twice or malformed is 400 ``INVALID_INPUT``
with the parameter's name as the field.

Examples::

    GET /backoffice/dashboard
    {"business_date": "2026-11-23", "branch_code": null,
     "applications_by_status": {"RECEIVED": 2, "REVIEWING": 0, ..., "DISBURSED": 5, ...},
     "approval_rate": "0.7500", "decided": {"approved": 6, "rejected": 2},
     "disbursed_by_branch": [{"branch_code": "BR_DONGCHENG", "count": 5, "amount": "100000.00"}, ...],
     "quota_use": [{"branch_code": "BR_DONGCHENG", "funder": null, "period": "TOTAL", "limit": "800000000.00",
                    "used": "100000.00", "remaining": "799900000.00"}, ...],
     "loans_by_class": {"NORMAL": 5, "SPECIAL_MENTION": 0, "SUBSTANDARD": 0, "DOUBTFUL": 0, "LOSS": 0}}

    GET /backoffice/applications?status=MANUAL_REVIEW&limit=2
    {"items": [{"application_id": "AP20261123-143501-a3f9c0d2e1", "partner_id": "P_DEMO",
                "partner_application_no": "A2026112300001", "branch_code": "BR_DONGCHENG",
                "product_code": "CONSUMER_STD", "kind": "APPLICATION", "status": "MANUAL_REVIEW",
                "amount": "50000.00", "created_at": "...", "updated_at": "..."}, ...],
     "next_cursor": "eyJrIjp7..."}

    GET /backoffice/loans?loan_class=SPECIAL_MENTION
    {"items": [{"loan_id": "LN...", "application_id": "AP...", "branch_code": "BR_DONGCHENG",
                "partner_id": "P_DEMO", "product_code": "CONSUMER_STD", "amount": "20000.00",
                "outstanding_principal": "18401.52", "status": "ACTIVE", "loan_class": "SPECIAL_MENTION",
                "days_past_due": 12, "start_date": "2026-11-23"}],
     "next_cursor": null}
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable

from chalice import Response

from chalicelib.api import http
from chalicelib.domain.application_status import ApplicationStatus
from chalicelib.domain.classification import LoanClass
from chalicelib.domain.loan import LoanStatus
from chalicelib.domain.product import Violation
from chalicelib.usecases import application_history, dashboard, loan_inquiry
from chalicelib.usecases.errors import invalid_input
from chalicelib.usecases.operator_auth import operator_of

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,31}")
_Q = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,2048}")


def _one_of(values: set[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"must be one of {', '.join(sorted(values))}")
        return value

    return check


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return check


def _limit(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 3 and 1 <= int(value) <= MAX_LIMIT):
        raise ValueError(f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def _date(value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date, YYYY-MM-DD") from None


CODE = _matching(_CODE, "a code such as BR_DONGCHENG")
PAGING = {"limit": _limit, "cursor": _matching(_CURSOR, "the next_cursor of a page before")}
DASHBOARD = {"branch_code": CODE}
APPLICATIONS = {
    **PAGING,
    "branch_code": CODE,
    "partner_id": CODE,
    "status": _one_of({s.value for s in ApplicationStatus}),
    "received_on": _date,
    "q": _matching(_Q, "an application id or a partner's application number (A-Z, a-z, 0-9, _ and -)"),
}
LOANS = {**PAGING, "branch_code": CODE, "loan_class": _one_of({c.value for c in LoanClass}), "status": _one_of({s.value for s in LoanStatus})}


def _params(request: Any, accepted: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    """The query parameters, each checked; 400 naming every one that is unknown, repeated or malformed."""
    given = request.query_params or {}
    parsed: dict[str, Any] = {}
    violations = []
    for name in sorted(given.keys()):
        values = given.getlist(name) if hasattr(given, "getlist") else [given[name]]
        if name not in accepted:
            violations.append(Violation(name, f"is not a parameter of this list; use {', '.join(sorted(accepted))}"))
        elif len(values) != 1:
            violations.append(Violation(name, "must be given once"))
        else:
            try:
                parsed[name] = accepted[name](values[0])
            except ValueError as exc:
                violations.append(Violation(name, str(exc)))
    if violations:
        raise invalid_input("query", violations)
    return parsed


def _paging(parsed: dict[str, Any]) -> dict[str, Any]:
    return {"limit": parsed.pop("limit", DEFAULT_LIMIT), "cursor": parsed.pop("cursor", None)}


def get_dashboard(request: Any) -> Response:
    operator = operator_of(request)
    parsed = _params(request, DASHBOARD)
    return http.json_response(200, dashboard.view(operator, parsed.get("branch_code")))


def list_applications(request: Any) -> Response:
    operator = operator_of(request)
    parsed = _params(request, APPLICATIONS)
    return http.json_response(200, application_history.search(operator, **_paging(parsed), **parsed))


def get_application(request: Any, application_id: str) -> Response:
    operator = operator_of(request)
    return http.json_response(200, application_history.detail(operator, application_id))


def list_loans(request: Any) -> Response:
    operator = operator_of(request)
    parsed = _params(request, LOANS)
    return http.json_response(200, loan_inquiry.search(operator, **_paging(parsed), **parsed))


def get_loan(request: Any, loan_id: str) -> Response:
    operator = operator_of(request)
    return http.json_response(200, loan_inquiry.detail(operator, loan_id))


def list_loan_postings(request: Any, loan_id: str) -> Response:
    operator = operator_of(request)
    parsed = _params(request, PAGING)
    return http.json_response(200, loan_inquiry.postings(operator, loan_id, **_paging(parsed)))
