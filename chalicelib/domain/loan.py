"""A loan account (贷款分户账): its schedule with what is paid of each installment, its receivables.

Booked from the repayment schedule when the loan is disbursed (``book``). What
the loan owes at any time is read from its installments:

- an installment is **due** on its due date and **overdue** the day after
  (``due_date < day``); the **current** installment (当期) is the one due that
  day, else the first whose due date is still ahead;
- penalty interest (罚息) accrues daily on each overdue installment's unpaid
  principal at the contract rate plus the product's markup (50%), / 360;
- interest income is recognised (accrued, 计提) day by day: by a day, the
  interest of every installment due by then, and of the current one its share
  of the days elapsed; what was paid before it was accrued is recognised when
  paid, so nothing is recognised twice;
- full early settlement (提前结清) costs what is due, the principal not yet
  due, its interest to the day (actual days x annual / 360, less interest
  already paid ahead on it), and the prepayment fee if the product has one.

A loan is immutable here; every change makes a new one (``dataclasses.replace``)
with ``version`` + 1, which the repository writes under a condition on the old
version.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import Enum

from chalicelib.domain.classification import LoanClass
from chalicelib.domain.money import ZERO, precise, to_fen
from chalicelib.domain.schedule import RepaymentMethod, Schedule

PENALTY_MARKUP = Decimal("0.5")  # 罚息: the contract rate plus 50%
DAYS_IN_YEAR = 360


class LoanStatus(str, Enum):
    DISBURSING = "DISBURSING"  # booked, the payment not yet confirmed
    ACTIVE = "ACTIVE"  # disbursed, repaying
    SETTLED = "SETTLED"  # every installment paid (结清)
    VOID = "VOID"  # the disbursement failed and was reversed (冲正)


class PrepaymentMode(str, Enum):
    LOWER_INSTALLMENT = "LOWER_INSTALLMENT"  # the same term, smaller installments (减少月供)
    SHORTEN_TERM = "SHORTEN_TERM"  # the same installment, fewer of them (缩短期限)


@dataclass(frozen=True)
class PrepaymentPolicy:
    """What the product says of paying early."""

    allowed: bool = True
    mode: PrepaymentMode = PrepaymentMode.LOWER_INSTALLMENT
    fee_rate: Decimal = ZERO  # of the principal prepaid (提前还款违约金/手续费)


@dataclass(frozen=True)
class Installment:
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    penalty: Decimal = ZERO  # accrued so far
    paid_principal: Decimal = ZERO
    paid_interest: Decimal = ZERO
    paid_penalty: Decimal = ZERO

    @property
    def unpaid_principal(self) -> Decimal:
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> Decimal:
        return self.interest - self.paid_interest

    @property
    def unpaid_penalty(self) -> Decimal:
        return self.penalty - self.paid_penalty

    @property
    def unpaid(self) -> Decimal:
        return self.unpaid_principal + self.unpaid_interest + self.unpaid_penalty

    @property
    def paid(self) -> bool:
        return self.unpaid == 0

    def state(self, day: date) -> str:
        if self.paid:
            return "PAID"
        if self.due_date < day:
            return "OVERDUE"
        if self.due_date == day:
            return "DUE"
        return "PARTIAL" if self.paid_principal or self.paid_interest else "UPCOMING"


@dataclass(frozen=True)
class FunderShare:
    funder: str
    amount: Decimal  # lent
    outstanding: Decimal  # principal not yet repaid


@dataclass(frozen=True)
class Loan:
    loan_id: str
    application_id: str
    branch_code: str
    partner_id: str
    product_code: str
    customer_id: str
    amount: Decimal
    annual_rate: Decimal
    method: RepaymentMethod
    start_date: date
    installments: tuple[Installment, ...]
    funders: tuple[FunderShare, ...]
    prepayment: PrepaymentPolicy = field(default_factory=PrepaymentPolicy)
    penalty_markup: Decimal = PENALTY_MARKUP
    status: LoanStatus = LoanStatus.DISBURSING
    interest_receivable: Decimal = ZERO  # accrued, not yet paid
    interest_recognised: Decimal = ZERO  # income recognised so far (accrued, or paid before it was accrued)
    accrued_through: date | None = None  # the last day accrued
    settled_on: date | None = None
    credit_line_id: str | None = None
    term_months: int = 0  # as contracted (a prepayment may shorten the schedule, a settlement end it)
    partner_application_no: str | None = None  # the partner's own number, for the partner's events
    loan_class: LoanClass = LoanClass.NORMAL  # 五级分类 as the last day end left it (never better while overdue)
    dpd_at_close: int = 0  # days past due as the last day end left them (a repayment since does not change it)
    last_repaid_on: date | None = None  # the business day of the last repayment
    repaid_that_day: Decimal = ZERO  # what was repaid on ``last_repaid_on``, all of it (the credit report's 本日实还)
    class_history: tuple["ClassChange", ...] = ()  # each change of class, oldest first
    version: int = 0

    # -- what is owed ---------------------------------------------------------------------------

    @property
    def outstanding_principal(self) -> Decimal:
        return sum((i.unpaid_principal for i in self.installments), ZERO)

    @property
    def penalty_receivable(self) -> Decimal:
        return sum((i.unpaid_penalty for i in self.installments), ZERO)

    @property
    def lead_funder(self) -> str:
        return self.funders[0].funder

    def due(self, day: date) -> tuple[Installment, ...]:
        """Installments due by ``day`` (overdue, or due that day) and not paid, oldest first."""
        return tuple(i for i in self.installments if i.due_date <= day and not i.paid)

    def overdue(self, day: date) -> tuple[Installment, ...]:
        return tuple(i for i in self.installments if i.due_date < day and not i.paid)

    def current(self, day: date) -> Installment | None:
        """The current installment (当期): the one due that day, else the first due after it."""
        return next((i for i in self.installments if i.due_date >= day), None)

    def next_after(self, day: date) -> Installment | None:
        """The installment whose period holds ``day`` (not yet due): the first due after it."""
        return next((i for i in self.installments if i.due_date > day), None)

    def days_past_due(self, day: date) -> int:
        """Days since the oldest unpaid due date (0 when nothing is overdue)."""
        late = self.overdue(day)
        return (day - late[0].due_date).days if late else 0

    def repaid_on(self, day: date) -> Decimal:
        """What the borrower repaid on ``day`` (the loan keeps only its last day of repayments)."""
        return self.repaid_that_day if self.last_repaid_on == day else ZERO

    def with_repayment(self, day: date, amount: Decimal) -> "Loan":
        """The day's repaid total with ``amount`` added (a repayment's allocation calls it)."""
        return replace(self, last_repaid_on=day, repaid_that_day=self.repaid_on(day) + amount)

    def classified(self, day: date, loan_class: LoanClass, days_past_due: int) -> "Loan":
        """The day end's class and days past due; a change of class is kept in ``class_history``."""
        history = self.class_history
        if loan_class is not self.loan_class:
            history = history + (ClassChange(day, self.loan_class, loan_class, days_past_due),)
        return replace(self, loan_class=loan_class, dpd_at_close=days_past_due, class_history=history)

    def period_start(self, installment: Installment) -> date:
        """The day the installment's period begins (the previous due date, or the start)."""
        before = [i.due_date for i in self.installments if i.period < installment.period]
        return max(before) if before else self.start_date

    def settlement(self, day: date) -> "SettlementQuote":
        """What settles the loan in full on ``day``."""
        due = self.due(day)
        ahead = [i for i in self.installments if i.due_date > day]
        remaining = sum((i.unpaid_principal for i in ahead), ZERO)
        interest = ZERO
        if remaining:
            base = max((i.due_date for i in self.installments if i.due_date <= day), default=self.start_date)
            with precise():
                to_day = to_fen(remaining * self.annual_rate * (day - base).days / DAYS_IN_YEAR)
            paid_ahead = sum((i.paid_interest for i in ahead), ZERO)
            interest = max(ZERO, to_day - paid_ahead)
        # the fee is on the principal paid before its time: beyond the current installment's, which
        # paying the installment would clear without a fee (as a partial prepayment counts it)
        current = self.next_after(day) if not any(i.due_date == day for i in self.installments) else None
        early = remaining - (current.unpaid_principal if current is not None else ZERO)
        with precise():
            fee = to_fen(early * self.prepayment.fee_rate) if early > 0 else ZERO
        return SettlementQuote(
            day=day,
            due_penalty=sum((i.unpaid_penalty for i in due), ZERO),
            due_interest=sum((i.unpaid_interest for i in due), ZERO),
            due_principal=sum((i.unpaid_principal for i in due), ZERO),
            principal=remaining,
            interest=interest,
            fee=fee,
        )

    # -- day end ---------------------------------------------------------------------------------

    def interest_earned(self, day: date) -> Decimal:
        """Interest earned by the end of ``day``: every installment due by then, and the current
        one's share of its period's days elapsed."""
        earned = sum((i.interest for i in self.installments if i.due_date <= day), ZERO)
        current = self.next_after(day)
        if current is not None and self.status is LoanStatus.ACTIVE:
            start = self.period_start(current)
            days, elapsed = (current.due_date - start).days, (day - start).days
            if days > 0 and elapsed > 0:
                with precise():
                    earned += to_fen(current.interest * elapsed / days)
        return earned

    def daily_penalty(self, installment: Installment) -> Decimal:
        with precise():
            rate = self.annual_rate * (1 + self.penalty_markup)
            return to_fen(installment.unpaid_principal * rate / DAYS_IN_YEAR)

    def accrual(self, day: date) -> "Accrual":
        """What the day end of ``day`` accrues: interest income not yet recognised, and the penalty
        of each installment overdue on that day, one day's worth (each day rounded to the fen) for
        every day since it was last accrued or fell overdue, so a day end that was missed is caught up."""
        if self.status is not LoanStatus.ACTIVE or (self.accrued_through is not None and day <= self.accrued_through):
            return Accrual(day, ZERO, ())
        interest = max(ZERO, self.interest_earned(day) - self.interest_recognised)
        penalties = []
        for i in self.overdue(day):
            since = i.due_date if self.accrued_through is None else max(i.due_date, self.accrued_through)
            if (p := self.daily_penalty(i) * (day - since).days) > 0:
                penalties.append((i.period, p))
        return Accrual(day, interest, tuple(penalties))

    def accrued(self, accrual: "Accrual") -> "Loan":
        """The loan after ``accrual`` is booked."""
        extra = dict(accrual.penalties)
        installments = tuple(replace(i, penalty=i.penalty + extra[i.period]) if i.period in extra else i for i in self.installments)
        return replace(
            self,
            installments=installments,
            interest_receivable=self.interest_receivable + accrual.interest,
            interest_recognised=self.interest_recognised + accrual.interest,
            # never back: a day end replayed for an earlier day (an empty accrual) must not reopen
            # the days after it, or their penalty would accrue a second time
            accrued_through=accrual.day if self.accrued_through is None else max(self.accrued_through, accrual.day),
            version=self.version + 1,
        )


@dataclass(frozen=True)
class ClassChange:
    """A change of the loan's five-tier class by the day end of ``day``."""

    day: date
    before: LoanClass
    after: LoanClass
    days_past_due: int


@dataclass(frozen=True)
class SettlementQuote:
    day: date
    due_penalty: Decimal
    due_interest: Decimal
    due_principal: Decimal
    principal: Decimal  # not yet due
    interest: Decimal  # on it, to the day
    fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.due_penalty + self.due_interest + self.due_principal + self.principal + self.interest + self.fee


@dataclass(frozen=True)
class Accrual:
    day: date
    interest: Decimal
    penalties: tuple[tuple[int, Decimal], ...]  # (period, penalty)

    @property
    def penalty(self) -> Decimal:
        return sum((p for _, p in self.penalties), ZERO)

    @property
    def empty(self) -> bool:
        return not self.interest and not self.penalty


def loan_id_for(application_id: str) -> str:
    """``LN`` + the application id's date and random parts: one loan per application."""
    return "LN" + application_id[2:]


def book(
    *,
    loan_id: str,
    application_id: str,
    branch_code: str,
    partner_id: str,
    product_code: str,
    customer_id: str,
    schedule: Schedule,
    funders: list[tuple[str, Decimal]],
    prepayment: PrepaymentPolicy = PrepaymentPolicy(),
    penalty_markup: Decimal = PENALTY_MARKUP,
    credit_line_id: str | None = None,
    partner_application_no: str | None = None,
) -> Loan:
    """A new loan (DISBURSING) from its schedule and its funders' shares (the lead first)."""
    if sum((a for _, a in funders), ZERO) != schedule.amount:
        raise ValueError("the funders' shares must add up to the amount")
    if schedule.total_principal != schedule.amount:
        raise ValueError("the schedule's principal must add up to the amount")
    return Loan(
        loan_id=loan_id,
        application_id=application_id,
        branch_code=branch_code,
        partner_id=partner_id,
        product_code=product_code,
        customer_id=customer_id,
        amount=schedule.amount,
        annual_rate=schedule.annual_rate,
        method=schedule.method,
        start_date=schedule.start_date,
        installments=tuple(Installment(i.period, i.due_date, i.principal, i.interest) for i in schedule.installments),
        funders=tuple(FunderShare(code, amount, amount) for code, amount in funders),
        prepayment=prepayment,
        penalty_markup=penalty_markup,
        credit_line_id=credit_line_id,
        term_months=schedule.term_months,
        partner_application_no=partner_application_no,
    )


def split(amount: Decimal, weights: list[tuple[str, Decimal]], caps: dict[str, Decimal] | None = None) -> dict[str, Decimal]:
    """``amount`` split over parties in proportion to ``weights`` (the first takes the rounding
    rest), exact to the fen, never giving a party more than its cap."""
    if not weights:
        raise ValueError("nobody to split among")
    total = sum((w for _, w in weights), ZERO)
    if amount == 0:
        return {party: ZERO for party, _ in weights}
    if total == 0:
        raise ValueError("the weights add up to nothing")
    parts: dict[str, Decimal] = {}
    with precise():
        for party, weight in weights[1:]:
            share = (amount * weight / total).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
            parts[party] = min(share, caps[party]) if caps else share
    parts = {weights[0][0]: amount - sum(parts.values(), ZERO), **parts}
    if caps:  # the lead took more than its cap (the rounding rest near the end): move it on, a fen at a time
        order = [party for party, _ in weights]
        for party in order:
            excess = parts[party] - caps[party]
            for other in order:
                if excess <= 0:
                    break
                room = caps[other] - parts[other]
                if other != party and room > 0:
                    moved = min(room, excess)
                    parts[other] += moved
                    parts[party] -= moved
                    excess -= moved
        if any(parts[p] > caps[p] for p in parts):
            raise ValueError("the amount is more than the caps allow")
    return parts
