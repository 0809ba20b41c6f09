"""Disbursement (放款): the card checked, the loan booked, the money paid; on failure, reversed (冲正).

The ``Disburse`` step of the origination workflow, after the contract is signed:

1. ``SIGNING`` -> ``DISBURSING``; the borrower's card checked through the
   payment gateway (an invalid card fails the disbursement before anything is
   booked);
2. the loan booked (``LN`` + the application's id): its account and schedule
   (from the business date) and the disbursement posting (Dr loans receivable
   per funder / Cr payment clearing), in one transaction;
3. the payment, with an idempotency key derived from the loan
   (``PAY-<loan id>``): the gateway never pays an id twice. Before it is sent
   the loan's payment is marked SENT; a step that finds it SENT (a retry, a
   timeout) **queries** the gateway and never pays blindly: only a gateway
   that says it never received the id (NOT_FOUND) is asked to pay again, with
   the same id;
4. PAID: the loan ACTIVE, the application ``DISBURSED``, the partner's
   ``LOAN_DISBURSED`` event, the customer's funders remembered (routing
   prefers funders a borrower already has). FAILED (card refused, platform
   funds short, declined): the reversal posting, the loan VOID, the quota
   reserved at routing released, the application ``DISBURSEMENT_FAILED``, the
   partner's ``DISBURSEMENT_FAILED`` event;
5. no answer yet (PROCESSING, a timeout): the step answers PENDING with the
   seconds to wait (``PAYMENT_QUERY_SECONDS``) for the first
   ``PAYMENT_QUERIES_IN_LEG`` queries: the workflow's leg waits and runs it
   again (a query); later ones with 0 seconds: the leg ends and the origination
   watch starts a DISBURSE leg to query again on its next round (an Express leg
   lasts five minutes at most). After ``PAYMENT_QUERY_ATTEMPTS`` queries the
   payment is IN_DOUBT: nothing is reversed (the money may have left), the
   workflow fails visibly and an operator resolves it by querying.

``give_up`` (the workflow's catch-all): what was never sent is reversed; what
was sent is queried once more and settled by the answer; still unknown, it
is IN_DOUBT. Every path is safe to run again.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import settings
from chalicelib.domain import accounting
from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.domain.credit_line import DRAWDOWN
from chalicelib.domain.loan import Loan, LoanStatus, book, loan_id_for
from chalicelib.domain.schedule import RepaymentMethod, build_schedule
from chalicelib.observability import logger, metrics
from chalicelib.persistence import applications, config_repository, customers, loans, quotas
from chalicelib.ports.payments import (
    GatewayUnavailable,
    Payee,
    PaymentGateway,
    PaymentOrder,
    PaymentResult,
    PaymentStatus,
    PaymentTimeout,
)
from chalicelib.usecases.origination import ApplicationNotFound

CARD_CHECK_SECONDS = 10.0
PAY_SECONDS = 20.0
NEW, SENT, PAID, FAILED, IN_DOUBT = "NEW", "SENT", "PAID", "FAILED", "IN_DOUBT"


class NotReadyToDisburse(Exception):
    """The application has no signed contract (a workflow defect: disbursement runs after signing)."""


class PaymentGatewayBusy(Exception):
    """The gateway could not be reached for a call that is safe to repeat: the workflow retries the step."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def payment_id(loan_id: str) -> str:
    """The payment's idempotency key: one per loan, so a retried step never pays twice."""
    return f"PAY-{loan_id}"


_simulators: dict[str, PaymentGateway] = {}


def gateway() -> PaymentGateway:
    """The configured payment gateway: the simulator (sandboxes, the local stack; its settings are
    configuration data ``SIMULATOR#PAYMENTS``; one per process and settings, so that it remembers
    its payments) or the gateway's API with the credentials in ``PAYMENT_CREDENTIALS``."""
    import json

    if settings.env("PAYMENT_GATEWAY_MODE", "simulator") == "simulator":
        conf = config_repository.payment_simulator()
        key = json.dumps(conf, sort_keys=True)
        if key not in _simulators:
            from chalicelib.ports.payments import SimulatedPaymentGateway

            _simulators[key] = SimulatedPaymentGateway(
                platform_balance=Decimal(conf.get("platform_balance", "100000000.00")),
                card_rules=conf.get("card_rules", {}),
                pending_queries=int(conf.get("pending_queries", 1)),
            )
        return _simulators[key]
    from chalicelib.persistence import secure_parameters
    from chalicelib.ports.payments import HttpPaymentGateway

    path = settings.resource_env("payment_credentials")
    client_id = secure_parameters.read(f"{path}/client_id", 300)
    client_secret = secure_parameters.read(f"{path}/client_secret", 300)
    if not client_id or not client_secret:
        raise settings.ConfigurationError("the payment gateway's client credentials are not configured")
    return HttpPaymentGateway(settings.env("PAYMENT_GATEWAY_URL"), client_id, client_secret)


def _payee(item: Any) -> Payee:
    from chalicelib.usecases.contracting import personal_data

    personal = personal_data(item)
    return Payee(card_number=personal["card_number"], account_name=personal["name"], bank_name=item.application["account"]["bank_name"])


def _borrower(item: Any, loan_id: str) -> dict[str, Any]:
    """The borrower's name and ID number sealed for the loan (the day end's credit-bureau record)."""
    from chalicelib.persistence import pii_vault
    from chalicelib.usecases.contracting import personal_data

    personal = personal_data(item)
    return pii_vault.seal({"name": personal["name"], "id_number": personal["id_number"]}, {"loan_id": loan_id})


def _new_loan(item: Any, day: date) -> Loan:
    offer = item.offer
    product = config_repository.product(item.product_code)
    if product is None:
        raise LookupError(f"product {item.product_code} is not configured")
    schedule = build_schedule(
        Decimal(offer["amount"]),
        Decimal(item.decision["annual_rate"]),
        int(offer["term_months"]),
        RepaymentMethod(item.application["repayment_method"]),
        day,
    )
    return book(
        loan_id=loan_id_for(item.application_id),
        application_id=item.application_id,
        branch_code=item.branch_code,
        partner_id=item.partner_id,
        product_code=item.product_code,
        customer_id=item.customer_id,
        schedule=schedule,
        funders=[(f["funder"], Decimal(f["amount"])) for f in offer["funders"]],
        prepayment=product.prepayment.policy(),
        penalty_markup=product.penalty_markup,
        credit_line_id=item.credit_line_id if item.kind == DRAWDOWN else None,
        partner_application_no=item.partner_application_no,
    )


def _contract(item: Any) -> dict[str, Any]:
    c = item.contract
    return {"contract_no": c["contract_no"], "contract_sha256": c["contract"]["sha256"], "authorisation_sha256": c["authorisation"]["sha256"]}


def _answer(application_id: str, status: str, loan_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"application_id": application_id, "status": status, "loan_id": loan_id, "wait_seconds": 0, **extra}


# -- the ends ---------------------------------------------------------------------------------------


def _finish_failed(item: Any, reason: str, loan_id: str | None, now: datetime) -> dict[str, Any]:
    """The application DISBURSEMENT_FAILED, its reservation released, the partner told (once)."""
    reservation = (item.offer or {}).get("reservation")
    if reservation:
        quotas.release(reservation, now)  # once, however often this runs
    failed_at = (item.disbursement or {}).get("failed_at") or now.isoformat()
    reasons = (item.decision or {}).get("reasons", [])
    if loan_id is None:  # before the status: a crash in between announces it again (a loan's is written with its reversal)
        loans.put_event(item.partner_id, _event("DISBURSEMENT_FAILED", item, None, reason=reason), datetime.fromisoformat(failed_at))
    applications.transition(
        item.application_id, S.DISBURSEMENT_FAILED.value, {S.SIGNING.value, S.DISBURSING.value}, now.isoformat(),
        decision={**(item.decision or {}), "reasons": reasons if reason in reasons else [*reasons, reason]},
        disbursement={"failed_at": failed_at, "reason": reason, "loan_id": loan_id},
    )
    metrics.add_metric(name="DisbursementsFailed", unit=MetricUnit.Count, value=1)
    logger.info("disbursement failed", extra={"application_id": item.application_id, "reason": reason})
    return _answer(item.application_id, S.DISBURSEMENT_FAILED.value, loan_id, reason=reason)


def _event(kind: str, item: Any, loan_id: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"{kind}#{item.application_id}",
        "type": kind,
        "application_id": item.application_id,
        "partner_application_no": item.partner_application_no,
        "loan_id": loan_id,
        **fields,
    }


def _reverse(item: Any, loan: Loan, record: Any, reason: str, now: datetime) -> dict[str, Any]:
    """冲正: the disbursement posting reversed by a new posting, the loan VOID, then the application failed."""
    day = config_repository.business_date()
    original = accounting.disbursement(loan, loan.start_date)
    after = replace(loan, status=LoanStatus.VOID, version=loan.version + 1)
    payment = {**(record.payment or {}), "state": FAILED, "reason": reason, "reversed_at": now.isoformat()}
    try:
        loans.save(
            loan, after, now, posting=original.reversal(day), payment=payment,
            event=_event("DISBURSEMENT_FAILED", item, loan.loan_id, reason=reason),
        )
    except loans.VersionConflict:
        current = loans.get(loan.loan_id)
        if current is None or current.status is not LoanStatus.VOID:
            raise
    metrics.add_metric(name="DisbursementsReversed", unit=MetricUnit.Count, value=1)
    return _finish_failed(item, reason, loan.loan_id, now)


def _succeed(item: Any, loan: Loan, record: Any, result: PaymentResult | None, now: datetime) -> dict[str, Any]:
    """The loan ACTIVE (with the payment's reference and the partner's event), then the application DISBURSED."""
    payment = record.payment or {}
    if loan.status is LoanStatus.DISBURSING:
        payment = {**payment, "state": PAID, "reference": result.reference, "paid_at": result.paid_at or now.isoformat()}
        after = replace(loan, status=LoanStatus.ACTIVE, version=loan.version + 1)
        event = _event(
            "LOAN_DISBURSED", item, loan.loan_id, amount=str(loan.amount), disbursed_on=loan.start_date.isoformat(),
            payment_reference=result.reference,
        )
        try:
            loans.save(loan, after, now, payment=payment, event=event)
        except loans.VersionConflict:
            current = loans.record(loan.loan_id)
            if current is None or current.status != LoanStatus.ACTIVE.value:
                raise
            payment = current.payment
        metrics.add_metric(name="LoansDisbursed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="DisbursedAmount", unit=MetricUnit.Count, value=float(loan.amount))
    if item.id_hash:
        customers.add_funders(item.id_hash, [f.funder for f in loan.funders])
    applications.transition(
        item.application_id, S.DISBURSED.value, {S.DISBURSING.value}, now.isoformat(),
        disbursement={"disbursed_on": loan.start_date.isoformat(), "payment_reference": payment.get("reference"), "paid_at": payment.get("paid_at"), "loan_id": loan.loan_id},
    )
    logger.info("loan disbursed", extra={"application_id": item.application_id, "loan_id": loan.loan_id})
    return _answer(item.application_id, S.DISBURSED.value, loan.loan_id)


# -- the payment ------------------------------------------------------------------------------------


def _outcome(port: PaymentGateway, loan: Loan, record: Any, item: Any, give_up: bool) -> PaymentResult | None:
    """The payment's outcome: paid or sent as needed, queried when it was sent before; None: unknown."""
    payment = record.payment
    pid = payment["payment_id"]
    if payment["state"] == NEW:
        if not loans.set_payment(loan.loan_id, {**payment, "state": SENT}, _now(), expected_state=NEW):
            return _outcome(port, loan, loans.record(loan.loan_id), item, give_up)  # another run sent it
        return _pay(port, loan, payment, item)
    try:
        found = port.query(pid, PAY_SECONDS)
    except (PaymentTimeout, GatewayUnavailable):
        return None
    if found.status is PaymentStatus.NOT_FOUND:  # never received: the same id again is safe
        return None if give_up else _pay(port, loan, payment, item)
    return None if found.status is PaymentStatus.PROCESSING else found


def _pay(port: PaymentGateway, loan: Loan, payment: dict[str, Any], item: Any) -> PaymentResult | None:
    order = PaymentOrder(payment_id=payment["payment_id"], loan_id=loan.loan_id, branch_code=loan.branch_code, amount=loan.amount, payee=_payee(item))
    try:
        result = port.pay(order, PAY_SECONDS)
    except PaymentTimeout:
        return None  # the outcome is unknown: queried next time
    except GatewayUnavailable as exc:
        # This request certainly did not arrive. If no earlier one could have (no outcome was ever
        # unknown), the payment is NEW again, so that giving up reverses it instead of leaving a
        # payment that never left in doubt; after a timeout an earlier request may still arrive,
        # so it stays SENT (queried, or IN_DOUBT, never reversed blindly).
        if int(payment.get("queries", 0)) == 0:
            loans.set_payment(loan.loan_id, {**payment, "state": NEW}, _now(), expected_state=SENT)
        raise PaymentGatewayBusy(f"payment: {type(exc).__name__}") from None
    return None if result.status is PaymentStatus.PROCESSING else result


def _unknown(item: Any, loan: Loan, record: Any, give_up: bool, now: datetime) -> dict[str, Any]:
    payment = record.payment
    queries = int(payment.get("queries", 0)) + 1
    attempts = int(settings.env("PAYMENT_QUERY_ATTEMPTS", "12"))
    doubtful = give_up or queries >= attempts
    if not loans.set_payment(loan.loan_id, {**payment, "state": IN_DOUBT if doubtful else SENT, "queries": queries}, now, expected_state=payment["state"]):
        return disburse(item.application_id, give_up)  # another run moved the payment on meanwhile: answer what it is now
    if doubtful:
        metrics.add_metric(name="PaymentsInDoubt", unit=MetricUnit.Count, value=1)
        logger.warning("payment outcome unknown: left IN_DOUBT", extra={"application_id": item.application_id, "loan_id": loan.loan_id, "queries": queries})
        return _answer(item.application_id, IN_DOUBT, loan.loan_id)
    in_leg = queries < int(settings.env("PAYMENT_QUERIES_IN_LEG", "3"))
    return _answer(item.application_id, "PENDING", loan.loan_id, wait_seconds=int(settings.env("PAYMENT_QUERY_SECONDS", "20")) if in_leg else 0)


def disburse(application_id: str, give_up: bool = False, port: PaymentGateway | None = None) -> dict[str, Any]:
    """Workflow step: ``DISBURSED``, ``DISBURSEMENT_FAILED``, ``PENDING`` (wait and run again) or
    ``IN_DOUBT``; safe to run any number of times."""
    item = applications.get(application_id)
    if item is None:
        raise ApplicationNotFound(application_id)
    loan_id = loan_id_for(application_id)
    if item.status in (S.DISBURSED.value, S.DISBURSEMENT_FAILED.value):
        return _answer(application_id, item.status, (item.disbursement or {}).get("loan_id"))
    if item.status not in (S.SIGNING.value, S.DISBURSING.value) or not item.contract:
        raise NotReadyToDisburse(f"application {application_id} is {item.status}")
    now = _now()
    port = port or gateway()
    record = loans.record(loan_id)
    if record is None:
        if item.status == S.SIGNING.value:
            item = applications.transition(application_id, S.DISBURSING.value, {S.SIGNING.value}, now.isoformat(), loan_id=loan_id)
        if give_up:
            return _finish_failed(item, "DISBURSEMENT_ERROR", None, now)
        try:
            check = port.check_card(_payee(item), CARD_CHECK_SECONDS)
        except (PaymentTimeout, GatewayUnavailable) as exc:
            raise PaymentGatewayBusy(f"card check: {type(exc).__name__}") from None
        if not check.valid:
            return _finish_failed(item, check.reason or "CARD_INVALID", None, now)
        loan = _new_loan(item, config_repository.business_date())
        try:
            loans.book(
                loan, accounting.disbursement(loan, loan.start_date), now, {"payment_id": payment_id(loan_id), "state": NEW, "queries": 0},
                _contract(item), _borrower(item, loan_id),
            )
        except loans.AlreadyExists:
            pass  # a concurrent run booked it
        record = loans.record(loan_id)
    loan = loans.from_document(record.document)
    if loan.status is LoanStatus.ACTIVE:
        return _succeed(item, loan, record, None, now)
    if loan.status is LoanStatus.VOID:
        return _finish_failed(item, (record.payment or {}).get("reason") or "DISBURSEMENT_ERROR", loan_id, now)
    if give_up and record.payment["state"] == NEW:
        return _reverse(item, loan, record, "DISBURSEMENT_ERROR", now)
    result = _outcome(port, loan, record, item, give_up)
    record = loans.record(loan_id)
    if result is None:
        return _unknown(item, loan, record, give_up, now)
    if result.status is PaymentStatus.PAID:
        return _succeed(item, loan, record, result, now)
    return _reverse(item, loan, record, result.reason or "PAYMENT_FAILED", now)
