"""Partner intake (进件): a partner's application, standardised, validated, stored once, started.

1. Standardise: a partner with a mapping posts its own format, converted by the
   mapping (data, not code); others post the standard application.
2. Validate the standard application (400, naming the partner's own fields).
3. Idempotency: the same partner application number with the same content is
   the same application; with other content, 409.
4. The product's terms and the applicant's age (422).
5. The branch, by the applicant's division code; the ECIF customer, by the
   keyed hash of the ID number; personal data sealed, only masks in the clear.
6. One transaction stores the application and its idempotency item; the
   origination workflow starts, named after the application (so at most one).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from pydantic import ValidationError

from chalicelib.domain import identifiers
from chalicelib.domain.application import StandardApplication, fingerprint, product_violations
from chalicelib.domain.application_status import ApplicationStatus
from chalicelib.domain.branch_assignment import NoBranch, assign, division_table
from chalicelib.domain.masking import mask_card, mask_id_number, mask_mobile, mask_name
from chalicelib.domain.partner import Partner
from chalicelib.domain.partner_mapping import MappingError, adapt, partner_field
from chalicelib.domain.product import Violation
from chalicelib.domain.wire import field_errors
from chalicelib.persistence import applications, config_repository, customers, pii_vault
from chalicelib.persistence.models import ApplicationItem, DocumentItem
from chalicelib.usecases import origination
from chalicelib.usecases.errors import Refusal, Refused

CREATE_ATTEMPTS = 4


@dataclass(frozen=True)
class Received:
    application_id: str
    status: str
    created: bool  # False: the same application was received before


def _invalid(violations: list[Violation]) -> Refused:
    return Refused(Refusal.INVALID_INPUT, "INVALID_INPUT", "the application has invalid fields", violations)


def standardise(partner: Partner, payload: Any) -> StandardApplication:
    """The standard application from what the partner sent; errors name the partner's fields."""
    sources: dict[str, str] = {}
    standard = payload
    if partner.uses_mapping:
        mapping = config_repository.partner_mapping(partner.partner_id)
        if mapping is None:
            raise RuntimeError(f"partner {partner.partner_id} uses a mapping but none is configured")
        try:
            adapted = adapt(mapping, payload)
        except MappingError as exc:
            raise _invalid([Violation(e.field, e.message) for e in exc.errors]) from exc
        standard, sources = adapted.standard, adapted.sources
    if not isinstance(standard, dict):
        raise _invalid([Violation("body", "must be a JSON object")])
    try:
        return StandardApplication.model_validate(standard)
    except ValidationError as exc:
        raise _invalid([Violation(partner_field(path, sources) if sources else path, message) for path, message in field_errors(exc)]) from exc


def masked(application: StandardApplication) -> dict[str, Any]:
    """The standardised application as it may be stored and shown: personal data masked."""
    data = application.model_dump(mode="json")
    applicant, account = data["applicant"], data["account"]
    applicant.update(name=mask_name(applicant["name"]), id_number=mask_id_number(applicant["id_number"]), mobile=mask_mobile(applicant["mobile"]))
    account.update(card_number=mask_card(account["card_number"]), account_name=mask_name(account["account_name"]))
    return data


def _personal_data(application: StandardApplication) -> dict[str, str]:
    a = application.applicant
    return {"name": a.name, "id_number": a.id_number, "mobile": a.mobile, "card_number": application.account.card_number}


def check_same_request(claim: ApplicationItem, print_: str) -> None:
    """409 when the partner's number was used for a different body."""
    if claim.fingerprint != print_:
        raise Refused(
            Refusal.CONFLICT,
            "IDEMPOTENCY_CONFLICT",
            f"partner_application_no {claim.partner_application_no} was used for a different application",
            [Violation("partner_application_no", "already used with a different body")],
        )


def _replay(claim: ApplicationItem, print_: str, sfn: Any) -> Received:
    check_same_request(claim, print_)
    item = applications.get(claim.application_id)
    if item is None:  # the winning duplicate's transaction is committed but not yet readable: it will start the workflow
        return Received(claim.application_id, ApplicationStatus.RECEIVED.value, created=False)
    if item.status == ApplicationStatus.RECEIVED.value:
        # If the first request died between storing and starting, this starts the workflow;
        # otherwise Step Functions answers the running (or finished) execution of the same name.
        product = config_repository.product(item.product_code or "")
        origination.start(sfn, claim.application_id, _review_timeout(product))
    return Received(claim.application_id, item.status or ApplicationStatus.RECEIVED.value, created=False)


def _review_timeout(product: Any) -> int:
    return (product.manual_review_hours if product else 72) * 3600


def _now() -> datetime:
    return datetime.now(timezone.utc)


def submit(partner: Partner, payload: Any, sfn: Any) -> Received:
    application = standardise(partner, payload)
    print_ = fingerprint(application)
    claim = applications.find(partner.partner_id, application.partner_application_no)
    if claim is not None:
        return _replay(claim, print_, sfn)

    product = config_repository.product(application.product_code) if partner.offers(application.product_code) else None
    if product is None:
        raise Refused(Refusal.BUSINESS_RULE, "PRODUCT_NOT_OFFERED", f"product {application.product_code} is not offered to this partner")
    violations = product_violations(application, product, config_repository.business_date())
    if violations:
        raise Refused(Refusal.BUSINESS_RULE, "OUTSIDE_PRODUCT_TERMS", f"the application is outside the terms of {product.code}", violations)
    resident = application.applicant.resident_id
    try:
        branch = assign(resident.division_code, division_table(config_repository.branches()), partner.default_branch)
    except NoBranch as exc:
        raise Refused(Refusal.BUSINESS_RULE, "NO_BRANCH", str(exc), [Violation("applicant.id_number", "no branch serves this region")]) from exc

    now = _now()
    application_id = identifiers.application_id(now)
    personal = _personal_data(application)
    id_hash = pii_vault.keyed_hash(resident.number)
    customer_id, _ = customers.find_or_create(
        id_hash, branch.branch_code, pii_vault.seal(personal, {"customer": id_hash}), now.isoformat()
    )
    item = ApplicationItem(
        application_id=application_id,
        partner_id=partner.partner_id,
        partner_application_no=application.partner_application_no,
        fingerprint=print_,
        status=ApplicationStatus.RECEIVED.value,
        branch_code=branch.branch_code,
        branch_status=applications.branch_status(branch.branch_code, ApplicationStatus.RECEIVED.value),
        id_hash=id_hash,
        branch_reason=branch.reason,
        customer_id=customer_id,
        product_code=application.product_code,
        created_at=now.isoformat(),
        updated_at=now.isoformat(),
    )
    document = applications.document(application_id, masked(application), pii_vault.seal(personal, {"application_id": application_id}))
    return store_once(
        item, document, lambda: origination.start(sfn, application_id, _review_timeout(product)), lambda claim: _replay(claim, print_, sfn)
    )


def store_once(item: ApplicationItem, document: DocumentItem, start: Callable[[], Any], replay: Callable[[ApplicationItem], Received]) -> Received:
    """Store a new application (or drawdown) with its document and its idempotency item and ``start`` its
    workflow; when a concurrent duplicate won the partner's number, answer ``replay(its claim)``."""
    for attempt in range(CREATE_ATTEMPTS):
        if applications.create(item, document):
            start()
            return Received(item.application_id, item.status, created=True)
        claim = applications.find(item.partner_id, item.partner_application_no)
        if claim is not None:  # a concurrent duplicate won
            return replay(claim)
        time.sleep(0.02 * 2**attempt)  # its transaction is still in flight
    raise RuntimeError("could not store the application: contention on its partner application number")


def _partner_view_of(decision: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a partner learns of a decision: the outcome, the reason codes, the limit and rate (not the score)."""
    if not decision:
        return None
    return {k: decision.get(k) for k in ("outcome", "reasons", "approved_limit", "annual_rate")}


def _partner_offer(offer: dict[str, Any] | None) -> dict[str, Any] | None:
    """The offer as the partner shows it to the borrower (not the bank's internal reservation)."""
    if not offer:
        return None
    shown = {k: offer.get(k) for k in ("type", "amount", "annual_rate", "term_months", "funders", "joint", "expires_at")}
    shown["type"] = shown["type"] or "LOAN"  # offers made before lines existed
    if offer.get("credit_line_id"):
        shown["credit_line_id"] = offer["credit_line_id"]
    if offer.get("line_expires_on"):
        shown["line_expires_on"] = offer["line_expires_on"]
    return shown


def _partner_routing(trail: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The routing trail: each channel tried, each funder's answer (or timeout) and its time."""
    routing = (trail or {}).get("routing")
    if not routing:
        return None
    return [
        {"channel": a["channel"], "result": a["result"], "answers": [{k: x.get(k) for k in ("funder", "approved", "reason", "ms")} for x in a["answers"]]}
        for a in routing.get("attempts", [])
    ]


def view(partner: Partner, application_id: str) -> dict[str, Any]:
    """What the owning partner may see of an application; another partner's is not found."""
    item = applications.get(application_id) if application_id.startswith("AP") else None
    if item is None or item.partner_id != partner.partner_id:
        raise Refused(Refusal.NOT_FOUND, "NOT_FOUND", "no such application")
    return {
        "application_id": item.application_id,
        "partner_application_no": item.partner_application_no,
        "status": item.status,
        "branch_code": item.branch_code,
        "decision": _partner_view_of(item.decision),
        "offer": _partner_offer(item.offer),
        "kind": item.kind or "APPLICATION",
        "credit_line_id": item.credit_line_id,
        "acceptance": {k: (item.acceptance or {}).get(k) for k in ("accepted", "accepted_at")} if item.acceptance else None,
        "contract": {"contract_no": item.contract["contract_no"], "sha256": item.contract["contract"]["sha256"], "signed": True} if item.contract else None,
        # from DISBURSING on; a disbursement that failed before booking (an invalid card) has none
        "loan_id": (item.disbursement or {}).get("loan_id") if item.status == ApplicationStatus.DISBURSEMENT_FAILED.value else item.loan_id,
        "disbursement": item.disbursement,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "routing": _partner_routing(applications.trail_of(item, parts=(applications.ROUTING,))),
        "application": item.application,
    }
