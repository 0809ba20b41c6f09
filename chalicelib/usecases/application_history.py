"""The back office's application search and an application's history (its timeline and its review).

Search (``GET /backoffice/applications``), within the branches the operator sees
(``usecases/branch_scope.py``):

- ``q``: one application, by its id (``AP...``) or by a partner's application
  number (with ``partner_id``, that partner's; without, each partner's);
- ``status``: the branches' applications in that status, most recently changed
  first (the ``by_branch_status`` index);
- otherwise the applications received on one business day (``received_on``,
  by default the business date), newest first (the ``by_branch_day`` index);
- ``partner_id`` narrows any of them.

Everything shown is as stored: personal data masked at intake (``張*``,
``110101********4514``, ``138****8000``); the sealed originals, the keyed hash
of the ID number and the watch's index keys are never shown. Another
branch's application is not found (404), as one that does not exist.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.domain import application_history as history
from chalicelib.domain.application_status import ApplicationStatus
from chalicelib.domain.credit_line import DRAWDOWN
from chalicelib.domain.operator import Operator
from chalicelib.domain.product import Violation
from chalicelib.persistence import applications, config_repository, inquiries
from chalicelib.usecases import branch_scope
from chalicelib.usecases.errors import invalid_input


def _amount(item: Any) -> str | None:
    return (item.application or {}).get("amount")


def summary(item: Any) -> dict[str, Any]:
    return {
        "application_id": item.application_id,
        "partner_id": item.partner_id,
        "partner_application_no": item.partner_application_no,
        "branch_code": item.branch_code,
        "product_code": item.product_code,
        "kind": item.kind or "APPLICATION",
        "status": item.status,
        "amount": _amount(item),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _found_by_q(operator: Operator, q: str, partner_id: str | None) -> list[Any]:
    if q.startswith("AP"):
        found = [applications.tracked(q)]
    else:
        partners = [partner_id] if partner_id else config_repository.partner_ids()
        claims = [applications.find(partner, q) for partner in partners]
        found = [applications.tracked(claim.application_id) for claim in claims if claim is not None]
    return [item for item in found if item is not None and item.pk.startswith("APP#") and operator.sees(item.branch_code)]


def search(
    operator: Operator,
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    partner_id: str | None = None,
    branch_code: str | None = None,
    q: str | None = None,
    received_on: date | None = None,
) -> dict[str, Any]:
    """``GET /backoffice/applications``: ``{"items", "next_cursor"}``."""
    branches = branch_scope.branches(operator, branch_code)

    def keep(item: Any) -> bool:
        return (
            (partner_id is None or item.partner_id == partner_id)
            and (status is None or item.status == status)
            and (received_on is None or item.received_on == received_on.isoformat())
            and item.branch_code in branches
        )

    if q is not None:
        if cursor is not None:
            raise invalid_input("query", [Violation("cursor", "a search by q answers in one page: no cursor")])
        found = [item for item in _found_by_q(operator, q, partner_id) if keep(item)][:limit]
        applications.documents_of(found)  # the amounts: every item's document in one BatchGetItem
        return {"items": [summary(item) for item in found], "next_cursor": None}
    if status is not None:
        partitions = inquiries.applications_in_status(branches, status)
    else:
        day = received_on or config_repository.business_date()
        partitions = inquiries.applications_received(branches, day.isoformat())
    filtered = partner_id is not None or (status is not None and received_on is not None)
    try:
        page = inquiries.walk(partitions, limit, cursor, keep if filtered else None)
    except ValueError:
        raise invalid_input("query", [Violation("cursor", "is not a cursor of this list (start again without it)")]) from None
    applications.documents_of(page.items)  # the amounts: every item's document in one BatchGetItem
    return {"items": [summary(item) for item in page.items], "next_cursor": page.next_cursor}


def _initial_status(item: Any) -> str:
    return ApplicationStatus.ROUTING.value if item.kind == DRAWDOWN else ApplicationStatus.RECEIVED.value


def _contract(contract: dict[str, Any] | None) -> dict[str, Any] | None:
    if not contract:
        return None
    return {
        "contract_no": contract.get("contract_no"),
        "signer": contract.get("signer"),
        "signed_at": contract.get("signed_at"),
        "sha256": (contract.get("contract") or {}).get("sha256"),
    }


def detail(operator: Operator, application_id: str) -> dict[str, Any]:
    """``GET /backoffice/applications/{application_id}``."""
    item = applications.tracked(application_id) if application_id.startswith("AP") and len(application_id) <= 64 else None
    if item is None or not branch_scope.visible(operator, item.branch_code):
        raise branch_scope.not_found("application")
    trail = applications.trail_of(item)
    stored = dict(item.application or {})
    applicant, account = stored.pop("applicant", None), stored.pop("account", None)
    return {
        **summary(item),
        "branch_reason": item.branch_reason,
        "customer_id": item.customer_id,
        "credit_line_id": item.credit_line_id,
        "loan_id": item.loan_id or (item.disbursement or {}).get("loan_id"),
        "received_on": item.received_on,
        "applicant": applicant,  # masked at intake
        "account": account,  # masked at intake
        "application": stored,  # the rest of the standardised application
        "timeline": history.timeline(
            created_at=item.created_at, initial_status=_initial_status(item), status_history=item.status_history,
            status=item.status, updated_at=item.updated_at, trail=trail, acceptance=item.acceptance,
            contract=item.contract, disbursement=item.disbursement,
        ),
        "decision": item.decision,
        "score": history.score(trail, item.decision),
        "rule_results": list(trail.get("rule_results") or ()),
        "fraud_hits": list(trail.get("fraud_hits") or ()),
        "bureau": history.bureau_summary(trail),
        "decision_trail": history.decision_trail(trail),
        "manual_review": history.manual_review(trail.get("manual_review")),
        "routing_trail": trail.get("routing"),
        "offer": item.offer,
        "acceptance": item.acceptance,
        "contract": _contract(item.contract),
        "documents": history.documents(item.contract),
        "disbursement": item.disbursement,
    }
