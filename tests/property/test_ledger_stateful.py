"""The ledger's invariants over long random sequences of loan events (hypothesis, stateful).

Disbursements (single and joint), reversals of failed ones, day ends (accrual of
interest and penalty), repayments of any size (a part of what is due, the
installment, prepayments, the full settlement, and more than that, which must
be refused). After every step: each posting balances and each branch's book
balances; each account's balance is the sum of its entries; no receivable or
income account is negative; each loan's principal in the ledger (per funder)
equals its schedule's unpaid principal, its receivables equal the loan's; the
schedule's principal still adds up to the amount; every fen a partner paid is
in the loan's paid amounts or its fees.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chalicelib.domain import accounting
from chalicelib.domain.ledger import LOAN_LEVEL, Account, Book
from chalicelib.domain.loan import Loan, LoanStatus, PrepaymentMode, PrepaymentPolicy, book
from chalicelib.domain.money import ZERO, to_fen
from chalicelib.domain.repayment import FEE, RepaymentRefused, allocate
from chalicelib.domain.schedule import RepaymentMethod, build_schedule

START = date(2026, 1, 29)  # month ends make due dates clamp
fen = st.integers(min_value=100_000, max_value=20_000_000).map(lambda f: Decimal(f).scaleb(-2))


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.book = Book()
        self.loans: dict[str, Loan] = {}
        self.paid: dict[str, Decimal] = {}
        self.day = START
        self.count = 0

    @rule(
        amount=fen,
        rate=st.sampled_from([Decimal("0"), Decimal("0.0435"), Decimal("0.072"), Decimal("0.1799"), Decimal("0.24")]),
        term=st.sampled_from([1, 3, 6, 12, 24]),
        method=st.sampled_from(list(RepaymentMethod)),
        joint=st.integers(min_value=0, max_value=100),
        branch=st.sampled_from(["B1", "B2"]),
        mode=st.sampled_from(list(PrepaymentMode)),
        fee=st.sampled_from([ZERO, Decimal("0.01"), Decimal("0.03")]),
    )
    def disburse(self, amount, rate, term, method, joint, branch, mode, fee) -> None:
        self.count += 1
        loan_id = f"LN{self.count:04d}"
        funders = [("F1", amount)]
        if joint and amount >= Decimal("0.02"):
            first = max(Decimal("0.01"), min(amount - Decimal("0.01"), to_fen(amount * joint / 100)))
            funders = [("F1", first), ("F2", amount - first)]
        loan = book(
            loan_id=loan_id, application_id="AP" + loan_id[2:], branch_code=branch, partner_id="P1", product_code="X",
            customer_id="C1", schedule=build_schedule(amount, rate, term, method, self.day), funders=funders,
            prepayment=PrepaymentPolicy(True, mode, fee),
        )
        assert self.book.post(accounting.disbursement(loan, self.day))
        assert not self.book.post(accounting.disbursement(loan, self.day))  # the same event again: nothing new
        self.loans[loan_id] = loan
        self.paid[loan_id] = ZERO

    def _disbursing(self) -> list[Loan]:
        return [loan for loan in self.loans.values() if loan.status is LoanStatus.DISBURSING]

    def _active(self) -> list[Loan]:
        return [loan for loan in self.loans.values() if loan.status is LoanStatus.ACTIVE]

    @precondition(lambda self: self._disbursing())
    @rule(data=st.data(), paid=st.booleans())
    def payment_answered(self, data, paid) -> None:
        loan = data.draw(st.sampled_from(self._disbursing()))
        if paid:
            self.loans[loan.loan_id] = replace(loan, status=LoanStatus.ACTIVE, version=loan.version + 1)
        else:  # 冲正: the disbursement reversed by a new posting, the loan void
            original = self.book.postings[accounting.disbursement_id(loan.loan_id)]
            assert self.book.post(original.reversal(self.day))
            self.loans[loan.loan_id] = replace(loan, status=LoanStatus.VOID, version=loan.version + 1)

    @rule(days=st.integers(min_value=1, max_value=45))
    def day_ends(self, days) -> None:
        for _ in range(days):
            self.day += timedelta(days=1)
            for loan in self._active():
                accrued = loan.accrual(self.day)
                posting = accounting.accrual(loan, accrued)
                if posting is not None:
                    assert self.book.post(posting)
                self.loans[loan.loan_id] = loan.accrued(accrued)

    @precondition(lambda self: self._active())
    @rule(data=st.data(), how=st.sampled_from(["part", "due", "installment", "prepay", "settle", "over"]))
    def repay(self, data, how) -> None:
        loan = data.draw(st.sampled_from(self._active()))
        quote = loan.settlement(self.day)
        due = quote.due_penalty + quote.due_interest + quote.due_principal
        current = loan.current(self.day)
        installment = due + (current.unpaid_interest + current.unpaid_principal if current else ZERO)
        top = quote.total
        if how == "prepay" and top <= installment:
            how = "settle"  # nothing lies between the installment and the settlement
        amount = {
            "part": max(Decimal("0.01"), to_fen(installment * data.draw(st.integers(1, 99)) / 100)),
            "due": due,
            "installment": installment,
            "prepay": installment + to_fen((top - installment) * data.draw(st.integers(1, 99)) / 100),
            "settle": top,
            "over": top + data.draw(st.integers(1, 10_000)) * Decimal("0.01"),
        }[how]
        if amount == 0:
            return
        self.count += 1
        try:
            allocation = allocate(loan, amount, self.day)
        except RepaymentRefused as refused:
            event(f"refused {how} {refused.code}")
            if refused.code == "OVERPAYMENT":  # only ever for more than the settlement
                assert amount > top
                assert how in ("over", "installment", "part")
            elif refused.code == "PREPAYMENT_NOT_ALLOWED":  # a bullet loan before maturity: only in full
                assert loan.method is RepaymentMethod.BULLET and loan.current(self.day) is not None
            else:  # a partial prepayment that would clear all principal: settle instead
                assert how == "prepay" and refused.code == "SETTLE_IN_FULL", refused
            return
        assert how != "over" and amount <= top
        event(f"{how}: {'settled' if allocation.settled else 'prepaid' if allocation.prepaid_principal else 'paid'}")
        assert sum((i.amount for i in allocation.items), ZERO) == amount
        posting = accounting.repayment(loan, allocation, f"R{self.count}")
        assert self.book.post(posting)
        self.loans[loan.loan_id] = allocation.loan
        self.paid[loan.loan_id] += amount
        if how == "settle":
            assert allocation.settled and allocation.loan.outstanding_principal == 0

    @invariant()
    def the_book_balances(self) -> None:
        self.book.check()

    @invariant()
    def each_loan_agrees_with_its_entries(self) -> None:
        for loan in self.loans.values():
            assert sum((i.principal for i in loan.installments), ZERO) == loan.amount
            assert all(0 <= i.paid_principal <= i.principal and 0 <= i.paid_interest <= i.interest for i in loan.installments)
            assert all(0 <= i.paid_penalty <= i.penalty for i in loan.installments)
            principal = ZERO if loan.status is LoanStatus.VOID else loan.outstanding_principal
            assert self.book.loan_balance(loan.loan_id, Account.LOANS_RECEIVABLE) == principal
            for share in loan.funders:
                expected = ZERO if loan.status is LoanStatus.VOID else share.outstanding
                assert self.book.loan_balance(loan.loan_id, Account.LOANS_RECEIVABLE, share.funder) == expected >= 0
            assert self.book.loan_balance(loan.loan_id, Account.INTEREST_RECEIVABLE, LOAN_LEVEL) == loan.interest_receivable >= 0
            assert self.book.loan_balance(loan.loan_id, Account.PENALTY_RECEIVABLE, LOAN_LEVEL) == loan.penalty_receivable >= 0
            if loan.status is LoanStatus.SETTLED:
                assert loan.outstanding_principal == loan.interest_receivable == loan.penalty_receivable == 0

    @invariant()
    def every_fen_paid_is_accounted_for(self) -> None:
        for loan in self.loans.values():
            fees = sum(
                (line.amount for p in self.book.postings.values() if p.loan_id == loan.loan_id and p.kind == "REPAYMENT"
                 for line in p.lines if line.account is Account.FEE_INCOME),
                ZERO,
            )
            paid = sum((i.paid_principal + i.paid_interest + i.paid_penalty for i in loan.installments), ZERO)
            assert paid + fees == self.paid[loan.loan_id]
            assert self.book.loan_balance(loan.loan_id, Account.PARTNER_CLEARING) == self.paid[loan.loan_id]
            assert FEE  # the fee is income, not a repayment of what the schedule says


TestLedger = LedgerMachine.TestCase
TestLedger.settings = settings(max_examples=120, stateful_step_count=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
