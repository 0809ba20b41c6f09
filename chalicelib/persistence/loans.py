"""Loan accounts, repayments and the partners' event feed, each change with its posting in one transaction.

Items of the loans table
------------------------

==============================  ==============================  =============================================
pk                              sk                              attributes
==============================  ==============================  =============================================
``LOAN#<loan id>``              ``LOAN``                        ``document`` (the loan: schedule, paid amounts,
                                                                receivables), ``version``, ``status``,
                                                                ``branch_status``, ``payment``, ``contract``,
                                                                ``borrower`` (sealed)
``LOAN#<loan id>``              ``REPAYMENT#<partner's no>``    ``fingerprint`` (of the request), ``answer``
                                                                (the allocation), ``posting_id``
``EVENTS#<partner id>``         ``<time>#<event id>``           ``event`` (what the partner polls), TTL
==============================  ==============================  =============================================

Every change of a loan is ONE ``TransactWriteItems``: the loan under the
condition that its ``version`` is the one read (optimistic locking: of two
concurrent repayments one wins, the other is retried on the new state), its
posting and account totals (``persistence/ledger.py``), the branch's count of
loans by class when it moves (``persistence/loan_class_counts.py``), the repayment record
under ``attribute_not_exists`` (a partner's number is taken once), a revolving
line's quota given back, and the partner's event. Either all of it is
written, or none.
"""
from __future__ import annotations

import base64
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib import resources, settings
from chalicelib.domain.classification import LoanClass
from chalicelib.domain.ledger import Posting
from chalicelib.domain.loan import ClassChange, FunderShare, Installment, Loan, LoanStatus, PrepaymentMode, PrepaymentPolicy
from chalicelib.domain.money import format_amount
from chalicelib.domain.schedule import RepaymentMethod
from chalicelib.persistence import ledger, loan_class_counts
from chalicelib.persistence.models import LazyModel, table_meta, transaction_connection

RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


class ByBranchStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = resources.LOANS_TABLE.indexes[0].name
        projection = KeysOnlyProjection()

    branch_status = UnicodeAttribute(hash_key=True)
    loan_id = UnicodeAttribute(range_key=True)


class LoanItem(LazyModel):
    Meta = table_meta(resources.LOANS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    loan_id = UnicodeAttribute()
    application_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    branch_code = UnicodeAttribute()
    status = UnicodeAttribute()
    branch_status = UnicodeAttribute()
    version = NumberAttribute()
    document = JSONAttribute()
    payment = JSONAttribute(null=True)  # payment_id, state (NEW, SENT, PAID, FAILED, IN_DOUBT), reference, queries...
    payment_state = UnicodeAttribute(null=True)  # the payment's state again, for conditions
    settled_on = UnicodeAttribute(null=True)  # the day a loan was settled (the day end closes its collection case)
    contract = JSONAttribute(null=True)  # the signed contract's number and hashes
    borrower = JSONAttribute(null=True)  # name and ID number, sealed (pii_vault, context loan_id): the credit report's
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    by_branch_status = ByBranchStatus()


class RepaymentItem(LazyModel):
    Meta = table_meta(resources.LOANS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    fingerprint = UnicodeAttribute()
    answer = JSONAttribute()
    posting_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class EventItem(LazyModel):
    Meta = table_meta(resources.LOANS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    event = JSONAttribute()
    expires_at = NumberAttribute()


class VersionConflict(Exception):
    """A condition of a loan's change failed: the loan changed since it was read (a concurrent
    change won), or its repayment or posting is recorded already. Read again and decide."""


class AlreadyExists(Exception):
    """The loan, or the repayment with this partner number, is already recorded."""


# -- the loan as a document -----------------------------------------------------------------------


def to_document(loan: Loan) -> dict[str, Any]:
    money = format_amount
    return {
        "loan_id": loan.loan_id,
        "application_id": loan.application_id,
        "branch_code": loan.branch_code,
        "partner_id": loan.partner_id,
        "product_code": loan.product_code,
        "customer_id": loan.customer_id,
        "amount": money(loan.amount),
        "annual_rate": str(loan.annual_rate),
        "method": loan.method.value,
        "start_date": loan.start_date.isoformat(),
        "installments": [
            [i.period, i.due_date.isoformat(), money(i.principal), money(i.interest), money(i.penalty),
             money(i.paid_principal), money(i.paid_interest), money(i.paid_penalty)]
            for i in loan.installments
        ],
        "funders": [[f.funder, money(f.amount), money(f.outstanding)] for f in loan.funders],
        "prepayment": {"allowed": loan.prepayment.allowed, "mode": loan.prepayment.mode.value, "fee_rate": str(loan.prepayment.fee_rate)},
        "penalty_markup": str(loan.penalty_markup),
        "status": loan.status.value,
        "interest_receivable": money(loan.interest_receivable),
        "interest_recognised": money(loan.interest_recognised),
        "accrued_through": loan.accrued_through.isoformat() if loan.accrued_through else None,
        "settled_on": loan.settled_on.isoformat() if loan.settled_on else None,
        "credit_line_id": loan.credit_line_id,
        "term_months": loan.term_months,
        "partner_application_no": loan.partner_application_no,
        "loan_class": loan.loan_class.value,
        "dpd_at_close": loan.dpd_at_close,
        "last_repaid_on": loan.last_repaid_on.isoformat() if loan.last_repaid_on else None,
        "repaid_that_day": money(loan.repaid_that_day),
        "class_history": [[c.day.isoformat(), c.before.value, c.after.value, c.days_past_due] for c in loan.class_history],
        "version": loan.version,
    }


def from_document(doc: dict[str, Any]) -> Loan:
    D = Decimal
    return Loan(
        loan_id=doc["loan_id"],
        application_id=doc["application_id"],
        branch_code=doc["branch_code"],
        partner_id=doc["partner_id"],
        product_code=doc["product_code"],
        customer_id=doc["customer_id"],
        amount=D(doc["amount"]),
        annual_rate=D(doc["annual_rate"]),
        method=RepaymentMethod(doc["method"]),
        start_date=date.fromisoformat(doc["start_date"]),
        installments=tuple(
            Installment(p, date.fromisoformat(due), D(a), D(b), D(c), D(d), D(e), D(f)) for p, due, a, b, c, d, e, f in doc["installments"]
        ),
        funders=tuple(FunderShare(code, D(amount), D(outstanding)) for code, amount, outstanding in doc["funders"]),
        prepayment=PrepaymentPolicy(doc["prepayment"]["allowed"], PrepaymentMode(doc["prepayment"]["mode"]), D(doc["prepayment"]["fee_rate"])),
        penalty_markup=D(doc["penalty_markup"]),
        status=LoanStatus(doc["status"]),
        interest_receivable=D(doc["interest_receivable"]),
        interest_recognised=D(doc["interest_recognised"]),
        accrued_through=date.fromisoformat(doc["accrued_through"]) if doc.get("accrued_through") else None,
        settled_on=date.fromisoformat(doc["settled_on"]) if doc.get("settled_on") else None,
        credit_line_id=doc.get("credit_line_id"),
        term_months=int(doc.get("term_months") or len(doc["installments"])),
        partner_application_no=doc.get("partner_application_no"),
        loan_class=LoanClass(doc.get("loan_class") or LoanClass.NORMAL.value),
        dpd_at_close=int(doc.get("dpd_at_close") or 0),
        last_repaid_on=date.fromisoformat(doc["last_repaid_on"]) if doc.get("last_repaid_on") else None,
        repaid_that_day=D(doc.get("repaid_that_day") or "0.00"),
        class_history=tuple(
            ClassChange(date.fromisoformat(day), LoanClass(before), LoanClass(after), int(dpd)) for day, before, after, dpd in doc.get("class_history") or ()
        ),
        version=int(doc["version"]),
    )


def _key(loan_id: str) -> str:
    return f"LOAN#{loan_id}"


def branch_status(branch_code: str, status: LoanStatus) -> str:
    return f"{branch_code}#{status.value}"


# -- reading --------------------------------------------------------------------------------------


def record(loan_id: str) -> LoanItem | None:
    try:
        return LoanItem.get(_key(loan_id), "LOAN", consistent_read=True)
    except LoanItem.DoesNotExist:
        return None


def get(loan_id: str) -> Loan | None:
    item = record(loan_id)
    return from_document(item.document) if item else None


def of_branch(branch_code: str, status: LoanStatus) -> Iterable[str]:
    """The ids of a branch's loans in one status (the day end walks the ACTIVE ones); the index
    holds keys only, so each loan is read by ``get`` when it is needed."""
    for item in LoanItem.by_branch_status.query(branch_status(branch_code, status)):
        yield item.loan_id


def repayment(loan_id: str, partner_repayment_no: str) -> RepaymentItem | None:
    try:
        return RepaymentItem.get(_key(loan_id), f"REPAYMENT#{partner_repayment_no}", consistent_read=True)
    except RepaymentItem.DoesNotExist:
        return None





def cursor_of(sk: str) -> str:
    """An opaque cursor (URL-safe, nothing to escape in a signed query string)."""
    return base64.urlsafe_b64encode(sk.encode("utf-8")).decode("ascii").rstrip("=")


def sort_key_of(cursor: str) -> str:
    """The event sort key a cursor stands for; ``ValueError`` for anything this API did not give."""
    try:
        sk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor") from exc
    if "#" not in sk or not sk[:4].isdigit():
        raise ValueError("not a cursor")
    return sk


def events(partner_id: str, after: str | None, limit: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """The partner's events after the cursor ``after`` (oldest first), each with its cursor.

    An event's sort key is the time just before its write; a write in flight may commit a
    moment after a later one. With ``now`` (the API), only events older than
    ``EVENT_SETTLE_SECONDS`` are served, so a cursor never passes an event that is still to
    appear before it; without it, every event stored (checks and tests).
    """
    horizon = "\uffff"
    if now is not None:
        settle = float(settings.env("EVENT_SETTLE_SECONDS", "5"))
        horizon = (now - timedelta(seconds=settle)).isoformat(timespec="microseconds")
    if after and sort_key_of(after) >= horizon:
        return []
    condition = EventItem.sk.between(sort_key_of(after) + "\x00", horizon) if after else EventItem.sk < horizon
    found = EventItem.query(f"EVENTS#{partner_id}", condition, limit=limit, scan_index_forward=True)
    return [{**item.event, "cursor": cursor_of(item.sk)} for item in found]


# -- writing --------------------------------------------------------------------------------------


def _event_item(partner_id: str, event: dict[str, Any], occurred: datetime) -> EventItem:
    """The event keyed by the time of its write (taken now, not when the step began)."""
    days = int(settings.env("EVENT_RETENTION_DAYS", "30"))
    written = datetime.now(timezone.utc)
    return EventItem(
        f"EVENTS#{partner_id}",
        f"{written.isoformat(timespec='microseconds')}#{event['event_id']}",
        event={**event, "occurred_at": occurred.isoformat()},
        expires_at=int((written + timedelta(days=days)).timestamp()),
    )


def put_event(partner_id: str, event: dict[str, Any], occurred: datetime) -> None:
    """An event of its own (no loan change goes with it). Written before the change it announces,
    so a crash in between announces it again: at least once, the same ``event_id``."""
    _event_item(partner_id, event, occurred).save()


class _ConditionFailed(Exception):
    """A condition of one of the transaction's items failed (which one, the caller must read)."""


def _run(write: Any) -> None:
    """One transaction, retried briefly on contention; ``_ConditionFailed`` when a condition failed."""
    for attempt in range(6):
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                write(tx)
            return
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if "ConditionalCheckFailed" in reasons:
                raise _ConditionFailed(str(exc)) from exc
            if set(reasons) & RETRYABLE and attempt < 5:
                time.sleep(0.02 * 2**attempt)
                continue
            raise


def book(
    loan: Loan, posting: Posting, now: datetime, payment: dict[str, Any], contract: dict[str, Any] | None, borrower: dict[str, Any] | None = None
) -> None:
    """Record a new loan and its disbursement posting; ``AlreadyExists`` when it is booked already.
    ``borrower``: the borrower's name and ID number as ``pii_vault.seal`` made them (context: the loan id)."""
    stamp = now.isoformat()

    def write(tx: TransactWrite) -> None:
        tx.save(
            LoanItem(
                _key(loan.loan_id), "LOAN", loan_id=loan.loan_id, application_id=loan.application_id, partner_id=loan.partner_id,
                branch_code=loan.branch_code, status=loan.status.value, branch_status=branch_status(loan.branch_code, loan.status),
                version=loan.version, document=to_document(loan), payment=payment, payment_state=payment["state"], contract=contract, borrower=borrower, created_at=stamp, updated_at=stamp,
            ),
            condition=LoanItem.pk.does_not_exist(),
        )
        ledger.add_to(tx, posting, stamp)
        loan_class_counts.add_to(tx, None, loan)

    try:
        _run(write)
    except _ConditionFailed as exc:  # the loan or its posting exists
        raise AlreadyExists(loan.loan_id) from exc


def save(
    before: Loan,
    after: Loan,
    now: datetime,
    posting: Posting | None = None,
    repayment_no: str | None = None,
    repayment_record: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    line_restore: tuple[str, Decimal] | None = None,
    payment: dict[str, Any] | None = None,
) -> None:
    """Write ``after`` over ``before`` (``VersionConflict`` if it changed meanwhile) with what goes with it."""
    stamp = now.isoformat()

    def write(tx: TransactWrite) -> None:
        actions = [
            LoanItem.document.set(to_document(after)),
            LoanItem.version.set(after.version),
            LoanItem.status.set(after.status.value),
            LoanItem.branch_status.set(branch_status(after.branch_code, after.status)),
            LoanItem.updated_at.set(stamp),
        ]
        if after.settled_on is not None and before.settled_on is None:
            actions.append(LoanItem.settled_on.set(after.settled_on.isoformat()))
        if payment is not None:
            actions += [LoanItem.payment.set(payment), LoanItem.payment_state.set(payment["state"])]
        tx.update(LoanItem(_key(before.loan_id), "LOAN"), actions=actions, condition=LoanItem.version == before.version)
        if repayment_no is not None:
            tx.save(
                RepaymentItem(_key(before.loan_id), f"REPAYMENT#{repayment_no}", created_at=stamp, **(repayment_record or {})),
                condition=RepaymentItem.pk.does_not_exist(),
            )
        if posting is not None:
            ledger.add_to(tx, posting, stamp)
        if line_restore is not None and line_restore[1] > 0:
            from chalicelib.persistence.quotas import QuotaItem, quota_key

            line_id, amount = line_restore
            tx.update(
                QuotaItem(quota_key("LINE", line_id), "TOTAL"),
                actions=[QuotaItem.remaining.set(QuotaItem.remaining + amount)],
                condition=QuotaItem.pk.exists(),
            )
        if event is not None:
            tx.save(_event_item(after.partner_id, event, now))
        loan_class_counts.add_to(tx, before, after)  # the dashboard's count, when the counted class moves

    try:
        _run(write)
    except _ConditionFailed as exc:
        # DynamoDB names the item whose condition failed by its index in the request, but PynamoDB
        # sends puts before updates, not in the order added: the caller reads what changed.
        raise VersionConflict(f"{before.loan_id}: the loan changed, or the repayment or posting is recorded already") from exc


def set_payment(loan_id: str, payment: dict[str, Any], now: datetime, expected_state: str | None = None) -> bool:
    """Record the payment's progress; with ``expected_state``, only if it is still in that state."""
    item = LoanItem(_key(loan_id), "LOAN")
    condition = LoanItem.payment_state == expected_state if expected_state else LoanItem.pk.exists()
    actions = [LoanItem.payment.set(payment), LoanItem.payment_state.set(payment["state"]), LoanItem.updated_at.set(now.isoformat())]
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
