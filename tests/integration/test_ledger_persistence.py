"""The ledger's invariants as DynamoDB keeps them (moto), over random sequences of loan events.

The domain's state machine (``tests/property/test_ledger_stateful.py``) checks the
rules in memory; this one runs shorter sequences through the repositories that
production uses (``persistence/loans.py``, ``persistence/ledger.py``): each event
one transaction with its posting and the account totals. After every step, read
back from the tables: each branch's totals equal the sum of its stored
postings' lines and balance (``ledger.check``); each loan's principal in the
stored postings equals the stored loan's unpaid principal; an event retried
writes nothing twice.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from chalicelib.domain import accounting
from chalicelib.domain.ledger import Account, Side
from chalicelib.domain.loan import LoanStatus, book
from chalicelib.domain.money import ZERO, to_fen
from chalicelib.domain.repayment import RepaymentRefused, allocate
from chalicelib.domain.schedule import RepaymentMethod, build_schedule
from chalicelib.persistence import ledger, loans

START = date(2026, 1, 31)
NOW = datetime(2026, 1, 31, 10, tzinfo=timezone.utc)
BRANCHES = ("BR_A", "BR_B")


class StoredLedger(RuleBasedStateMachine):
    run = 0

    @initialize()
    def start(self) -> None:
        StoredLedger.run += 1
        self.prefix = f"LN{StoredLedger.run:03d}-"
        self.ids: list[str] = []
        self.day = START
        self.count = 0

    def _loans(self, status: LoanStatus) -> list[str]:
        return [i for i in self.ids if loans.get(i).status is status]

    @rule(
        amount=st.integers(min_value=100_000, max_value=5_000_000).map(lambda f: Decimal(f).scaleb(-2)),
        term=st.sampled_from([3, 6, 12]),
        method=st.sampled_from(list(RepaymentMethod)),
        joint=st.booleans(),
        branch=st.sampled_from(BRANCHES),
    )
    def disburse(self, amount, term, method, joint, branch) -> None:
        self.count += 1
        loan_id = f"{self.prefix}{self.count:03d}"
        lead = to_fen(amount * Decimal("0.7")) if joint else amount
        funders = [("F1", lead)] + ([("F2", amount - lead)] if joint else [])
        loan = book(
            loan_id=loan_id, application_id="AP" + loan_id[2:], branch_code=branch, partner_id="P1", product_code="X",
            customer_id="C1", schedule=build_schedule(amount, Decimal("0.0720"), term, method, self.day), funders=funders,
        )
        posting = accounting.disbursement(loan, self.day)
        loans.book(loan, posting, NOW, {"payment_id": f"PAY-{loan_id}", "state": "NEW", "queries": 0}, None)
        with pytest.raises(loans.AlreadyExists):  # the same event again writes nothing
            loans.book(loan, posting, NOW, {"payment_id": f"PAY-{loan_id}", "state": "NEW", "queries": 0}, None)
        self.ids.append(loan_id)

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), paid=st.booleans())
    def payment_answered(self, data, paid) -> None:
        waiting = self._loans(LoanStatus.DISBURSING)
        if not waiting:
            return
        loan = loans.get(data.draw(st.sampled_from(waiting)))
        if paid:
            loans.save(loan, replace(loan, status=LoanStatus.ACTIVE, version=loan.version + 1), NOW)
        else:
            reversal = accounting.disbursement(loan, loan.start_date).reversal(self.day)
            loans.save(loan, replace(loan, status=LoanStatus.VOID, version=loan.version + 1), NOW, posting=reversal)
        with pytest.raises(loans.VersionConflict):  # a stale writer loses
            loans.save(loan, replace(loan, version=loan.version + 1), NOW)

    @rule(days=st.integers(min_value=1, max_value=40))
    def day_ends(self, days) -> None:
        for _ in range(days):
            self.day += timedelta(days=1)
        for loan_id in self._loans(LoanStatus.ACTIVE):  # one catch-up accrual per loan (missed days' penalty included)
            loan = loans.get(loan_id)
            accrual = loan.accrual(self.day)
            posting = accounting.accrual(loan, accrual)
            loans.save(loan, loan.accrued(accrual), NOW, posting=posting)

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), share=st.integers(min_value=1, max_value=110))
    def repay(self, data, share) -> None:
        active = self._loans(LoanStatus.ACTIVE)
        if not active:
            return
        loan = loans.get(data.draw(st.sampled_from(active)))
        total = loan.settlement(self.day).total
        amount = max(Decimal("0.01"), to_fen(total * share / 100))
        try:
            allocation = allocate(loan, amount, self.day)
        except RepaymentRefused:
            return
        self.count += 1
        number = f"R{self.count}"
        posting = accounting.repayment(loan, allocation, number)
        loans.save(loan, allocation.loan, NOW, posting=posting, repayment_no=number, repayment_record={"fingerprint": "f", "answer": {}, "posting_id": posting.posting_id})
        with pytest.raises(loans.VersionConflict):  # the same repayment again (a retry): nothing twice
            loans.save(allocation.loan, replace(allocation.loan, version=allocation.loan.version + 1), NOW, posting=posting,
                       repayment_no=number, repayment_record={"fingerprint": "f", "answer": {}, "posting_id": posting.posting_id})

    @invariant()
    def the_stored_ledger_holds(self) -> None:
        for branch in BRANCHES:
            ledger.check(branch)

    @invariant()
    def each_stored_loan_agrees_with_its_stored_postings(self) -> None:
        postings = [p for p in ledger.all_postings() if p.loan_id.startswith(self.prefix)]
        for loan_id in self.ids:
            loan = loans.get(loan_id)
            principal = sum(
                (line.amount if line.side is Side.DEBIT else -line.amount
                 for p in postings if p.loan_id == loan_id for line in p.lines if line.account is Account.LOANS_RECEIVABLE),
                ZERO,
            )
            assert principal == (ZERO if loan.status is LoanStatus.VOID else loan.outstanding_principal)
            assert sum((i.principal for i in loan.installments), ZERO) == loan.amount


def test_the_ledger_as_stored_keeps_its_invariants(aws):
    run_state_machine_as_test(
        StoredLedger,
        settings=settings(max_examples=6, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)),
    )
