"""The ledger in DynamoDB: immutable postings and each account's totals, written together.

Items of the ledger table
-------------------------

===========================  ==================================  ===========================================
pk                           sk                                  attributes
===========================  ==================================  ===========================================
``POSTING#<posting id>``     ``POSTING``                         ``branch_code``, ``loan_id``, ``kind``,
                                                                 ``business_date``, ``lines``, ``reverses``,
                                                                 ``branch_day`` (the by_branch_day index)
``BALANCE#<branch>``         ``<account>#<party>#s<shard>``      ``debits``, ``credits`` (Decimal totals)
===========================  ==================================  ===========================================

A posting is put with ``attribute_not_exists`` (one object per id, never
overwritten or deleted) in the SAME transaction that adds its lines to the
account totals (``ADD``), and that writes whatever the event changes (the
loan, the repayment record: see ``persistence/loans.py``). So a balance is
always the sum of the postings' lines, and a retried event finds its posting
and changes nothing.

Hot accounts: every posting of a branch touches the same few accounts, and
one DynamoDB item takes about 1,000 writes a second (and one transaction at a
time). Each account's totals are therefore kept in ``BALANCE_SHARDS`` items,
the shard chosen by the loan id; a balance is the sum of its shards (one
Query per branch).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from chalicelib import resources
from chalicelib.domain.ledger import Account, Balance, Line, Posting, Side, check_totals
from chalicelib.domain.money import ZERO, format_amount
from chalicelib.persistence.models import DecimalAttribute, LazyModel, table_meta

BALANCE_SHARDS = 8


class ByBranchDay(GlobalSecondaryIndex):
    class Meta:
        index_name = resources.LEDGER_TABLE.indexes[0].name
        projection = AllProjection()

    branch_day = UnicodeAttribute(hash_key=True)
    posting_id = UnicodeAttribute(range_key=True)


class ByPartnerDay(GlobalSecondaryIndex):
    class Meta:
        index_name = resources.LEDGER_TABLE.indexes[1].name
        projection = AllProjection()

    partner_day = UnicodeAttribute(hash_key=True)
    posting_id = UnicodeAttribute(range_key=True)


class PostingItem(LazyModel):
    Meta = table_meta(resources.LEDGER_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    posting_id = UnicodeAttribute()
    branch_code = UnicodeAttribute()
    branch_day = UnicodeAttribute()
    loan_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    business_date = UnicodeAttribute()
    lines = JSONAttribute()  # [{"account", "party", "side", "amount"}]
    reverses = UnicodeAttribute(null=True)
    partner_id = UnicodeAttribute(null=True)
    partner_day = UnicodeAttribute(null=True)  # only a partner's transactions: the index is sparse
    posted_at = UnicodeAttribute()
    by_branch_day = ByBranchDay()
    by_partner_day = ByPartnerDay()


class BalanceItem(LazyModel):
    Meta = table_meta(resources.LEDGER_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    debits = DecimalAttribute(null=True)
    credits = DecimalAttribute(null=True)


def _posting_key(posting_id: str) -> str:
    return f"POSTING#{posting_id}"


def shard(loan_id: str) -> int:
    return int.from_bytes(hashlib.sha256(loan_id.encode("utf-8")).digest()[:4], "big") % BALANCE_SHARDS


def _item(posting: Posting, now: str) -> PostingItem:
    return PostingItem(
        _posting_key(posting.posting_id),
        "POSTING",
        posting_id=posting.posting_id,
        branch_code=posting.branch_code,
        branch_day=f"{posting.branch_code}#{posting.business_date.isoformat()}",
        loan_id=posting.loan_id,
        kind=posting.kind,
        business_date=posting.business_date.isoformat(),
        lines=[{"account": l.account.value, "party": l.party, "side": l.side.value, "amount": format_amount(l.amount)} for l in posting.lines],
        reverses=posting.reverses,
        partner_id=posting.partner_id,
        partner_day=f"{posting.partner_id}#{posting.business_date.isoformat()}" if posting.partner_id else None,
        posted_at=now,
    )


def _posting(item: PostingItem) -> Posting:
    return Posting(
        posting_id=item.posting_id,
        branch_code=item.branch_code,
        loan_id=item.loan_id,
        kind=item.kind,
        business_date=date.fromisoformat(item.business_date),
        lines=tuple(Line(Account(l["account"]), l["party"], Side(l["side"]), Decimal(l["amount"])) for l in item.lines),
        reverses=item.reverses,
        partner_id=item.partner_id,
    )


def add_to(tx: TransactWrite, posting: Posting, now: str) -> None:
    """Put the posting (once: the transaction fails if its id exists) and add its lines to the totals."""
    tx.save(_item(posting, now), condition=PostingItem.pk.does_not_exist())
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    part = shard(posting.loan_id)
    for line in posting.lines:  # one update per item: a transaction may not touch an item twice
        row = totals[f"{line.account.value}#{line.party}#s{part}"]
        row[0 if line.side is Side.DEBIT else 1] += line.amount
    for sk, (debits, credits) in totals.items():
        actions = []
        if debits:
            actions.append(BalanceItem.debits.add(debits))
        if credits:
            actions.append(BalanceItem.credits.add(credits))
        tx.update(BalanceItem(f"BALANCE#{posting.branch_code}", sk), actions=actions)


def get(posting_id: str) -> Posting | None:
    try:
        return _posting(PostingItem.get(_posting_key(posting_id), "POSTING", consistent_read=True))
    except PostingItem.DoesNotExist:
        return None


def postings_of_day(branch_code: str, day: date) -> list[Posting]:
    """A branch's postings of one business day (by posting id)."""
    return [_posting(i) for i in PostingItem.by_branch_day.query(f"{branch_code}#{day.isoformat()}")]


def partner_postings_of_day(partner_id: str, day: date) -> list[Posting]:
    """A partner's disbursements, their reversals and its repayments of one business day."""
    return [_posting(i) for i in PostingItem.by_partner_day.query(f"{partner_id}#{day.isoformat()}")]


def totals(branch_code: str) -> dict[tuple[str, Account, str], Balance]:
    """A branch's account totals, (branch, account, party) -> debits and credits, over all shards."""
    found: dict[tuple[str, Account, str], Balance] = {}
    for item in BalanceItem.query(f"BALANCE#{branch_code}", consistent_read=True):
        account, party, _ = item.sk.rsplit("#", 2)
        key = (branch_code, Account(account), party)
        old = found.get(key, Balance())
        found[key] = Balance(old.debits + (item.debits or ZERO), old.credits + (item.credits or ZERO))
    return found


def trial_balance(branch_code: str) -> list[dict[str, Any]]:
    """Each account's debits, credits, and balance with the side it stands on (试算平衡表), by account code."""
    rows: dict[Account, Balance] = {}
    for (_, account, _), balance in totals(branch_code).items():
        old = rows.get(account, Balance())
        rows[account] = Balance(old.debits + balance.debits, old.credits + balance.credits)
    return [
        {
            "account": account.value, "title": account.title, "debits": b.debits, "credits": b.credits,
            "balance": abs(b.debits - b.credits), "side": Side.DEBIT.value if b.debits >= b.credits else Side.CREDIT.value,
        }
        for account, b in sorted(rows.items(), key=lambda kv: kv[0].value)
    ]


def all_postings(branch_code: str | None = None) -> Iterable[Posting]:
    """Every posting (a scan: for checks and tests, not for the request path)."""
    for item in PostingItem.scan(PostingItem.sk == "POSTING"):
        if branch_code is None or item.branch_code == branch_code:
            yield _posting(item)


def check(branch_code: str) -> None:
    """The branch's ledger invariants (``domain.ledger.check_totals``) over what is stored."""
    check_totals(totals(branch_code).items(), all_postings(branch_code))
