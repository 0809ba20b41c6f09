"""The day-close kernel (``domain/day_close.py``) gives, figure by figure, what the ``Loan`` path gives.

The reference is the ``Loan`` path itself, run beside the kernel on the same loan:
``loan.accrual(T)``, ``loan.days_past_due(T)``, ``reclassify(previous, dpd)``, ``loan.accrued``.
Random loans (amount, an annual rate with up to 8 decimals, method, term, start dates including
month ends, joint funders, the penalty markup) live through ~120 days of day ends with random gaps
(missed day ends: penalty catch-up), replays of earlier days, repayments through
``repayment.allocate`` (partial, what is due, prepayments, full settlement), the state rebuilt
after each change as the use case would, and stored and read back (``encode``/``decode``) now and
then. Then hand-picked cases with their figures worked out by hand.
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.domain import accounting
from chalicelib.domain.classification import LoanClass, classify, reclassify
from chalicelib.domain.day_close import DayCloseResult, DayCloseState, apply, close, close_day, fold
from chalicelib.domain.loan import Loan, LoanStatus, PrepaymentMode, PrepaymentPolicy, book, split
from chalicelib.domain.repayment import RepaymentRefused, allocate
from chalicelib.domain.schedule import RepaymentMethod as M
from chalicelib.domain.schedule import build_schedule

ONE_DAY = timedelta(days=1)
MONTH_ENDS = [date(2024, 1, 31), date(2024, 2, 29), date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31),
              date(2025, 4, 30), date(2025, 8, 31), date(2025, 10, 31), date(2025, 12, 31), date(2026, 1, 30)]


def fen(x) -> D:
    """Exact value rounded half up to the fen (independent of ``money.to_fen``)."""
    x = F(x)
    cents = math.floor(abs(x) * 100 + F(1, 2))
    return (D(cents if x >= 0 else -cents) / 100).quantize(D("0.01"))


def make_loan(amount: D, rate: D, term: int, method: M, start: date, funders: list[tuple[str, D]] | None = None,
              markup: D = D("0.5"), policy: PrepaymentPolicy = PrepaymentPolicy(), status: LoanStatus = LoanStatus.ACTIVE) -> Loan:
    loan = book(
        loan_id="LN20260115A1", application_id="AP20260115A1", branch_code="B1", partner_id="P1", product_code="CONSUMER_STD",
        customer_id="C1", schedule=build_schedule(amount, rate, term, method, start), funders=funders or [("F1", amount)],
        prepayment=policy, penalty_markup=markup,
    )
    return replace(loan, status=status, version=loan.version + 1)


class Pair:
    """The ``Loan`` path and the kernel side by side; every close checks they agree."""

    def __init__(self, loan: Loan, loan_class: LoanClass | None = None, dpd: int = 0):
        self.loan, self.loan_class, self.dpd = loan, loan_class, dpd
        self.seen: set[int] = set()  # the classes met
        self.repayments = 0
        self.penalised = 0  # closes that accrued a penalty
        self.rebuild()

    def rebuild(self) -> None:
        """After a change of the loan (not a day close): the state built afresh, as the use case does."""
        self.base = self.loan
        self.state = DayCloseState.from_loan(self.loan, self.loan_class, self.dpd)

    def close(self, day: date, round_trip: bool = False) -> DayCloseResult:
        accrual = self.loan.accrual(day)
        dpd = self.loan.days_past_due(day)
        new_class = reclassify(self.loan_class, dpd)
        if round_trip:
            stored = self.state.encode()
            self.state = DayCloseState.decode(stored)
        before = self.state.copy()
        result = close(self.state, day)
        # the accrual: interest and each period's penalty, figure by figure and in the same order
        assert result.accrual() == accrual, (day, result, accrual)
        assert (result.interest, result.penalties) == (int(accrual.interest * 100), tuple((p, int(x * 100)) for p, x in accrual.penalties))
        assert result.empty == accrual.empty
        assert (result.days_past_due, result.loan_class) == (dpd, new_class), (day, result, dpd, new_class)
        assert (result.previous_days_past_due, result.previous_class) == (self.dpd, self.loan_class)
        # booked on the loan, one result at a time or all at once: the loan the Loan path gives
        after = self.loan.accrued(accrual)
        assert apply(self.loan, result) == (after, new_class)
        assert fold(self.base, self.state) == after
        # a state read back from its stored form closes the same day the same way
        again = DayCloseState.decode(before.encode())
        replayed = close(again, day)
        assert (replayed.interest, replayed.penalties, replayed.days_past_due, replayed.class_index) == (
            result.interest, result.penalties, result.days_past_due, result.class_index)
        assert fold(self.base, again) == after
        self.loan, self.loan_class, self.dpd = after, new_class, dpd
        self.seen.add(result.class_index)
        self.penalised += bool(result.penalties)
        return result

    def repay(self, amount: D, day: date) -> bool:
        try:
            allocation = allocate(self.loan, amount, day)
        except RepaymentRefused:
            return False
        self.loan = allocation.loan
        self.repayments += 1
        self.rebuild()
        return True


# -- strategies ------------------------------------------------------------------------------------

_usual = st.integers(min_value=100_000, max_value=50_000_000)  # 1,000.00 .. 500,000.00
amounts = st.one_of(
    _usual, _usual, _usual,
    st.integers(min_value=1, max_value=100_000),  # small: every rounding shows
    st.integers(min_value=50_000_000, max_value=1_000_000_000_00),  # up to 1 billion
).map(lambda f: D(f).scaleb(-2))
terms = st.sampled_from([1, 2, 3, 3, 6, 12, 12, 24, 36])
rates = st.one_of(
    st.integers(min_value=0, max_value=36_000_000).map(lambda x: D(x).scaleb(-8)),  # up to 8 decimals
    st.integers(min_value=0, max_value=3600).map(lambda bp: D(bp).scaleb(-4)),
    st.sampled_from([D("0"), D("0.0435"), D("0.06"), D("0.18"), D("0.24"), D("0.36")]),
)
markups = st.sampled_from([D("0.5"), D("0.5"), D("0.3"), D("0"), D("1.0"), D("0.45")])
starts = st.one_of(st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)), st.sampled_from(MONTH_ENDS))
policies = st.builds(PrepaymentPolicy, st.booleans(), st.sampled_from(list(PrepaymentMode)),
                     st.sampled_from([D("0"), D("0.01"), D("0.03")]))


@st.composite
def loans(draw) -> Loan:
    amount = draw(amounts)
    funders = [("F1", amount)]
    if draw(st.booleans()) and amount >= D("10.00"):
        parts = draw(st.integers(min_value=2, max_value=3))
        weights = [("F1", D("0.6")), ("F2", D("0.3")), ("F3", D("0.1"))][:parts]
        funders = list(split(amount, weights).items())
    return make_loan(amount, draw(rates), draw(terms), draw(st.sampled_from(list(M))),
                     draw(starts), funders, draw(markups), draw(policies))


# a step: how many days on (0: replay an earlier day), and what is paid that day before the close
steps = st.tuples(
    st.one_of(st.just(1), st.just(1), st.just(1), st.integers(min_value=2, max_value=40), st.just(0)),
    # about one step in ten pays something; a full settlement one in a hundred
    st.sampled_from([None] * 90 + ["due", "due", "part", "part", "part", "current", "current", "prepay", "prepay", "settle"]),
    st.integers(min_value=1, max_value=99),  # a percentage, for the partial amounts
    st.booleans(),  # store and read the state back before this close
)


def amount_for(loan: Loan, kind: str, percent: int, day: date) -> D | None:
    if loan.status is not LoanStatus.ACTIVE:
        return None
    due = sum((i.unpaid for i in loan.due(day)), D("0"))
    quote = loan.settlement(day)
    if kind == "due":
        amount = due
    elif kind == "part":
        amount = (due * percent / 100).quantize(D("0.01"))
    elif kind == "settle":
        amount = quote.total
    elif kind == "current":
        current = loan.current(day)
        amount = due + (current.unpaid if current is not None and current.due_date > day else D("0"))
    else:  # prepay: what is due, the current installment, and part of the rest
        amount = due + ((quote.total - due) * percent / 100).quantize(D("0.01"))
    return amount if amount > 0 else None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(loan=loans(), first=st.integers(min_value=-3, max_value=45), plan=st.lists(steps, min_size=25, max_size=70),
       disbursing=st.integers(min_value=0, max_value=3), recorded=st.sampled_from([None, *LoanClass]))
def test_the_kernel_gives_what_the_loan_path_gives_day_after_day(loan, first, plan, disbursing, recorded):
    """Up to ~120+ days of day ends: the same accrual, days past due, class, and loan afterwards.
    ``recorded``: the class the last day end gave (a worse one stays while the loan is overdue)."""
    if disbursing:  # the first closes find the loan DISBURSING (the payment not yet confirmed)
        loan = replace(loan, status=LoanStatus.DISBURSING)
    pair = Pair(loan, recorded)
    day = loan.start_date + timedelta(days=first)  # the first close may come late: catch-up from the due date
    closes = 0
    for gap, kind, percent, round_trip in plan:
        if gap == 0:  # a day end replayed for an earlier day: accrues nothing, still classifies
            pair.close(day - timedelta(days=percent % 5), round_trip)
            continue
        day += timedelta(days=gap)
        if pair.loan.status is LoanStatus.DISBURSING and closes >= disbursing:
            pair.loan = replace(pair.loan, status=LoanStatus.ACTIVE, version=pair.loan.version + 1)
            pair.rebuild()
        if kind is not None and (amount := amount_for(pair.loan, kind, percent, day)) is not None:
            pair.repay(amount, day)
        pair.close(day, round_trip)
        closes += 1
    # what was exercised (``pytest --hypothesis-show-statistics``)
    event(f"days closed: {(day - loan.start_date).days // 30 * 30}+")
    event(f"status at the end: {pair.loan.status.value}")
    event(f"worst class: {max(pair.seen, default=0)}")
    event(f"closes with penalties: {min(pair.penalised, 10) // 5 * 5}+")
    event(f"repayments taken: {min(pair.repayments, 3)}")


@settings(max_examples=300, deadline=None)
@given(loan=loans(), gaps=st.lists(st.integers(min_value=1, max_value=60), min_size=3, max_size=12),
       late_payer=st.integers(min_value=0, max_value=4))
def test_long_overdue_loans_climb_the_classes_and_never_improve_while_overdue(loan, gaps, late_payer):
    """Nothing paid for up to ~1,400 days, but maybe part of what is due once: the classes, penalties
    and catch-up agree; a part payment that leaves the loan overdue keeps its class."""
    pair = Pair(loan, LoanClass.NORMAL)
    day = loan.start_date
    for n, gap in enumerate(gaps):
        day += timedelta(days=gap * (3 if n % 2 else 1))
        if n == late_payer and (amount := amount_for(pair.loan, "part", 40, day)) is not None:
            pair.repay(amount, day)
        result = pair.close(day)
        if result.days_past_due:
            assert result.class_index >= max(0, result.previous_class_index)
    event(f"worst class: {max(pair.seen)}")
    event(f"closes with penalties: {min(pair.penalised, 10) // 5 * 5}+")


@settings(max_examples=500)
@given(principal=st.integers(min_value=0, max_value=10**13), rate=rates, markup=markups)
def test_the_daily_penalty_is_loan_daily_penalty_to_the_fen(principal, rate, markup):
    """The state's daily penalty (integers) is ``Loan.daily_penalty`` (40-digit Decimal) exactly."""
    loan = make_loan(D("1000.00"), rate, 1, M.BULLET, date(2025, 1, 31), markup=markup)
    unpaid = D(principal).scaleb(-2)
    row = replace(loan.installments[0], principal=unpaid, interest=D("0.00"))
    loan = replace(loan, installments=(row,))
    state = DayCloseState.from_loan(loan)
    assert D(state.rows[3]).scaleb(-2) == loan.daily_penalty(row) == fen(F(unpaid) * F(rate) * (1 + F(markup)) / 360)


# -- hand-picked cases -------------------------------------------------------------------------------

JAN15 = date(2026, 1, 15)
# 12000.00 at 6%, 3 months, equal installments (test_loan_accounting.py's S3):
# rows 15 Feb 3980.07 + 60.00, 15 Mar 3999.97 + 40.10, 15 Apr 4019.96 + 20.10


def s3(**changes) -> Loan:
    return replace(make_loan(D("12000.00"), D("0.06"), 3, M.EQUAL_INSTALLMENT, JAN15), **changes)


def closed_through(pair: Pair, last: date, first: date | None = None) -> Pair:
    day = first or pair.loan.start_date + ONE_DAY
    while day <= last:
        pair.close(day)
        day += ONE_DAY
    return pair


def test_due_today_is_not_overdue_no_penalty_the_period_s_interest_completes():
    pair = closed_through(Pair(s3()), date(2026, 2, 14))
    result = pair.close(date(2026, 2, 15))
    # 60.00 - 60 * 30/31 (58.06) = 1.94; nothing overdue on the due date itself
    assert (result.interest, result.penalties, result.days_past_due, result.loan_class) == (194, (), 0, LoanClass.NORMAL)
    assert pair.loan.interest_recognised == D("60.00")


def test_the_first_overdue_day():
    pair = closed_through(Pair(s3(), LoanClass.NORMAL), date(2026, 2, 15))
    result = pair.close(date(2026, 2, 16))
    # 3980.07 * 0.06 * 1.5 / 360 = 0.9950175 -> 1.00; interest 40.10 / 28 = 1.432 -> 1.43
    assert result.penalties == ((1, 100),) and result.interest == 143
    assert (result.days_past_due, result.loan_class, result.previous_class) == (1, LoanClass.SPECIAL_MENTION, LoanClass.NORMAL)


def test_missed_day_ends_are_caught_up_day_by_day_rounded():
    pair = closed_through(Pair(s3()), date(2026, 2, 10))
    result = pair.close(date(2026, 3, 20))  # nothing closed 11 Feb .. 19 Mar
    # row 1 overdue 16 Feb .. 20 Mar: 33 days at 1.00; row 2 16 .. 20 Mar: 5 days at 1.00 (0.9999925 -> 1.00)
    assert result.penalties == ((1, 3300), (2, 500))
    # interest by 20 Mar 60.00 + 40.10 + 20.10 * 5/31 (3.24) = 103.34, less 60 * 26/31 (50.32) recognised by 10 Feb
    assert result.interest == 10334 - 5032
    assert result.days_past_due == 33


def test_a_first_close_long_after_the_due_date_counts_penalty_from_the_due_date():
    pair = Pair(s3())  # never closed: accrued_through is None
    result = pair.close(date(2026, 2, 20))
    assert result.penalties == ((1, 500),)  # 16 .. 20 Feb


def test_zero_rate_accrues_nothing_but_is_classified():
    pair = Pair(make_loan(D("1200.00"), D("0"), 12, M.EQUAL_PRINCIPAL, date(2025, 1, 31)), LoanClass.NORMAL)
    closed_through(pair, date(2025, 6, 30))
    result = pair.close(date(2025, 7, 1))
    assert result.empty and result.interest == 0 and result.penalties == ()
    # the first row (due 28 Feb) unpaid: on 1 Jul, 31 + 30 + 31 + 30 + 1 = 123 days past due; no penalty at 0%
    assert result.days_past_due == 123 and result.loan_class is LoanClass.SUBSTANDARD


def test_a_settled_loan_accrues_nothing_and_is_normal():
    pair = closed_through(Pair(s3(), LoanClass.NORMAL), date(2026, 2, 20))
    assert pair.loan_class is LoanClass.SPECIAL_MENTION
    assert pair.repay(pair.loan.settlement(date(2026, 2, 21)).total, date(2026, 2, 21))
    assert pair.loan.status is LoanStatus.SETTLED
    for day in (date(2026, 2, 21), date(2026, 2, 22), date(2026, 6, 1)):
        result = pair.close(day)
        assert result.empty and result.days_past_due == 0 and result.loan_class is LoanClass.NORMAL
    assert pair.state.active == 0 and pair.state.oldest_unpaid_due == 0


def test_a_disbursing_loan_accrues_nothing():
    loan = s3(status=LoanStatus.DISBURSING)
    state = DayCloseState.from_loan(loan)
    result = close(state, date(2026, 1, 16))
    assert result.empty and result.accrual() == loan.accrual(date(2026, 1, 16))
    assert accounting.accrual(loan, result.accrual()) is None
    # as Loan.accrued does, the day counts as closed (accrued_through moves), the version too
    assert fold(loan, state) == loan.accrued(loan.accrual(date(2026, 1, 16)))


def test_a_day_replayed_accrues_nothing_twice():
    pair = closed_through(Pair(s3()), date(2026, 2, 20))
    for day in (date(2026, 2, 20), date(2026, 2, 19), JAN15):
        assert pair.close(day).empty
    assert pair.close(date(2026, 2, 21)).penalties == ((1, 100),)


def test_a_part_payment_leaves_the_class_while_overdue_and_a_cure_makes_it_normal():
    pair = closed_through(Pair(s3(), LoanClass.NORMAL), date(2026, 3, 20))
    assert pair.loan_class is LoanClass.SPECIAL_MENTION
    pair.state.class_index = 2  # say the loan was SUBSTANDARD (the class the last day end recorded)
    pair.loan_class = LoanClass.SUBSTANDARD
    assert pair.repay(D("100.00"), date(2026, 3, 21))  # part of the penalty and interest: still overdue
    assert pair.close(date(2026, 3, 21)).loan_class is LoanClass.SUBSTANDARD
    due = sum((i.unpaid for i in pair.loan.due(date(2026, 3, 22))), D("0"))
    assert pair.repay(due, date(2026, 3, 22))
    assert pair.close(date(2026, 3, 22)).loan_class is LoanClass.NORMAL


@pytest.mark.parametrize("recorded, dpd, expected", [
    (LoanClass.SUBSTANDARD, 1, LoanClass.SUBSTANDARD),  # still overdue: never better
    (LoanClass.LOSS, 5, LoanClass.LOSS),
    (LoanClass.SPECIAL_MENTION, 91, LoanClass.SUBSTANDARD),  # worse: follows the days
    (LoanClass.DOUBTFUL, 0, LoanClass.NORMAL),  # current again
    (None, 1, LoanClass.SPECIAL_MENTION),
])
def test_the_class_recorded_stays_while_overdue(recorded, dpd, expected):
    pair = Pair(s3(), recorded)
    result = pair.close(date(2026, 2, 15) + timedelta(days=dpd))  # the first due date + dpd
    assert (result.days_past_due, result.loan_class) == (dpd, expected)


def test_the_stored_form_round_trips_and_drops_what_nothing_reads_again():
    pair = closed_through(Pair(make_loan(D("36000.00"), D("0.12345678"), 36, M.EQUAL_INSTALLMENT, date(2025, 1, 31))), date(2025, 2, 27))
    first = pair.loan.installments[0]
    assert pair.repay(first.unpaid, date(2025, 2, 28))  # paid on its due date: rebuilt, nothing folded yet
    assert pair.state.cursor == 0 and len(pair.state.rows) == 5 * 36
    closed_through(pair, date(2025, 3, 5), date(2025, 2, 28))
    state = pair.state
    assert state.cursor == 5  # row 1 (28 Feb) folded
    stored = state.encode()
    back = DayCloseState.decode(stored)
    assert back.rows == state.rows[5:] and back.cursor == 0  # paid and folded: nothing reads it again
    assert len(stored) == 8 * (12 + 5 * 35)
    assert back.describe()["rows"][0]["due"] == "2025-03-31"
    with pytest.raises(ValueError):
        DayCloseState.decode(stored[:-8])


def test_fold_refuses_a_state_built_on_another_version():
    loan = s3()
    state = DayCloseState.from_loan(loan)
    close(state, date(2026, 1, 16))
    with pytest.raises(ValueError):
        fold(replace(loan, version=loan.version + 1), state)
    assert fold(loan, DayCloseState.from_loan(loan)) is loan


def test_a_loan_out_of_order_is_refused_not_misread():
    loan = s3()
    rows = loan.installments
    with pytest.raises(ValueError):
        DayCloseState.from_loan(replace(loan, installments=(rows[1], rows[0], rows[2])))
    with pytest.raises(ValueError):
        DayCloseState.from_loan(replace(loan, installments=(replace(rows[0], interest=D("-1.00")),) + rows[1:]))
    with pytest.raises(ValueError):
        DayCloseState.from_loan(replace(loan, installments=(replace(rows[0], interest=D("1.001")),) + rows[1:]))


def test_close_day_takes_ordinals_and_classes_follow_classify():
    state = DayCloseState.from_loan(s3())
    for dpd in (1, 90, 91, 270, 271, 360, 361):
        result = close_day(state, date(2026, 2, 15).toordinal() + dpd)
        assert result.days_past_due == dpd and result.loan_class is classify(dpd)
