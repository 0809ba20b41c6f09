"""The entries of each loan event (会计分录), in the branch's book.

=================  ======================================================================
disbursement       Dr loans receivable (each funder its share) / Cr payment clearing
reversal (冲正)     the disbursement's lines on the other side
repayment          Dr partner clearing (the whole amount) /
                   Cr loans receivable (each funder's part of the principal),
                   Cr interest receivable (what was accrued), Cr interest income (the rest),
                   Cr penalty receivable, Cr fee income;
                   a settlement that charges less interest than was accrued also writes
                   the difference back: Dr interest income / Cr interest receivable
accrual (计提)      Dr interest receivable / Cr interest income;
                   Dr penalty receivable / Cr penalty income
=================  ======================================================================

Income is split over a joint loan's funders in proportion to what each lent;
principal in proportion to what each still has outstanding (exact to the fen,
never more than a funder is owed). Posting ids are derived from the event, so
the same event is the same posting.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from chalicelib.domain.ledger import GATEWAY, LOAN_LEVEL, Account, Posting, Side, lines
from chalicelib.domain.loan import Accrual, Loan, split
from chalicelib.domain.repayment import FEE, PENALTY, Allocation

A, D, C = Account, Side.DEBIT, Side.CREDIT


def disbursement_id(loan_id: str) -> str:
    return f"DISBURSEMENT#{loan_id}"


def repayment_id(loan_id: str, partner_repayment_no: str) -> str:
    return f"REPAYMENT#{loan_id}#{partner_repayment_no}"


def accrual_id(loan_id: str, day: date) -> str:
    return f"ACCRUAL#{loan_id}#{day.isoformat()}"


def _income_split(loan: Loan, amount: Decimal) -> dict[str, Decimal]:
    return split(amount, [(f.funder, f.amount) for f in loan.funders])


def disbursement(loan: Loan, day: date) -> Posting:
    entries = [(A.LOANS_RECEIVABLE, f.funder, D, f.amount) for f in loan.funders]
    entries.append((A.PAYMENT_CLEARING, GATEWAY, C, loan.amount))
    return Posting(disbursement_id(loan.loan_id), loan.branch_code, loan.loan_id, "DISBURSEMENT", day, lines(*entries), partner_id=loan.partner_id)


def repayment(before: Loan, allocation: Allocation, partner_repayment_no: str) -> Posting:
    entries = [(A.PARTNER_CLEARING, before.partner_id, D, allocation.amount)]
    entries += [(A.LOANS_RECEIVABLE, funder, C, amount) for funder, amount in allocation.principal_by_funder]
    entries.append((A.INTEREST_RECEIVABLE, LOAN_LEVEL, C, allocation.interest_from_receivable))
    entries += [(A.INTEREST_INCOME, f, C, a) for f, a in _income_split(before, allocation.interest_to_income).items()]
    entries.append((A.PENALTY_RECEIVABLE, LOAN_LEVEL, C, allocation.total(PENALTY)))
    entries += [(A.FEE_INCOME, f, C, a) for f, a in _income_split(before, allocation.total(FEE)).items()]
    if allocation.interest_written_back:
        entries += [(A.INTEREST_INCOME, f, D, a) for f, a in _income_split(before, allocation.interest_written_back).items()]
        entries.append((A.INTEREST_RECEIVABLE, LOAN_LEVEL, C, allocation.interest_written_back))
    return Posting(
        repayment_id(before.loan_id, partner_repayment_no), before.branch_code, before.loan_id, "REPAYMENT", allocation.day, lines(*entries),
        partner_id=before.partner_id,
    )


def accrual(loan: Loan, accrued: Accrual) -> Posting | None:
    """The day's accrual posting; None when there is nothing to accrue."""
    if accrued.empty:
        return None
    entries = [(A.INTEREST_RECEIVABLE, LOAN_LEVEL, D, accrued.interest)]
    entries += [(A.INTEREST_INCOME, f, C, a) for f, a in _income_split(loan, accrued.interest).items()]
    entries.append((A.PENALTY_RECEIVABLE, LOAN_LEVEL, D, accrued.penalty))
    entries += [(A.PENALTY_INCOME, f, C, a) for f, a in _income_split(loan, accrued.penalty).items()]
    return Posting(accrual_id(loan.loan_id, accrued.day), loan.branch_code, loan.loan_id, "ACCRUAL", accrued.day, lines(*entries))
