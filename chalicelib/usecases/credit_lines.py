"""Credit lines for partners: a line's state, and drawdowns (用信) on it.

A drawdown is stored like an application (the same idempotency on the
partner's number, the same status API) but is not reviewed again: the line
was. It is created in ``ROUTING`` and its workflow goes straight to routing,
which asks the line's funders (then own funds) and reserves from the line.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any


from chalicelib.domain import identifiers
from chalicelib.domain.application_status import ApplicationStatus
from chalicelib.domain.credit_line import DRAWDOWN, CreditLine, DrawdownRequest, drawdown_violations
from chalicelib.domain.money import format_amount, format_rate
from chalicelib.domain.partner import Partner
from chalicelib.persistence import applications, config_repository, credit_lines
from chalicelib.persistence.models import ApplicationItem
from chalicelib.usecases import origination
from chalicelib.usecases.errors import Refusal, Refused, parse_body
from chalicelib.usecases.intake import Received, check_same_request, store_once

DRAWDOWN_REASON = "CREDIT_LINE_DRAWDOWN"


def _line_of(partner: Partner, credit_line_id: str) -> CreditLine:
    line = credit_lines.get(credit_line_id)
    if line is None or line.partner_id != partner.partner_id:
        raise Refused(Refusal.NOT_FOUND, "NOT_FOUND", "no such credit line")
    return line


def view(partner: Partner, credit_line_id: str) -> dict[str, Any]:
    """The line, what is left of it, and its validity; another partner's is not found."""
    return credit_lines.view(_line_of(partner, credit_line_id))


def _request(payload: Any) -> DrawdownRequest:
    return parse_body(DrawdownRequest, payload, "drawdown")


def _fingerprint(credit_line_id: str, request: DrawdownRequest) -> str:
    canonical = json.dumps({"credit_line_id": credit_line_id, **request.wire()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _replay(claim: ApplicationItem, print_: str, sfn: Any) -> Received:
    check_same_request(claim, print_)
    item = applications.get(claim.application_id)
    if item is None:  # the winning duplicate's transaction is not yet readable: it starts the workflow
        return Received(claim.application_id, ApplicationStatus.ROUTING.value, created=False)
    if item.status == ApplicationStatus.ROUTING.value:  # the first request may have died before starting it
        origination.start_drawdown(sfn, item.application_id)
    return Received(item.application_id, item.status, created=False)


def drawdown(partner: Partner, credit_line_id: str, payload: Any, sfn: Any) -> Received:
    """A drawdown on the partner's line: validated, stored once, routed to the line's funders."""
    line = _line_of(partner, credit_line_id)
    request = _request(payload)
    print_ = _fingerprint(credit_line_id, request)
    claim = applications.find(partner.partner_id, request.partner_application_no)
    if claim is not None:
        return _replay(claim, print_, sfn)
    product = config_repository.product(line.product_code) if partner.offers(line.product_code) else None
    if product is None:
        raise Refused(Refusal.BUSINESS_RULE, "PRODUCT_NOT_OFFERED", f"product {line.product_code} is no longer offered to this partner")
    violations = drawdown_violations(line, request, product, config_repository.business_date(), credit_lines.available(line.credit_line_id))
    if violations:
        code = "CREDIT_LINE_NOT_USABLE" if violations[0].field == "credit_line_id" else "OUTSIDE_CREDIT_LINE_TERMS"
        raise Refused(Refusal.BUSINESS_RULE, code, f"the drawdown cannot be taken on {line.credit_line_id}", violations)
    source = applications.get(line.application_id)
    if source is None:
        raise RuntimeError(f"credit line {line.credit_line_id}: its application {line.application_id} is not stored")

    now = datetime.now(timezone.utc)
    application_id = identifiers.application_id(now)
    routing = ApplicationStatus.ROUTING.value
    item = ApplicationItem(
        application_id=application_id,
        partner_id=partner.partner_id,
        partner_application_no=request.partner_application_no,
        fingerprint=print_,
        status=routing,
        kind=DRAWDOWN,
        credit_line_id=line.credit_line_id,
        branch_code=line.branch_code,
        branch_status=applications.branch_status(line.branch_code, routing),
        branch_reason="CREDIT_LINE",
        id_hash=source.id_hash,
        customer_id=line.customer_id,
        product_code=line.product_code,
        decision={
            "outcome": "APPROVED",
            "reasons": [DRAWDOWN_REASON],
            "approved_limit": format_amount(request.amount),
            "annual_rate": format_rate(line.annual_rate),
        },
        created_at=now.isoformat(),
        updated_at=now.isoformat(),
    )
    # The borrower as masked on the line's application; the sealed personal data stay with it.
    document = applications.document(
        application_id,
        {
            "kind": DRAWDOWN,
            "credit_line_id": line.credit_line_id,
            "line_application_id": line.application_id,
            "product_code": line.product_code,
            **request.wire(),
            "applicant": source.application["applicant"],
            "account": source.application["account"],
        },
        None,
    )
    return store_once(item, document, lambda: origination.start_drawdown(sfn, application_id), lambda found: _replay(found, print_, sfn))
