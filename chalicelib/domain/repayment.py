"""Allocating a repayment (还款冲销顺序) to what a loan owes.

In this order, each step taking what is left of the amount:

1. what is overdue, the oldest installment first, each penalty, then
   interest, then principal;
2. the current installment (当期: the one due that day, else the first due
   after it): interest, then
   principal (not for a bullet loan, whose one installment carries the whole
   term's interest: before maturity it is only settled in full);
3. anything beyond is a prepayment (提前还款): the product's fee (if any) is
   taken out of it, the rest reduces the principal, and the installments after
   the current one are recomputed (the product's mode: lower installments, or
   a shorter term). A bullet loan, or a product that does not allow
   prepayment, is only prepaid in full.

An amount equal to the full settlement (``Loan.settlement``: what is due, the
principal not yet due with its interest to the day, and the fee) settles the
loan (提前结清). More than that is refused, never swallowed; so is a partial
prepayment that would clear every fen of principal without settling (pay the
settlement amount instead).

The result (``Allocation``) says where each fen went, and carries the loan as
it is afterwards. Pure: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from chalicelib.domain import schedule as schedules
from chalicelib.domain.loan import Installment, Loan, LoanStatus, PrepaymentMode, SettlementQuote, split
from chalicelib.domain.money import ZERO, format_amount, precise, to_fen
from chalicelib.domain.schedule import RepaymentMethod

PENALTY, INTEREST, PRINCIPAL, FEE = "PENALTY", "INTEREST", "PRINCIPAL", "FEE"


class RepaymentRefused(ValueError):
    """A repayment the loan cannot take: a code for the partner and why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Allocated:
    period: int
    component: str  # PENALTY, INTEREST, PRINCIPAL, FEE
    amount: Decimal
    kind: str  # DUE, CURRENT, PREPAYMENT, SETTLEMENT


@dataclass(frozen=True)
class Allocation:
    day: date
    amount: Decimal
    items: tuple[Allocated, ...]
    loan: Loan  # the loan afterwards
    settled: bool
    interest_from_receivable: Decimal  # the part of the interest that was accrued before (the rest is income now)
    principal_by_funder: tuple[tuple[str, Decimal], ...]
    interest_written_back: Decimal = ZERO  # accrued interest a settlement no longer charges (the to-the-day interest was less)

    def total(self, component: str) -> Decimal:
        return sum((i.amount for i in self.items if i.component == component), ZERO)

    @property
    def prepaid_principal(self) -> Decimal:
        return sum((i.amount for i in self.items if i.component == PRINCIPAL and i.kind in ("PREPAYMENT", "SETTLEMENT")), ZERO)

    @property
    def interest_to_income(self) -> Decimal:
        return self.total(INTEREST) - self.interest_from_receivable


def _check(loan: Loan, amount: Decimal) -> None:
    if loan.status is not LoanStatus.ACTIVE:
        raise RepaymentRefused("LOAN_NOT_ACTIVE", f"the loan is {loan.status.value}")
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or amount != to_fen(amount):
        raise RepaymentRefused("INVALID_AMOUNT", "the amount must be more than 0, exact to the fen")


class _Ledger:
    """The installments being paid, and what was allocated."""

    def __init__(self, loan: Loan, amount: Decimal):
        self.rows: dict[int, Installment] = {i.period: i for i in loan.installments}
        self.left = amount
        self.items: list[Allocated] = []

    def pay(self, period: int, component: str, kind: str) -> None:
        row = self.rows[period]
        owed = {PENALTY: row.unpaid_penalty, INTEREST: row.unpaid_interest, PRINCIPAL: row.unpaid_principal}[component]
        paid = min(self.left, owed)
        if paid <= 0:
            return
        field = {PENALTY: "paid_penalty", INTEREST: "paid_interest", PRINCIPAL: "paid_principal"}[component]
        self.rows[period] = replace(row, **{field: getattr(row, field) + paid})
        self.left -= paid
        self.items.append(Allocated(period, component, paid, kind))

    def add(self, period: int, component: str, amount: Decimal, kind: str) -> None:
        if amount > 0:
            self.left -= amount
            self.items.append(Allocated(period, component, amount, kind))


def _settle(loan: Loan, day: date, quote: SettlementQuote, book: _Ledger) -> None:
    for row in loan.due(day):
        for component in (PENALTY, INTEREST, PRINCIPAL):
            book.pay(row.period, component, "DUE" if row.due_date < day else "CURRENT")
    current = loan.next_after(day)
    if current is None:
        return
    later = [r for r in loan.installments if r.due_date > current.due_date]
    cur = book.rows[current.period]
    # the current row takes the rest of the principal and the interest to the day; later rows go
    book.rows[current.period] = replace(
        cur,
        principal=cur.principal + sum((r.principal for r in later), ZERO),
        paid_principal=cur.principal + sum((r.principal for r in later), ZERO),
        interest=cur.paid_interest + quote.interest,
        paid_interest=cur.paid_interest + quote.interest,
    )
    for row in later:
        del book.rows[row.period]
    book.add(current.period, INTEREST, quote.interest, "SETTLEMENT")
    book.add(current.period, PRINCIPAL, quote.principal, "SETTLEMENT")
    book.add(current.period, FEE, quote.fee, "SETTLEMENT")


def _prepay(loan: Loan, current: Installment, book: _Ledger, quote: SettlementQuote) -> None:
    if not loan.prepayment.allowed or loan.method is RepaymentMethod.BULLET:
        raise RepaymentRefused(
            "PREPAYMENT_NOT_ALLOWED",
            f"this loan is prepaid only in full: pay what is due, or exactly {format_amount(quote.total)} to settle",
        )
    rate = loan.prepayment.fee_rate
    with precise():
        fee = to_fen(book.left * rate / (1 + rate)) if rate else ZERO
    principal = book.left - fee
    later = [r for r in loan.installments if r.due_date > current.due_date]
    remaining = sum((r.unpaid_principal for r in later), ZERO)
    if principal >= remaining:
        raise RepaymentRefused(
            "SETTLE_IN_FULL", f"this would repay all the principal: to settle in full pay exactly {format_amount(quote.total)}"
        )
    cur = book.rows[current.period]
    book.rows[current.period] = replace(cur, principal=cur.principal + principal, paid_principal=cur.paid_principal + principal)
    book.add(current.period, FEE, fee, "PREPAYMENT")
    book.add(current.period, PRINCIPAL, principal, "PREPAYMENT")
    nxt = later[0]
    rows = schedules.reamortise(
        remaining - principal,
        loan.annual_rate,
        loan.method,
        [(r.period, r.due_date) for r in later],
        shorten=loan.prepayment.mode is PrepaymentMode.SHORTEN_TERM,
        keep=schedules.Installment(nxt.period, nxt.due_date, nxt.principal, nxt.interest, ZERO),
    )
    for row in later:
        del book.rows[row.period]
    for row in rows:
        book.rows[row.period] = Installment(row.period, row.due_date, row.principal, row.interest)


def allocate(loan: Loan, amount: Decimal, day: date) -> Allocation:
    """Where ``amount`` paid on ``day`` goes, and the loan afterwards; ``RepaymentRefused`` when it cannot."""
    _check(loan, amount)
    quote = loan.settlement(day)
    if amount > quote.total:
        raise RepaymentRefused("OVERPAYMENT", f"the amount is more than the {format_amount(quote.total)} that settles the loan in full")
    book = _Ledger(loan, amount)
    if amount == quote.total:
        _settle(loan, day, quote, book)
    else:
        for row in loan.overdue(day):
            for component in (PENALTY, INTEREST, PRINCIPAL):
                book.pay(row.period, component, "DUE")
        current = loan.current(day)
        if current is not None and current.due_date > day and book.left > 0 and loan.method is RepaymentMethod.BULLET:
            # its one installment carries the whole term's interest: paid before maturity only in full
            raise RepaymentRefused(
                "PREPAYMENT_NOT_ALLOWED",
                f"a bullet loan is repaid at maturity or settled in full: pay exactly {format_amount(quote.total)} to settle",
            )
        if current is not None:
            for component in (INTEREST, PRINCIPAL):
                book.pay(current.period, component, "CURRENT")
            if book.left > 0:
                _prepay(loan, current, book, quote)
    assert book.left == 0, "an allocation must place every fen"
    installments = tuple(book.rows[p] for p in sorted(book.rows))
    settled = all(i.paid for i in installments)
    interest = sum((i.amount for i in book.items if i.component == INTEREST), ZERO)
    from_receivable = min(interest, loan.interest_receivable)
    principal = sum((i.amount for i in book.items if i.component == PRINCIPAL), ZERO)
    outstanding = [(f.funder, f.outstanding) for f in loan.funders]
    by_funder = split(principal, outstanding, caps=dict(outstanding))
    written_back = loan.interest_receivable - from_receivable if settled else ZERO
    after = replace(
        loan.with_repayment(day, amount),
        installments=installments,
        funders=tuple(replace(f, outstanding=f.outstanding - by_funder[f.funder]) for f in loan.funders),
        interest_receivable=loan.interest_receivable - from_receivable - written_back,
        interest_recognised=loan.interest_recognised + (interest - from_receivable) - written_back,
        status=LoanStatus.SETTLED if settled else loan.status,
        settled_on=day if settled else None,
        version=loan.version + 1,
    )
    return Allocation(day, amount, tuple(book.items), after, settled, from_receivable, tuple(by_funder.items()), written_back)
