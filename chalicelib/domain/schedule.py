"""Repayment schedules: one generator per repayment method.

Rules (see the domain notes): the monthly rate is the annual rate / 12; every
amount is rounded half up to the fen; interest of a period is the balance at
its start times the monthly rate, rounded (computed as balance * annual / 12,
dividing last, so that an exact half fen is never lost to a repeating
decimal such as 0.025 / 12); the last installment clears the
balance exactly, so the principal of a schedule always sums to the amount.
Due dates fall on the start day of each following month, clamped to the end of
shorter months (31 Jan -> 28/29 Feb -> 31 Mar).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Callable

from chalicelib.domain.money import FEN, ZERO, precise, to_fen

MAX_TERM_MONTHS = 360


class RepaymentMethod(str, Enum):
    EQUAL_INSTALLMENT = "EQUAL_INSTALLMENT"  # 等额本息
    EQUAL_PRINCIPAL = "EQUAL_PRINCIPAL"  # 等额本金
    INTEREST_FIRST = "INTEREST_FIRST"  # 先息后本
    BULLET = "BULLET"  # 到期一次还本付息


@dataclass(frozen=True)
class Installment:
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    balance_after: Decimal

    @property
    def payment(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class Schedule:
    amount: Decimal
    annual_rate: Decimal
    term_months: int
    method: RepaymentMethod
    start_date: date
    installments: tuple[Installment, ...]

    @property
    def total_principal(self) -> Decimal:
        return sum((i.principal for i in self.installments), ZERO)

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.installments), ZERO)

    @property
    def total_payment(self) -> Decimal:
        return self.total_principal + self.total_interest


def monthly_rate(annual_rate: Decimal) -> Decimal:
    with precise():
        return annual_rate / 12


def add_months(start: date, months: int) -> date:
    """The start day ``months`` later, clamped to the last day of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def annuity_payment(amount: Decimal, rate: Decimal, term: int) -> Decimal:
    """The equal installment P*r*(1+r)^n / ((1+r)^n - 1), rounded to the fen (P/n when r = 0)."""
    with precise():
        if rate == 0:
            return to_fen(amount / term)
        growth = (1 + rate) ** term
        return to_fen(amount * rate * growth / (growth - 1))


def _interest(balance: Decimal, annual_rate: Decimal, months: int = 1) -> Decimal:
    with precise():
        return to_fen(balance * annual_rate * months / 12)


def _equal_installment(amount: Decimal, rate: Decimal, term: int, start: date) -> list[Installment]:
    payment = annuity_payment(amount, monthly_rate(rate), term)
    balance, rows = amount, []
    for period in range(1, term + 1):
        interest = _interest(balance, rate)
        # The last period clears the balance; min() only matters for amounts so
        # small that the fen rounding of the payment would overpay earlier.
        principal = balance if period == term else min(payment - interest, balance)
        balance -= principal
        rows.append(Installment(period, add_months(start, period), principal, interest, balance))
    return rows


def _equal_principal(amount: Decimal, rate: Decimal, term: int, start: date) -> list[Installment]:
    with precise():
        share = to_fen(amount / term)
    balance, rows = amount, []
    for period in range(1, term + 1):
        interest = _interest(balance, rate)
        principal = balance if period == term else min(share, balance)
        balance -= principal
        rows.append(Installment(period, add_months(start, period), principal, interest, balance))
    return rows


def _interest_first(amount: Decimal, rate: Decimal, term: int, start: date) -> list[Installment]:
    interest = _interest(amount, rate)
    rows = []
    for period in range(1, term + 1):
        last = period == term
        principal, balance_after = (amount, ZERO) if last else (ZERO, amount)
        rows.append(Installment(period, add_months(start, period), principal, interest, balance_after))
    return rows


def _bullet(amount: Decimal, rate: Decimal, term: int, start: date) -> list[Installment]:
    return [Installment(1, add_months(start, term), amount, _interest(amount, rate, term), ZERO)]


# (amount, annual rate, term in months, start date) -> installments
Generator = Callable[[Decimal, Decimal, int, date], list[Installment]]

GENERATORS: dict[RepaymentMethod, Generator] = {
    RepaymentMethod.EQUAL_INSTALLMENT: _equal_installment,
    RepaymentMethod.EQUAL_PRINCIPAL: _equal_principal,
    RepaymentMethod.INTEREST_FIRST: _interest_first,
    RepaymentMethod.BULLET: _bullet,
}


def build_schedule(
    amount: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: RepaymentMethod,
    start_date: date,
) -> Schedule:
    if amount <= 0 or amount != to_fen(amount):
        raise ValueError("amount must be positive, in whole fen")
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        raise ValueError(f"term must be 1 to {MAX_TERM_MONTHS} months")
    if annual_rate < 0:
        raise ValueError("rate must not be negative")
    rows = GENERATORS[RepaymentMethod(method)](amount, annual_rate, term_months, start_date)
    return Schedule(amount, annual_rate, term_months, RepaymentMethod(method), start_date, tuple(rows))


def reamortise(
    balance: Decimal,
    annual_rate: Decimal,
    method: RepaymentMethod,
    periods: list[tuple[int, date]],
    shorten: bool,
    keep: Installment | None = None,
) -> list[Installment]:
    """The installments after a prepayment: ``balance`` over the remaining ``periods`` (period
    number, due date), by the same method.

    ``shorten`` (缩短期限) keeps the size of ``keep`` (the next installment as it was: its payment
    for equal installments, its principal for equal principal) and uses fewer periods; otherwise
    (减少月供) the same periods with smaller installments. Interest-first keeps its periods either
    way (the principal is due at maturity). The last row clears the balance exactly.
    """
    if balance < 0 or balance != to_fen(balance):
        raise ValueError("balance must be 0 or more, in whole fen")
    if not periods or balance == 0:
        return []
    method = RepaymentMethod(method)
    n = len(periods)
    if method is RepaymentMethod.BULLET:
        raise ValueError("a bullet loan is prepaid only in full")
    if method is RepaymentMethod.INTEREST_FIRST:
        interest = _interest(balance, annual_rate)
        return [
            Installment(p, due, balance if index == n - 1 else ZERO, interest, ZERO if index == n - 1 else balance)
            for index, (p, due) in enumerate(periods)
        ]
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        size = keep.payment if shorten and keep is not None else annuity_payment(balance, monthly_rate(annual_rate), n)
    else:
        with precise():
            size = keep.principal if shorten and keep is not None else to_fen(balance / n)
    rows: list[Installment] = []
    for index, (p, due) in enumerate(periods):
        interest = _interest(balance, annual_rate)
        wanted = size - interest if method is RepaymentMethod.EQUAL_INSTALLMENT else size
        principal = balance if index == n - 1 else min(max(wanted, FEN), balance)
        balance -= principal
        rows.append(Installment(p, due, principal, interest, balance))
        if balance == 0:
            break
    return rows
