"""The ledger (总账): double entry per branch, immutable postings, balances derived from them.

A **posting** (记账凭证) is one business event's entries: each line debits or
credits one account of one branch's book, for one party (the funder of a share
of a loan, the partner a repayment came through, the payment gateway). A
posting always balances (debits equal credits), every amount is positive and
exact to the fen, and it has an id derived from the event (one object per id:
the same event posted twice is the same posting, never two). A posting is
never changed or deleted: a mistake or a failed disbursement is undone by a
**reversal**, a new posting with every line on the other side (冲正).

The chart of accounts is ``Account``: each has its normal side and whether its
balance may go below zero on that side (a receivable may not; a clearing
account with a counterparty may be either way).

``Book`` is the ledger in memory: it applies postings, keeps each account's
debit and credit totals, and checks the invariants (TigerBeetle-style): debits
equal credits in every posting and in the whole book; each balance equals the
sum of its entries; nothing is negative that cannot be; one posting per id.
The DynamoDB ledger (``persistence/ledger.py``) keeps the same figures.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Iterable

from chalicelib.domain.money import ZERO, to_fen

GATEWAY = "GATEWAY"  # the party of the payment gateway's clearing account
LOAN_LEVEL = "-"  # the party of a receivable kept for the loan as a whole


class Side(str, Enum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"

    @property
    def other(self) -> "Side":
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class Account(str, Enum):
    """The chart of accounts of a branch's loan book (subject codes after the PBoC's financial accounting)."""

    LOANS_RECEIVABLE = "1303"  # 贷款 (本金), per funder
    INTEREST_RECEIVABLE = "1132"  # 应收利息
    PENALTY_RECEIVABLE = "1133"  # 应收罚息
    PAYMENT_CLEARING = "3003"  # 支付通道清算 (disbursements paid out through the gateway)
    PARTNER_CLEARING = "3004"  # 合作机构清算往来 (repayments collected by a partner), per partner
    INTEREST_INCOME = "6011"  # 利息收入, per funder
    PENALTY_INCOME = "6012"  # 罚息收入, per funder
    FEE_INCOME = "6021"  # 手续费及佣金收入 (prepayment fees), per funder

    @property
    def title(self) -> str:
        return _TITLES[self]

    @property
    def normal(self) -> Side:
        return Side.DEBIT if self in _DEBIT_NORMAL else Side.CREDIT

    @property
    def may_go_negative(self) -> bool:
        """Only clearing accounts with a counterparty may stand on either side."""
        return self in (Account.PAYMENT_CLEARING, Account.PARTNER_CLEARING)


_DEBIT_NORMAL = {Account.LOANS_RECEIVABLE, Account.INTEREST_RECEIVABLE, Account.PENALTY_RECEIVABLE, Account.PAYMENT_CLEARING, Account.PARTNER_CLEARING}
_TITLES = {
    Account.LOANS_RECEIVABLE: "贷款本金 loans receivable",
    Account.INTEREST_RECEIVABLE: "应收利息 interest receivable",
    Account.PENALTY_RECEIVABLE: "应收罚息 penalty receivable",
    Account.PAYMENT_CLEARING: "支付通道清算 payment clearing",
    Account.PARTNER_CLEARING: "合作机构清算 partner clearing",
    Account.INTEREST_INCOME: "利息收入 interest income",
    Account.PENALTY_INCOME: "罚息收入 penalty income",
    Account.FEE_INCOME: "手续费收入 fee income",
}


class UnbalancedPosting(ValueError):
    """A posting whose debits do not equal its credits, or with a bad line."""


@dataclass(frozen=True)
class Line:
    account: Account
    party: str
    side: Side
    amount: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount <= 0 or self.amount != to_fen(self.amount):
            raise UnbalancedPosting(f"a line's amount must be positive and exact to the fen, not {self.amount!r}")
        if not isinstance(self.party, str) or not self.party:
            raise UnbalancedPosting("a line needs a party")

    @property
    def signed(self) -> Decimal:
        """The amount on the account's normal side (positive) or against it (negative)."""
        return self.amount if self.side is self.account.normal else -self.amount


@dataclass(frozen=True)
class Posting:
    """One business event's entries in one branch's book; balanced, immutable, one per id."""

    posting_id: str  # derived from the event: DISBURSEMENT#<loan>, REPAYMENT#<loan>#<no>, ...
    branch_code: str
    loan_id: str
    kind: str  # DISBURSEMENT, REVERSAL, REPAYMENT, ACCRUAL
    business_date: date
    lines: tuple[Line, ...]
    reverses: str | None = None  # the posting a reversal undoes
    partner_id: str | None = None  # whose transaction it is (a disbursement, its reversal, a repayment): T+1 reconciliation

    def __post_init__(self) -> None:
        if not self.lines:
            raise UnbalancedPosting(f"posting {self.posting_id} has no lines")
        if self.debits != self.credits:
            raise UnbalancedPosting(f"posting {self.posting_id}: debits {self.debits} != credits {self.credits}")

    @property
    def debits(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.side is Side.DEBIT), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.side is Side.CREDIT), ZERO)

    def reversal(self, business_date: date) -> "Posting":
        """The posting that undoes this one: the same lines on the other side (冲正)."""
        lines = tuple(Line(line.account, line.party, line.side.other, line.amount) for line in self.lines)
        return Posting(f"REVERSAL#{self.posting_id}", self.branch_code, self.loan_id, "REVERSAL", business_date, lines, self.posting_id, self.partner_id)


def lines(*entries: tuple[Account, str, Side, Decimal]) -> tuple[Line, ...]:
    """Lines from (account, party, side, amount), leaving out zero amounts and merging repeats."""
    merged: dict[tuple[Account, str, Side], Decimal] = defaultdict(lambda: ZERO)
    for account, party, side, amount in entries:
        if amount:
            merged[(account, party, side)] += amount
    return tuple(Line(a, p, s, amount) for (a, p, s), amount in merged.items() if amount)


@dataclass(frozen=True)
class Balance:
    debits: Decimal = ZERO
    credits: Decimal = ZERO

    def on(self, side: Side) -> Decimal:
        """The balance on ``side`` (debits - credits for DEBIT)."""
        return self.debits - self.credits if side is Side.DEBIT else self.credits - self.debits


class LedgerViolation(AssertionError):
    """An invariant of the ledger does not hold."""


@dataclass
class Book:
    """A ledger in memory: the postings of every branch and each account's totals."""

    postings: dict[str, Posting] = field(default_factory=dict)
    totals: dict[tuple[str, Account, str], Balance] = field(default_factory=dict)

    def post(self, posting: Posting) -> bool:
        """Apply a posting once; False when a posting with that id is already in the book."""
        known = self.postings.get(posting.posting_id)
        if known is not None:
            if known != posting:
                raise LedgerViolation(f"posting id {posting.posting_id} reused for different entries")
            return False
        self.postings[posting.posting_id] = posting
        for line in posting.lines:
            key = (posting.branch_code, line.account, line.party)
            old = self.totals.get(key, Balance())
            self.totals[key] = (
                Balance(old.debits + line.amount, old.credits) if line.side is Side.DEBIT else Balance(old.debits, old.credits + line.amount)
            )
        return True

    def balance(self, branch_code: str, account: Account, party: str | None = None) -> Decimal:
        """An account's balance on its normal side (all parties, or one)."""
        return sum(
            (b.on(account.normal) for (br, a, p), b in self.totals.items() if br == branch_code and a is account and (party is None or p == party)),
            ZERO,
        )

    def loan_balance(self, loan_id: str, account: Account, party: str | None = None) -> Decimal:
        """A loan's balance of an account, from its entries."""
        return sum(
            (line.signed for posting in self.postings.values() if posting.loan_id == loan_id for line in posting.lines
             if line.account is account and (party is None or line.party == party)),
            ZERO,
        )

    def check(self) -> None:
        """Every invariant; raises ``LedgerViolation`` with the first that fails."""
        check_totals(self.totals.items(), self.postings.values())


def trial_balance(totals: Iterable[tuple[tuple[str, Account, str], Balance]]) -> dict[str, dict[str, Decimal]]:
    """Per branch: total debits and credits over all accounts (they must be equal)."""
    result: dict[str, dict[str, Decimal]] = {}
    for (branch, _, _), balance in totals:
        row = result.setdefault(branch, {"debits": ZERO, "credits": ZERO})
        row["debits"] += balance.debits
        row["credits"] += balance.credits
    return result


def check_totals(totals: Iterable[tuple[tuple[str, Account, str], Balance]], postings: Iterable[Posting]) -> None:
    """Balances equal the sum of the postings' lines; each branch balances; nothing negative that cannot be."""
    totals = dict(totals)
    derived: dict[tuple[str, Account, str], Balance] = {}
    for posting in postings:
        if posting.debits != posting.credits:
            raise LedgerViolation(f"posting {posting.posting_id} does not balance")
        for line in posting.lines:
            key = (posting.branch_code, line.account, line.party)
            old = derived.get(key, Balance())
            derived[key] = Balance(old.debits + line.amount, old.credits) if line.side is Side.DEBIT else Balance(old.debits, old.credits + line.amount)
    for key in set(totals) | set(derived):
        if totals.get(key, Balance()) != derived.get(key, Balance()):
            raise LedgerViolation(f"{key}: kept {totals.get(key)} but the entries sum to {derived.get(key)}")
    for branch, row in trial_balance(totals.items()).items():
        if row["debits"] != row["credits"]:
            raise LedgerViolation(f"branch {branch}: debits {row['debits']} != credits {row['credits']}")
    for (branch, account, party), balance in totals.items():
        if not account.may_go_negative and balance.on(account.normal) < 0:
            raise LedgerViolation(f"branch {branch} {account.name} {party} is negative: {balance.on(account.normal)}")
