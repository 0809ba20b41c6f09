"""How many ACTIVE loans each branch has in each five-tier class, for the back office's dashboard.

Items of the loans table
------------------------

==============================  ==================  ==============================================
pk                              sk                  attributes
==============================  ==================  ==============================================
``LOAN_CLASSES#<branch>``       ``s<shard>``        ``NORMAL``, ``SPECIAL_MENTION``, ``SUBSTANDARD``,
                                                    ``DOUBTFUL``, ``LOSS``: counts (ADD)
==============================  ==================  ==============================================

Why counters: a branch may have a million active loans; counting their classes
per dashboard load would read every one. A loan's class changes only when the
loan itself is written (booked, activated, classified by the day end, settled,
voided), so the count moves with that write: ``add_to(tx, before, after)`` adds
to the loan's transaction (``persistence/loans.py``: ``book`` and ``save``) one
ADD on the loan's shard when its counted class (``domain/dashboard.counted_class``:
its class while ACTIVE) changes, and nothing otherwise (most writes: a
repayment, a day's accrual without a change of class). In the loan's own
transaction, a failed or retried write counts nothing twice. Shards (chosen by
the loan id) keep concurrent day-end segments from contending on one item
(a conflict is retried by the loan's transaction like any other); a branch's
figures are one Query of its shards.

The items' sort keys are never ``LOAN``, so the day end's scan (``sk = LOAN``)
passes them by.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib import resources
from chalicelib.domain.dashboard import class_moves, counted_class
from chalicelib.persistence.models import LazyModel, table_meta

SHARDS = 8


class LoanClassCounts(LazyModel):
    Meta = table_meta(resources.LOANS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    NORMAL = NumberAttribute(null=True)
    SPECIAL_MENTION = NumberAttribute(null=True)
    SUBSTANDARD = NumberAttribute(null=True)
    DOUBTFUL = NumberAttribute(null=True)
    LOSS = NumberAttribute(null=True)


def _pk(branch_code: str) -> str:
    return f"LOAN_CLASSES#{branch_code}"


def _shard(loan_id: str) -> str:
    return f"s{int.from_bytes(hashlib.sha256(loan_id.encode('utf-8')).digest()[:4], 'big') % SHARDS}"


def _counted(loan: Any) -> str | None:
    return None if loan is None else counted_class(loan.status.value, loan.loan_class.value)


def add_to(tx: Any, before: Any, after: Any) -> None:
    """Add to the loan's transaction the move of its class count (``before`` None: a new loan)."""
    moves = class_moves(_counted(before), _counted(after))
    if moves:
        tx.update(
            LoanClassCounts(_pk(after.branch_code), _shard(after.loan_id)),
            actions=[getattr(LoanClassCounts, name).add(delta) for name, delta in moves.items()],
        )


def counts(branch_codes: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Each branch's shards, as plain dicts (a branch with none: no entry)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for branch in branch_codes:
        for item in LoanClassCounts.query(_pk(branch)):
            found.setdefault(branch, []).append({k: v for k, v in item.attribute_values.items() if k not in ("pk", "sk")})
    return found
