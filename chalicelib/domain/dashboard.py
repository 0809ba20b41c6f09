"""The back-office dashboard's figures: what a status change counts, the approval rate, the sums.

The dashboard reads counters, never the applications themselves (see
``persistence/applications.py``). Each change of an application's status is
counted where it is made, by ``counted_moves``:

- the application leaves its old status (-1) and enters the new one (+1), in
  the counters of the day it was **received** (the business date at intake):
  so the counters of a day say how many of that day's applications are in each
  status now;
- a review's outcome is counted once, in the same day's counters: ``approved``
  when the review moves it on to routing, ``rejected`` when it ends
  ``REJECTED`` (the rules, the bureau failing or the review failing). A manual
  review that expired is neither; a drawdown on a credit line is not reviewed
  (its line was) and is neither.

``approval_rate`` is then approved / (approved + rejected) of the day's
applications decided so far, to 4 decimals, half up (``None`` before any).

Loans are counted by five-tier class while they are ACTIVE (``counted_class``);
``class_moves`` is what one write of a loan moves (``persistence/loan_class_counts.py``).

Pure: no I/O.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping

from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.domain.classification import LoanClass

APPROVED = "approved"
REJECTED = "rejected"
DECISIONS = (APPROVED, REJECTED)
REVIEWING = frozenset({S.RECEIVED.value, S.REVIEWING.value, S.MANUAL_REVIEW.value})
RATE_PLACES = Decimal("0.0001")


def counted_moves(before: str | None, after: str) -> dict[str, int]:
    """What one change of status from ``before`` to ``after`` adds to the counters of the day the
    application was received (``before`` None: the application is new). Nothing for no change."""
    if before == after:
        return {}
    moves = {after: 1}
    if before is not None:
        moves[before] = -1
        if before in REVIEWING and after == S.ROUTING.value:
            moves[APPROVED] = 1
        elif before in REVIEWING and after == S.REJECTED.value:
            moves[REJECTED] = 1
    return moves


def approval_rate(approved: int, rejected: int) -> Decimal | None:
    """Approved of the decided, to 4 decimals half up; None when nothing was decided."""
    decided = approved + rejected
    if decided <= 0:
        return None
    return (Decimal(approved) / Decimal(decided)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def format_rate(rate: Decimal | None) -> str | None:
    return None if rate is None else f"{rate:.4f}"


def by_status(counters: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Every status with the sum of its counters (0 for a status none has)."""
    totals = {status.value: 0 for status in S}
    for counter in counters:
        for status in totals:
            totals[status] += int(counter.get(status) or 0)
    return totals


def decisions(counters: Iterable[Mapping[str, int]]) -> tuple[int, int]:
    """(approved, rejected) summed."""
    approved = rejected = 0
    for counter in counters:
        approved += int(counter.get(APPROVED) or 0)
        rejected += int(counter.get(REJECTED) or 0)
    return approved, rejected


def by_class(counters: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Every five-tier class with the sum of its counters (0 for a class none has)."""
    totals = {loan_class.value: 0 for loan_class in LoanClass}
    for counter in counters:
        for name in totals:
            totals[name] += int(counter.get(name) or 0)
    return totals



def counted_class(status: str, loan_class: str) -> str | None:
    """The class a loan is counted in: its class while it is ACTIVE; not counted otherwise."""
    return loan_class if status == "ACTIVE" else None


def class_moves(before: str | None, after: str | None) -> dict[str, int]:
    """What a change of a loan's counted class (``counted_class``; None: not counted) adds to its branch's counters."""
    if before == after:
        return {}
    moves: dict[str, int] = {}
    if before is not None:
        moves[before] = -1
    if after is not None:
        moves[after] = 1
    return moves
