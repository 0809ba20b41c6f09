"""The electronic contract (电子合同): generated, sealed by the branch (CA加签), archived (影像平台).

The ``Sign`` step of the origination workflow, after the borrower accepted:

1. the contract's terms from the offer, the decision and the borrower's sealed
   personal data (a drawdown's are its line application's);
2. the contract and the credit-inquiry authorisation letter rendered as PDFs
   from the product's (or the branch's) template;
3. both signed (PAdES) with the branch's certificate through the CA port;
4. both archived in S3 (Object Lock), their keys, versions and SHA-256 stored on
   the application; a credit line's agreement, once signed, makes the line usable.

Safe to retry: a step that already recorded its contract answers it; one that
died after archiving archives again (a new object version) and records that.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import settings
from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.domain.credit_line import DRAWDOWN
from chalicelib.domain.schedule import RepaymentMethod
from chalicelib.observability import logger, metrics
from chalicelib.persistence import applications, archive, config_repository, credit_lines, pii_vault
from chalicelib.usecases.errors import Refusal, Refused
from chalicelib.usecases.origination import ApplicationNotFound

SIGNING_REASON = "借款合同签署 (loan contract)"
AUTHORISATION_REASON = "征信查询授权 (credit inquiry authorisation)"


class NotReadyToSign(Exception):
    """The application is not accepted (a workflow defect: signing runs after acceptance only)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def personal_data(item: Any) -> dict[str, str]:
    """The borrower's personal data, unsealed for the contract only (never logged or stored in the clear)."""
    source = item
    if item.kind == DRAWDOWN:
        source = applications.get(item.application["line_application_id"])
        if source is None:
            raise ApplicationNotFound(item.application["line_application_id"])
    return pii_vault.unseal(source.sealed_pii, {"application_id": source.application_id})


def terms_of(item: Any, signing_date: date) -> Any:
    """The contract's terms (``domain.contract.ContractTerms``) of an accepted application."""
    from chalicelib.domain.contract import Borrower, ContractTerms, FunderShare, contract_no
    from chalicelib.domain.money import to_fen

    offer, decision = item.offer, item.decision
    product = config_repository.product(item.product_code)
    branch = config_repository.branch(item.branch_code)
    if product is None or branch is None:
        raise LookupError(f"product {item.product_code} or branch {item.branch_code} is not configured")
    personal = personal_data(item)
    names = {f.code: f.name for f in config_repository.funders()}
    amount = Decimal(offer["amount"])
    shares = [(f["funder"], Decimal(f["amount"])) for f in offer["funders"]]
    funders = tuple(
        FunderShare(code=code, name=names.get(code, code), amount=share, ratio=(share / amount).quantize(Decimal("0.0001")), lead=index == 0)
        for index, (code, share) in enumerate(shares)
    )
    assert sum((share for _, share in shares), Decimal(0)) == to_fen(amount)
    return ContractTerms(
        contract_no=contract_no(item.application_id),
        kind=offer.get("type") or "LOAN",
        application_id=item.application_id,
        credit_line_id=offer.get("credit_line_id"),
        product_code=product.code,
        product_name=product.name,
        branch_code=branch.branch_code,
        branch_name=branch.name,
        borrower=Borrower(
            name=personal["name"],
            id_number=personal["id_number"],
            mobile=personal["mobile"],
            card_number=personal["card_number"],
            bank_name=item.application["account"]["bank_name"],
        ),
        funders=funders,
        amount=amount,
        annual_rate=Decimal(decision["annual_rate"]),
        term_months=int(offer["term_months"]),
        repayment_method=RepaymentMethod(item.application["repayment_method"]),
        start_date=signing_date,
        accepted_at=datetime.fromisoformat(item.acceptance["accepted_at"]),
        line_expires_on=date.fromisoformat(offer["line_expires_on"]) if offer.get("line_expires_on") else None,
    )


def sign(application_id: str) -> dict[str, Any]:
    """Workflow step: the signed contract and authorisation, archived and recorded."""
    from chalicelib.documents.authorisation_pdf import render_authorisation
    from chalicelib.documents.contract_pdf import render_contract
    from chalicelib.ports.ca import branch_signer

    item = applications.get(application_id)
    if item is None:
        raise ApplicationNotFound(application_id)
    if item.contract:  # a retried step
        disburse = (item.offer or {}).get("type") != "CREDIT_LINE"
        return {"application_id": application_id, "status": item.status, "sha256": item.contract["contract"]["sha256"], "disburse": disburse}
    if item.status != S.SIGNING.value or not (item.acceptance or {}).get("accepted"):
        raise NotReadyToSign(f"application {application_id} is {item.status}")
    now = _now()
    terms = terms_of(item, config_repository.business_date())
    template = config_repository.contract_template(item.product_code, item.branch_code)
    if template is None:
        raise LookupError(f"no contract template for {item.product_code} at {item.branch_code}")
    signer = branch_signer(item.branch_code)
    location = config_repository.branch(item.branch_code).name
    documents = {
        "contract": signer.sign(render_contract(terms, template), reason=SIGNING_REASON, location=location),
        "authorisation": signer.sign(render_authorisation(terms, template), reason=AUTHORISATION_REASON, location=location),
    }
    archived = {kind: archive.put(item.branch_code, application_id, kind, body, now) for kind, body in documents.items()}
    record = {
        "contract_no": terms.contract_no,
        "signer": signer.subject,
        "signed_at": now.isoformat(),
        **{kind: {"key": a.key, "version_id": a.version_id, "sha256": a.sha256, "size": a.size} for kind, a in archived.items()},
    }
    try:
        applications.transition(application_id, S.SIGNING.value, {S.SIGNING.value}, now.isoformat(), unset="contract", contract=record)
    except applications.StatusConflict:
        # Another run of this step (an Express leg runs at least once) recorded its contract first: that
        # one is the contract; this run's archived versions stay unreferenced under the retention lock.
        logger.warning("contract signed twice at once: the first recorded is kept", extra={"application_id": application_id})
        return sign(application_id)
    if terms.kind == "CREDIT_LINE" and terms.credit_line_id:
        credit_lines.activate(terms.credit_line_id, now.isoformat())
    metrics.add_metric(name="ContractsSigned", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ContractBytes", unit=MetricUnit.Bytes, value=record["contract"]["size"])
    logger.info("contract signed", extra={"application_id": application_id, "contract_no": terms.contract_no, "sha256": record["contract"]["sha256"]})
    # a loan or a drawdown is disbursed next; a credit line's signed agreement only makes the line usable
    return {"application_id": application_id, "status": S.SIGNING.value, "sha256": record["contract"]["sha256"], "disburse": terms.kind != "CREDIT_LINE"}


def view(partner: Any, application_id: str) -> dict[str, Any]:
    """The owning partner's time-limited links to the signed contract and authorisation, with their hashes."""
    item = applications.get(application_id) if application_id.startswith("AP") else None
    if item is None or item.partner_id != partner.partner_id:
        raise Refused(Refusal.NOT_FOUND, "NOT_FOUND", "no such application")
    if not item.contract:
        raise Refused(Refusal.NOT_FOUND, "CONTRACT_NOT_READY", f"the application is {item.status}: no signed contract yet")
    seconds = int(settings.env("CONTRACT_LINK_SECONDS", "600"))
    contract, authorisation = item.contract["contract"], item.contract["authorisation"]
    return {
        "contract_no": item.contract["contract_no"],
        "url": archive.link(contract["key"], contract.get("version_id"), seconds),
        "sha256": contract["sha256"],
        "signed": True,
        "signer": item.contract["signer"],
        "signed_at": item.contract["signed_at"],
        "expires_in": seconds,
        "authorisation": {"url": archive.link(authorisation["key"], authorisation.get("version_id"), seconds), "sha256": authorisation["sha256"]},
    }
