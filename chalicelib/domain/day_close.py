"""The nightly close of one loan (日终: 计提, 逾期天数, 五级分类) as a fast integer kernel.

What it computes is exactly what the ``Loan`` path computes for business day T::

    accrual = loan.accrual(T)                      # interest, and each overdue period's penalty
    dpd = loan.days_past_due(T)
    new_class = reclassify(previous_class, dpd)
    loan = loan.accrued(accrual)                   # accrued_through = max(.., T), version + 1

but on a compact state of integers (fen, ordinal days) instead of Decimals and
frozen dataclasses: ~1 microsecond a loan instead of ~22, or ~2.3 with the
state read from and written back to its stored form (``bench/day_end.py``). The property tests
(``tests/property/test_day_close_properties.py``) hold it to the ``Loan`` path
figure by figure, day after day, with repayments and missed day ends in between.

The state (``DayCloseState``)
-----------------------------

Built once from a ``Loan`` (``DayCloseState.from_loan``), after every change
of the loan that is not a day close (disbursement, repayment, prepayment,
settlement). What a day close needs of a loan is static until then:

- per installment, in the loan's order: its due date (ordinal), period,
  interest (fen), and its **daily penalty** (fen): the overdue penalty of one
  day, ``to_fen(unpaid principal * rate * (1 + markup) / 360)``, which depends
  only on the unpaid principal, so it is worked out here once, exactly (the
  rate as a ``Fraction``, rounded half up with integers: the same figure as
  ``Loan.daily_penalty``; 0 for a paid installment, which accrues nothing);
- the due date of the oldest unpaid installment (days past due);
- the loan's interest recognised, as ``gap``: the interest of the installments
  already due by ``accrued_through`` ("folded") less the interest recognised.
  Interest earned by day T is then ``gap`` + the interest of the installments
  due since + the current one's share ``to_fen(interest * elapsed / days)``,
  the same sum ``Loan.interest_earned`` makes;
- ``accrued_through`` (ordinal, 0 for none), the class (0..4, -1 for none),
  the last days past due, the version.

``close_day(state, day)`` advances the state in place (it is the loan's
working copy for the batch) and answers a ``DayCloseResult``: the day's
interest and penalties (fen), days past due and class, before and after.
``apply(loan, result)`` books a result on the ``Loan`` (``loan.accrued``), and
``fold(loan, state)`` books at once everything a state has accrued since it was
built from ``loan`` (the state keeps the interest and each installment's
penalty accrued since): both give the ``Loan`` the ``Loan`` path would have.

Integer arithmetic, and why it is exact
---------------------------------------

The ``Loan`` path computes in a 40-digit decimal context and rounds half up to
the fen once. For the figures involved (rates with at most 8 decimals,
amounts below 10^13 yuan, periods of at most a few thousand days) every
product is exact in 40 digits, and the one division (by 360, or by the days
of a period) is off by less than 10^-29 while a non-exact quotient is at
least 1/(360 * 10^11) away from a half fen: the decimal result rounds as the
exact rational does. Here that rational is rounded directly:
``half_up(n / d) = (2n + d) // (2d)`` for n >= 0. The property tests check it
against the ``Loan`` path.

How the state is stored, and read each night
--------------------------------------------

Reading the loan document each night (``json.loads``, ``from_document``, then
``from_loan``) costs ~75 microseconds a loan: on its own 7 times the 10
microseconds a loan that 100,000 loans a second per core allows. So the state
is stored as it is, alongside the document: ``encode`` gives a small binary
string (little-endian int64s: a 12-number header, the format first, then 5 per
installment still relevant; ~480 bytes on average, at most ~1,500 for a new
36-month loan), ``decode`` reads it back in under a microsecond (the header
unpacked, the rows kept as an ``array``: only the few a close reads become
Python ints). A JSON list of the same numbers was measured too: ``json.loads``
and ``json.dumps`` of 70 integers cost ~10 microseconds, the whole budget.

The trade-offs, for whoever wires it into ``persistence/loans.py``:

- Store it as its own item (``LOAN#<id>`` / ``DAY_CLOSE``, a Binary
  attribute), not on the loan item: DynamoDB charges a write by the size of
  the whole item, and the night writes only this (~1 write unit) instead of
  the 2-5 KB loan item.
- The night does not rewrite the loan document: the state carries what was
  accrued since the document was written (interest, each installment's
  penalty, ``accrued_through``, the version), and ``fold`` turns document +
  state into the current ``Loan``. Every reader of a loan that needs its
  accruals (repayment, settlement quote, views, credit reporting) must read
  both items and fold; every change of a loan writes the folded document and a
  fresh state (``from_loan``) in the same transaction, under conditions on both
  versions. The state's ``base_version`` is the document version it was built
  on: a state whose ``base_version`` is not the document's is stale (rebuild it
  from the document; ``fold`` refuses it).
- Rewriting the document nightly instead (read, accrue, write: no second
  source of truth) is the simpler model, and costs ~130 microseconds of CPU a
  loan through the ``Loan`` path (``bench/day_end.py`` measures it): ~7,500
  loans a second per core instead of >100,000.
- Binary is not readable in the console; ``DayCloseState.describe`` spells a
  state out.
- The state has no loan id, branch or funders: the accrual posting
  (``accounting.accrual``) needs them and is not part of the kernel.
"""
from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from chalicelib.domain.classification import LoanClass
from chalicelib.domain.loan import DAYS_IN_YEAR, Accrual, Loan, LoanStatus

FORMAT = 1
CLASSES: tuple[LoanClass, ...] = tuple(LoanClass)  # NORMAL, SPECIAL_MENTION, SUBSTANDARD, DOUBTFUL, LOSS
NO_CLASS = -1
_CLASS_INDEX = {c: n for n, c in enumerate(CLASSES)}

# a row per installment: due (ordinal), period, interest (fen), daily penalty (fen), penalty accrued since built (fen)
ROW = 5
DUE, PERIOD, INTEREST, DAILY_PENALTY, PENALTY_ACCRUED = range(ROW)
_HEADER_FORMAT = struct.Struct("<12q")  # FORMAT, then the header fields (see encode)
_LITTLE = sys.byteorder == "little"


def _fen(value: Decimal, what: str) -> int:
    cents = value.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"{what} is not a whole number of fen: {value}")
    return int(cents)


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded half up (away from zero), as ``to_fen`` does."""
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((2 * -numerator + denominator) // (2 * denominator))


class DayCloseResult:
    """What the close of ``day`` (ordinal) gave: interest and penalties in fen, days past due and
    class (indices into ``CLASSES``), and the days past due and class the loan had before."""

    __slots__ = ("day", "interest", "penalties", "days_past_due", "class_index", "previous_days_past_due", "previous_class_index")

    def __init__(self, day: int, interest: int, penalties: tuple[tuple[int, int], ...], dpd: int, cls: int, previous_dpd: int, previous_cls: int):
        self.day = day
        self.interest = interest
        self.penalties = penalties  # (period, fen), in the loan's order
        self.days_past_due = dpd
        self.class_index = cls
        self.previous_days_past_due = previous_dpd
        self.previous_class_index = previous_cls

    @property
    def penalty(self) -> int:
        return sum(p for _, p in self.penalties)

    @property
    def empty(self) -> bool:
        return not self.interest and not self.penalty

    @property
    def loan_class(self) -> LoanClass:
        return CLASSES[self.class_index]

    @property
    def previous_class(self) -> LoanClass | None:
        return CLASSES[self.previous_class_index] if self.previous_class_index >= 0 else None

    def accrual(self) -> Accrual:
        """The ``Accrual`` the ``Loan`` path gives (for ``Loan.accrued`` and ``accounting.accrual``)."""
        return Accrual(
            date.fromordinal(self.day),
            Decimal(self.interest).scaleb(-2),
            tuple((period, Decimal(fen).scaleb(-2)) for period, fen in self.penalties),
        )

    def __repr__(self) -> str:
        return (
            f"DayCloseResult(day={date.fromordinal(self.day)}, interest={self.interest}, penalties={self.penalties}, "
            f"dpd={self.previous_days_past_due}->{self.days_past_due}, class={self.previous_class_index}->{self.class_index})"
        )


class DayCloseState:
    """What the day close needs of one loan, in integers (see the module's notes)."""

    __slots__ = (
        "base_version",  # the loan version it was built from
        "version",  # the version the loan has after the closes applied (base + closes)
        "active",  # 1 when the loan is ACTIVE (nothing else accrues)
        "accrued_through",  # ordinal of the last day accrued, 0 for none
        "gap",  # interest of the installments folded (due by accrued_through) less the interest recognised
        "interest_accrued",  # interest accrued since built
        "class_index",  # the class the last close gave, -1 for none
        "days_past_due",  # the days past due the last close gave
        "oldest_unpaid_due",  # ordinal of the first unpaid installment's due date, 0 for none
        "period_start",  # the period start of the row at ``cursor``
        "cursor",  # offset in ``rows`` of the first installment not folded (due after accrued_through)
        "rows",  # array of int64, flat: ROW numbers per installment, in the loan's order
    )

    @classmethod
    def from_loan(cls, loan: Loan, loan_class: LoanClass | None = None, days_past_due: int = 0) -> "DayCloseState":
        """The state of ``loan`` with the class (and days past due) the last day end gave it.

        ``ValueError`` for a loan the kernel does not take: installments out of period or due
        order, or amounts not in whole fen, or a negative interest (no such loan is booked or
        left by ``repayment.allocate``; the ``Loan`` path is the fallback)."""
        rate = Fraction(loan.annual_rate) * (1 + Fraction(loan.penalty_markup)) / DAYS_IN_YEAR
        at = loan.accrued_through.toordinal() if loan.accrued_through is not None else 0
        gap = -_fen(loan.interest_recognised, "interest recognised")
        rows: list[int] = []
        oldest, cursor, start = 0, -1, loan.start_date.toordinal()
        last_period, last_due = None, 0
        for i in loan.installments:
            due = i.due_date.toordinal()
            if last_period is not None and (i.period <= last_period or due < last_due):
                raise ValueError("the installments are not in period and due-date order")
            last_period, last_due = i.period, due
            interest = _fen(i.interest, "interest")
            if interest < 0:
                raise ValueError("negative interest")
            paid = i.paid
            if not paid and not oldest:
                oldest = due
            daily = 0 if paid else max(0, _half_up(_fen(i.unpaid_principal, "principal") * rate.numerator, rate.denominator))
            if due <= at:  # folded: its interest is earned for every day still to close
                gap += interest
                start = due
                if daily:  # overdue and unpaid: still accrues penalty
                    rows += (due, i.period, interest, daily, 0)
            else:
                if cursor < 0:
                    cursor = len(rows)
                rows += (due, i.period, interest, daily, 0)
        state = cls.__new__(cls)
        state.base_version = state.version = loan.version
        state.active = 1 if loan.status is LoanStatus.ACTIVE else 0
        state.accrued_through = at
        state.gap = gap
        state.interest_accrued = 0
        state.class_index = _CLASS_INDEX[loan_class] if loan_class is not None else NO_CLASS
        state.days_past_due = days_past_due
        state.oldest_unpaid_due = oldest
        state.period_start = start
        state.cursor = cursor if cursor >= 0 else len(rows)
        state.rows = array("q", rows)
        return state

    # -- stored form ----------------------------------------------------------------------------

    def encode(self) -> bytes:
        """The stored form: little-endian int64s, the header then the rows still relevant (an
        installment already folded whose daily penalty is 0 is dropped: nothing reads it again)."""
        rows, cursor = self.rows, self.cursor
        if cursor:
            kept = array("q")
            for j in range(0, cursor, ROW):
                if rows[j + DAILY_PENALTY] or rows[j + PENALTY_ACCRUED]:
                    kept += rows[j:j + ROW]
            rows = kept + rows[cursor:]
            cursor = len(kept)
        if not _LITTLE:  # pragma: no cover - every Lambda architecture is little-endian
            rows = array("q", rows)
            rows.byteswap()
        return _HEADER_FORMAT.pack(FORMAT, self.base_version, self.version, self.active, self.accrued_through, self.gap, self.interest_accrued,
                                   self.class_index, self.days_past_due, self.oldest_unpaid_due, self.period_start, cursor) + rows.tobytes()

    @classmethod
    def decode(cls, data: bytes) -> "DayCloseState":
        """The state from its stored form: the header unpacked, the rows kept as an ``array``
        (only the few the close reads become Python ints)."""
        if len(data) < _HEADER_FORMAT.size or (len(data) - _HEADER_FORMAT.size) % (8 * ROW):
            raise ValueError("not a day-close state: wrong length")
        state = cls.__new__(cls)
        (version, state.base_version, state.version, state.active, state.accrued_through, state.gap, state.interest_accrued,
         state.class_index, state.days_past_due, state.oldest_unpaid_due, state.period_start, state.cursor) = _HEADER_FORMAT.unpack_from(data)
        if version != FORMAT:
            raise ValueError(f"not a day-close state of format {FORMAT}")
        rows = state.rows = array("q")
        rows.frombytes(memoryview(data)[_HEADER_FORMAT.size:])
        if not _LITTLE:  # pragma: no cover
            rows.byteswap()
        return state

    def copy(self) -> "DayCloseState":
        other = DayCloseState.__new__(DayCloseState)
        for name in DayCloseState.__slots__:
            setattr(other, name, getattr(self, name))
        other.rows = array("q", self.rows)
        return other

    def describe(self) -> dict[str, Any]:
        """The state spelt out (for logs and the console)."""
        day = lambda o: date.fromordinal(o).isoformat() if o > 0 else None  # noqa: E731
        return {
            "base_version": self.base_version,
            "version": self.version,
            "active": bool(self.active),
            "accrued_through": day(self.accrued_through),
            "gap_fen": self.gap,
            "interest_accrued_fen": self.interest_accrued,
            "class": CLASSES[self.class_index].value if self.class_index >= 0 else None,
            "days_past_due": self.days_past_due,
            "oldest_unpaid_due": day(self.oldest_unpaid_due),
            "period_start": day(self.period_start),
            "cursor_row": self.cursor // ROW,
            "rows": [
                {"due": day(r[DUE]), "period": r[PERIOD], "interest_fen": r[INTEREST], "daily_penalty_fen": r[DAILY_PENALTY], "penalty_accrued_fen": r[PENALTY_ACCRUED]}
                for r in (self.rows[j:j + ROW] for j in range(0, len(self.rows), ROW))
            ],
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DayCloseState) and all(getattr(self, n) == getattr(other, n) for n in DayCloseState.__slots__)

    __hash__ = None  # type: ignore[assignment]


def close_day(state: DayCloseState, day: int) -> DayCloseResult:
    """Close business day ``day`` (an ordinal) for one loan: accrual, days past due, class.

    Advances ``state`` in place as ``loan.accrued(loan.accrual(day))`` advances the loan (a day
    at or before ``accrued_through``, or a loan that is not ACTIVE, accrues nothing, but is
    still classified)."""
    at = state.accrued_through
    rows = state.rows
    if day > at and state.active:
        # interest: the installments due by ``day`` in full, the current one its share of the days elapsed
        gap, c, start, n = state.gap, state.cursor, state.period_start, len(rows)
        while c < n and rows[c] <= day:
            gap += rows[c + INTEREST]
            start = rows[c]
            c += ROW
        interest = gap
        if c < n:
            days, elapsed = rows[c] - start, day - start
            if days > 0 and elapsed > 0:
                interest += (2 * rows[c + INTEREST] * elapsed + days) // (2 * days)
        if interest < 0:
            interest = 0
        state.gap = gap - interest
        state.cursor, state.period_start = c, start
        state.interest_accrued += interest
        # penalty: each overdue installment, a day's worth for every day since accrued (or since due)
        penalties = []
        j = 0
        while j < n and rows[j] < day:
            daily = rows[j + DAILY_PENALTY]
            if daily:
                due = rows[j]
                p = daily * (day - (due if due > at else at))
                penalties.append((rows[j + PERIOD], p))
                rows[j + PENALTY_ACCRUED] += p
            j += ROW
        penalties = tuple(penalties)
    else:
        interest, penalties = 0, ()
    if day > at:
        state.accrued_through = day
    oldest = state.oldest_unpaid_due
    dpd = day - oldest if 0 < oldest < day else 0
    previous_dpd, previous = state.days_past_due, state.class_index
    if dpd == 0:
        cls = 0
    else:
        cls = 1 if dpd <= 90 else 2 if dpd <= 270 else 3 if dpd <= 360 else 4
        if previous > cls:
            cls = previous
    state.days_past_due, state.class_index = dpd, cls
    state.version += 1
    return DayCloseResult(day, interest, penalties, dpd, cls, previous_dpd, previous)


def close(state: DayCloseState, day: date) -> DayCloseResult:
    """``close_day`` for a ``date``."""
    return close_day(state, day.toordinal())


def apply(loan: Loan, result: DayCloseResult) -> tuple[Loan, LoanClass]:
    """The loan after ``result`` is booked (``loan.accrued``), and its class."""
    return loan.accrued(result.accrual()), result.loan_class


def fold(loan: Loan, state: DayCloseState) -> Loan:
    """``loan`` with everything ``state`` accrued since it was built from it: the ``Loan`` that
    booking each of those closes' results would give. ``ValueError`` when ``state`` was not built
    on this version of the loan (stale: rebuild it)."""
    if loan.version != state.base_version:
        raise ValueError(f"the day-close state was built on version {state.base_version}, the loan is at {loan.version}")
    if state.version == state.base_version:
        return loan
    rows = state.rows
    extra = {rows[j + PERIOD]: rows[j + PENALTY_ACCRUED] for j in range(0, len(rows), ROW) if rows[j + PENALTY_ACCRUED]}
    installments = tuple(
        replace(i, penalty=i.penalty + Decimal(extra[i.period]).scaleb(-2)) if i.period in extra else i for i in loan.installments
    )
    interest = Decimal(state.interest_accrued).scaleb(-2)
    return replace(
        loan,
        installments=installments,
        interest_receivable=loan.interest_receivable + interest,
        interest_recognised=loan.interest_recognised + interest,
        accrued_through=date.fromordinal(state.accrued_through) if state.accrued_through else loan.accrued_through,
        version=state.version,
    )
