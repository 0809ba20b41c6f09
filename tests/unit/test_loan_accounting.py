"""Hand-checked examples for the loan account, repayment allocation, the ledger and its postings.

Every expected figure is worked out here, independently of the code under test: by hand (the
arithmetic is in the comments) or with exact fractions and an explicit half-up rounding to the fen
(``fen``). The schedules the loans are booked from are pinned in ``test_schedule.py`` and again
below (``S3``).
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from chalicelib.domain import accounting
from chalicelib.domain.ledger import (
    GATEWAY,
    LOAN_LEVEL,
    Account,
    Balance,
    Book,
    LedgerViolation,
    Line,
    Posting,
    Side,
    UnbalancedPosting,
    lines,
    trial_balance,
)
from chalicelib.domain.loan import (
    FunderShare,
    Loan,
    LoanStatus,
    PrepaymentMode,
    PrepaymentPolicy,
    book,
    loan_id_for,
    split,
)
from chalicelib.domain.repayment import (
    FEE,
    INTEREST,
    PENALTY,
    PRINCIPAL,
    Allocated,
    RepaymentRefused,
    allocate,
)
from chalicelib.domain.schedule import RepaymentMethod as M
from chalicelib.domain.schedule import build_schedule

A, DR, CR = Account, Side.DEBIT, Side.CREDIT
JAN15 = date(2026, 1, 15)
ONE_DAY = timedelta(days=1)


# -- independent arithmetic ----------------------------------------------------------------------


def fen(x) -> D:
    """Exact value (Fraction, Decimal, int or str) rounded half up to the fen."""
    x = F(x)
    cents = math.floor(abs(x) * 100 + F(1, 2))
    return (D(cents if x >= 0 else -cents) / 100).quantize(D("0.01"))


def floor_fen(x) -> D:
    return (D(math.floor(F(x) * 100)) / 100).quantize(D("0.01"))


def annuity(principal, annual, n: int) -> D:
    """P*r*(1+r)^n / ((1+r)^n - 1), r = annual / 12, exactly, then rounded."""
    r = F(annual) / 12
    growth = (1 + r) ** n
    return fen(F(principal) * r * growth / (growth - 1))


def monthly_interest(balance, annual) -> D:
    return fen(F(balance) * F(annual) / 12)


def annuity_rows(balance, annual, n: int, payment) -> list[tuple[D, D]]:
    """(principal, interest) of each row paying ``payment`` until the balance is gone (the last
    row, or the one that would overpay, takes the rest), at most ``n`` rows."""
    balance, out = D(balance), []
    for k in range(n):
        interest = monthly_interest(balance, annual)
        principal = balance if k == n - 1 else min(D(payment) - interest, balance)
        balance -= principal
        out.append((principal, interest))
        if balance == 0:
            break
    return out


def daily_penalty(principal, annual, markup="0.5") -> D:
    return fen(F(principal) * F(annual) * (1 + F(markup)) / 360)


# -- loans ---------------------------------------------------------------------------------------

# 12000.00 at 6%, 3 months, equal installments, from 15 Jan 2026 (see test_schedule.py):
# r = 0.005, payment 4040.07; interest 12000*0.005 = 60.00, 8019.93*0.005 = 40.09965 -> 40.10,
# 4019.96*0.005 = 20.0998 -> 20.10; the last row clears the balance.
S3 = [
    (1, date(2026, 2, 15), D("3980.07"), D("60.00")),
    (2, date(2026, 3, 15), D("3999.97"), D("40.10")),
    (3, date(2026, 4, 15), D("4019.96"), D("20.10")),
]


def active(
    amount: str = "12000.00",
    rate: str = "0.06",
    term: int = 3,
    method: M = M.EQUAL_INSTALLMENT,
    start: date = JAN15,
    funders: list[tuple[str, D]] | None = None,
    policy: PrepaymentPolicy = PrepaymentPolicy(),
    loan_id: str = "LN20260115A1",
    branch: str = "B1",
) -> Loan:
    loan = book(
        loan_id=loan_id,
        application_id="AP" + loan_id[2:],
        branch_code=branch,
        partner_id="P1",
        product_code="CONSUMER_STD",
        customer_id="C1",
        schedule=build_schedule(D(amount), D(rate), term, method, start),
        funders=funders or [("F1", D(amount))],
        prepayment=policy,
    )
    return replace(loan, status=LoanStatus.ACTIVE, version=loan.version + 1)


def day_ends(loan: Loan, first: date, last: date, ledger: Book | None = None) -> Loan:
    """Run the day end of every day from ``first`` through ``last``, posting to ``ledger`` if given."""
    day = first
    while day <= last:
        accrued = loan.accrual(day)
        if ledger is not None:
            posting = accounting.accrual(loan, accrued)
            if posting is not None:
                assert ledger.post(posting)
        loan = loan.accrued(accrued)
        day += ONE_DAY
    return loan


def with_penalties(loan: Loan, **penalty_by_period: str) -> Loan:
    """The loan with these penalties already accrued (``p1="3.00"``)."""
    extra = {int(k[1:]): D(v) for k, v in penalty_by_period.items()}
    return replace(loan, installments=tuple(replace(i, penalty=extra.get(i.period, i.penalty)) for i in loan.installments))


def items(allocation) -> list[tuple]:
    return [(i.period, i.component, i.amount, i.kind) for i in allocation.items]


def rows(loan: Loan) -> list[tuple]:
    return [(i.period, i.due_date, i.principal, i.interest) for i in loan.installments]


def line_set(posting: Posting) -> set[tuple]:
    return {(line.account, line.party, line.side, line.amount) for line in posting.lines}


def refused(loan: Loan, amount: str, day: date) -> str:
    with pytest.raises(RepaymentRefused) as caught:
        allocate(loan, D(amount), day)
    return caught.value.code


def principal_adds_up(loan: Loan) -> bool:
    return sum((i.principal for i in loan.installments), D("0")) == loan.amount


# -- booking ---------------------------------------------------------------------------------------


def test_a_booked_loan_carries_its_schedule_and_funders():
    schedule = build_schedule(D("12000.00"), D("0.06"), 3, M.EQUAL_INSTALLMENT, JAN15)
    loan = book(
        loan_id="LN20260115A1", application_id="AP20260115A1", branch_code="B1", partner_id="P1",
        product_code="X", customer_id="C1", schedule=schedule, funders=[("F1", D("7200.00")), ("F2", D("4800.00"))],
    )
    assert loan.status is LoanStatus.DISBURSING
    assert rows(loan) == S3
    assert loan.funders == (FunderShare("F1", D("7200.00"), D("7200.00")), FunderShare("F2", D("4800.00"), D("4800.00")))
    assert loan.lead_funder == "F1"
    assert loan.outstanding_principal == D("12000.00")
    assert loan_id_for("AP20260115A1") == "LN20260115A1"
    with pytest.raises(ValueError):
        book(loan_id="LN1", application_id="AP1", branch_code="B1", partner_id="P1", product_code="X", customer_id="C1",
             schedule=schedule, funders=[("F1", D("7200.00")), ("F2", D("4799.99"))])


# -- allocation order --------------------------------------------------------------------------------


def test_overdue_installments_oldest_first_penalty_interest_principal_then_the_current_one():
    loan = with_penalties(active(), p1="3.00", p2="1.00")
    day = date(2026, 3, 20)  # rows 1 (15 Feb) and 2 (15 Mar) overdue, row 3 current
    # due: 3.00 + 60.00 + 3980.07 + 1.00 + 40.10 + 3999.97 = 8084.14; then row 3: 20.10 interest, 19.96 principal
    allocation = allocate(loan, D("8124.20"), day)
    assert items(allocation) == [
        (1, PENALTY, D("3.00"), "DUE"),
        (1, INTEREST, D("60.00"), "DUE"),
        (1, PRINCIPAL, D("3980.07"), "DUE"),
        (2, PENALTY, D("1.00"), "DUE"),
        (2, INTEREST, D("40.10"), "DUE"),
        (2, PRINCIPAL, D("3999.97"), "DUE"),
        (3, INTEREST, D("20.10"), "CURRENT"),
        (3, PRINCIPAL, D("19.96"), "CURRENT"),
    ]
    after = allocation.loan
    assert not allocation.settled and after.status is LoanStatus.ACTIVE
    assert [i.paid for i in after.installments] == [True, True, False]
    assert after.installments[2].unpaid_principal == D("4000.00")  # 4019.96 - 19.96
    assert after.outstanding_principal == D("4000.00")
    assert after.funders[0].outstanding == D("4000.00")
    assert allocation.prepaid_principal == 0
    assert after.version == loan.version + 1


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("2.00", [(1, PENALTY, "2.00")]),
        ("65.00", [(1, PENALTY, "3.00"), (1, INTEREST, "60.00"), (1, PRINCIPAL, "2.00")]),
        # 3.00 + 60.00 + 3980.07 = 4043.07 clears row 1; 6.93 left: row 2's penalty 1.00, then 5.93 of its interest
        ("4050.00", [(1, PENALTY, "3.00"), (1, INTEREST, "60.00"), (1, PRINCIPAL, "3980.07"), (2, PENALTY, "1.00"), (2, INTEREST, "5.93")]),
    ],
)
def test_a_partial_amount_stops_where_it_runs_out(amount, expected):
    loan = with_penalties(active(), p1="3.00", p2="1.00")
    allocation = allocate(loan, D(amount), date(2026, 3, 20))
    assert items(allocation) == [(p, c, D(a), "DUE") for p, c, a in expected]
    paid = {(p, c): D(a) for p, c, a in expected}
    for row in allocation.loan.installments:
        assert row.paid_penalty == paid.get((row.period, PENALTY), 0)
        assert row.paid_interest == paid.get((row.period, INTEREST), 0)
        assert row.paid_principal == paid.get((row.period, PRINCIPAL), 0)


def test_with_nothing_due_the_current_installment_takes_interest_then_principal():
    allocation = allocate(active(), D("100.00"), date(2026, 1, 20))
    assert items(allocation) == [(1, INTEREST, D("60.00"), "CURRENT"), (1, PRINCIPAL, D("40.00"), "CURRENT")]
    assert allocation.loan.installments[0].state(date(2026, 1, 20)) == "PARTIAL"


@pytest.mark.parametrize("amount", ["0", "-1.00", "0.001"])
def test_an_amount_must_be_positive_and_exact_to_the_fen(amount):
    assert refused(active(), amount, date(2026, 1, 20)) == "INVALID_AMOUNT"


def test_only_an_active_loan_takes_repayments():
    assert refused(replace(active(), status=LoanStatus.DISBURSING), "100.00", date(2026, 1, 20)) == "LOAN_NOT_ACTIVE"


# -- due today, overdue, days past due --------------------------------------------------------------


def test_an_installment_is_due_on_its_due_date_and_overdue_from_the_next_day():
    loan = active()
    due_day = date(2026, 2, 15)
    row1 = loan.installments[0]
    assert loan.due(due_day) == (row1,)
    assert loan.overdue(due_day) == ()
    assert loan.current(due_day).period == 1 and loan.next_after(due_day).period == 2  # 当期 is the one due today
    assert loan.days_past_due(due_day) == 0
    assert row1.state(due_day) == "DUE"
    assert loan.accrual(due_day).penalties == ()  # no penalty for the due day itself
    # paid on its due date: it is the current installment (当期), not an overdue one
    assert items(allocate(loan, D("4040.07"), due_day)) == [(1, INTEREST, D("60.00"), "CURRENT"), (1, PRINCIPAL, D("3980.07"), "CURRENT")]
    # and what is paid beyond it on that day is a prepayment, not the next installment's interest
    beyond = allocate(loan, D("5040.07"), due_day)
    assert beyond.items[-1] == Allocated(1, PRINCIPAL, D("1000.00"), "PREPAYMENT") and beyond.total(INTEREST) == D("60.00")

    next_day = date(2026, 2, 16)
    assert loan.overdue(next_day) == (row1,)
    assert row1.state(next_day) == "OVERDUE"
    assert loan.days_past_due(next_day) == 1
    assert loan.accrual(next_day).penalties == ((1, daily_penalty("3980.07", "0.06")),)

    # 15 Feb -> 20 Mar: 13 days of February + 20 = 33 days, counted from the oldest unpaid due date
    assert loan.days_past_due(date(2026, 3, 20)) == 33
    assert [i.period for i in loan.overdue(date(2026, 3, 20))] == [1, 2]
    assert loan.days_past_due(JAN15 + ONE_DAY) == 0


# -- penalty interest ------------------------------------------------------------------------------------


def test_penalty_is_the_overdue_principal_times_rate_plus_half_over_360_rounded_each_day():
    # 3980.07 * 0.06 * 1.5 / 360 = 0.9950175 -> 1.00 a day; 3999.97 * 0.00025 = 0.9999925 -> 1.00
    assert daily_penalty("3980.07", "0.06") == D("1.00")
    loan = day_ends(active(), JAN15 + ONE_DAY, date(2026, 3, 20))
    p1, p2 = loan.installments[0].penalty, loan.installments[1].penalty
    # row 1 is overdue 16 Feb .. 20 Mar (33 days), row 2 16 Mar .. 20 Mar (5 days)
    assert p1 == 33 * D("1.00") == D("33.00")
    assert p1 != fen(F("3980.07") * F("0.06") * F("1.5") * 33 / 360)  # 32.84: rounding the total would lose fen
    assert p2 == D("5.00")
    assert loan.penalty_receivable == D("38.00")
    assert loan.installments[2].penalty == 0


def test_penalty_follows_the_unpaid_principal():
    loan = day_ends(active(), JAN15 + ONE_DAY, date(2026, 2, 20))
    assert loan.installments[0].penalty == D("5.00")  # 16..20 Feb
    # 5.00 penalty + 60.00 interest + 2000.00 of the 3980.07 principal
    loan = allocate(loan, D("2065.00"), date(2026, 2, 21)).loan
    assert loan.installments[0].unpaid_principal == D("1980.07")
    # 1980.07 * 0.00025 = 0.4950175 -> 0.50
    assert loan.accrual(date(2026, 2, 21)).penalties == ((1, D("0.50")),)
    assert loan.daily_penalty(loan.installments[0]) == daily_penalty("1980.07", "0.06") == D("0.50")


def test_the_penalty_markup_comes_from_the_product():
    loan = replace(active(), penalty_markup=D("0.3"))
    # 3980.07 * 0.06 * 1.3 / 360 = 0.86234850 -> 0.86
    assert loan.accrual(date(2026, 2, 16)).penalties == ((1, daily_penalty("3980.07", "0.06", "0.3")),) == ((1, D("0.86")),)


# -- interest accrual ---------------------------------------------------------------------------------


def earned(day: date) -> D:
    """S3's interest earned by the end of ``day``: rows due by then, and the current row's share of its days."""
    total, start = D("0"), JAN15
    for _, due, _, interest in S3:
        if due <= day:
            total += interest
        else:
            total += fen(F(interest) * (day - start).days / (due - start).days)
            break
        start = due
    return total


def test_interest_is_recognised_day_by_day_by_the_current_installment_s_share():
    loan, day, recognised = active(), JAN15, D("0")
    while day < date(2026, 3, 20):
        day += ONE_DAY
        accrual = loan.accrual(day)
        assert accrual.interest == earned(day) - recognised, day
        recognised += accrual.interest
        loan = loan.accrued(accrual)
    # worked by hand: 16 Jan 60*1/31 = 1.935 -> 1.94; 15 Feb (due) 60 - 60*30/31 (58.06) = 1.94;
    # 16 Feb 40.10/28 = 1.432 -> 1.43; 16 Mar 20.10/31 = 0.648 -> 0.65
    assert earned(date(2026, 1, 16)) == D("1.94")
    assert earned(date(2026, 2, 15)) - earned(date(2026, 2, 14)) == D("1.94")
    assert earned(date(2026, 2, 16)) - earned(date(2026, 2, 15)) == D("1.43")
    # by 20 Mar: 60.00 + 40.10 + 20.10*5/31 (3.2419 -> 3.24) = 103.34
    assert loan.interest_receivable == loan.interest_recognised == D("103.34")
    assert loan.accrued_through == date(2026, 3, 20)


def test_nothing_accrues_twice_for_the_same_day():
    loan = day_ends(active(), JAN15 + ONE_DAY, date(2026, 2, 20))
    before = (loan.interest_receivable, loan.penalty_receivable)
    for day in (date(2026, 2, 20), date(2026, 2, 19), JAN15):
        accrual = loan.accrual(day)
        assert accrual.empty and accrual.interest == 0 and accrual.penalties == ()
    # a day end replayed for an earlier day must not reopen the days after it
    replayed = loan.accrued(loan.accrual(date(2026, 2, 18)))
    assert replayed.accrued_through == date(2026, 2, 20)
    for day in (date(2026, 2, 19), date(2026, 2, 20)):
        assert replayed.accrual(day).empty
        replayed = replayed.accrued(replayed.accrual(day))
    assert (replayed.interest_receivable, replayed.penalty_receivable) == before


def test_interest_paid_before_it_accrues_is_recognised_once():
    loan = day_ends(active(), JAN15 + ONE_DAY, date(2026, 1, 20))
    assert loan.interest_receivable == fen(F(60) * 5 / 31) == D("9.68")
    allocation = allocate(loan, D("4040.07"), date(2026, 1, 21))  # the first installment, early
    assert allocation.interest_from_receivable == D("9.68")
    assert allocation.interest_to_income == D("50.32")
    loan = allocation.loan
    assert loan.interest_receivable == 0 and loan.interest_recognised == D("60.00")
    loan = day_ends(loan, date(2026, 1, 21), date(2026, 2, 15))
    assert loan.interest_recognised == D("60.00")  # nothing more for period 1
    assert loan.accrual(date(2026, 2, 16)).interest == fen(F("40.10") / 28) == D("1.43")
    assert loan.accrual(date(2026, 2, 16)).penalties == ()


@pytest.mark.parametrize("status", [LoanStatus.DISBURSING, LoanStatus.VOID, LoanStatus.SETTLED])
def test_a_loan_that_is_not_active_accrues_nothing(status):
    loan = replace(active(), status=status)
    accrual = loan.accrual(date(2026, 3, 20))  # rows 1 and 2 would be overdue
    assert accrual.empty and accrual.interest == 0 and accrual.penalties == ()
    assert loan.interest_earned(date(2026, 3, 20)) == D("100.10")  # only what fell due: 60.00 + 40.10
    assert accounting.accrual(loan, accrual) is None


# -- prepayment --------------------------------------------------------------------------------------

PREPAY_DAY = date(2026, 1, 20)


def test_lower_installment_keeps_the_periods_with_the_annuity_of_the_new_balance():
    pay = annuity("12000.00", "0.06", 6)  # 12000*0.005*1.005^6/(1.005^6-1) = 2035.1544... -> 2035.15
    assert pay == D("2035.15")
    loan = active(term=6)
    assert loan.installments[0].principal + loan.installments[0].interest == pay
    allocation = allocate(loan, pay + D("5000.00"), PREPAY_DAY)
    first_principal = pay - D("60.00")  # 1975.15
    assert items(allocation) == [
        (1, INTEREST, D("60.00"), "CURRENT"),
        (1, PRINCIPAL, first_principal, "CURRENT"),
        (1, PRINCIPAL, D("5000.00"), "PREPAYMENT"),
    ]
    after = allocation.loan
    balance = D("12000.00") - first_principal - D("5000.00")  # 5024.85
    new_pay = annuity(balance, "0.06", 5)  # 1020.09
    assert new_pay == D("1020.09") < pay
    expected = annuity_rows(balance, "0.06", 5, new_pay)
    assert [(r.principal, r.interest) for r in after.installments[1:]] == expected
    assert [i.period for i in after.installments] == [1, 2, 3, 4, 5, 6]
    assert [i.due_date for i in after.installments] == [date(2026, m, 15) for m in range(2, 8)]
    assert all(r.principal + r.interest == new_pay for r in after.installments[1:-1])
    assert after.installments[0].principal == after.installments[0].paid_principal == D("6975.15")
    assert after.outstanding_principal == balance
    assert principal_adds_up(after)
    assert allocation.prepaid_principal == D("5000.00")


def test_lower_installment_equal_principal_spreads_the_new_balance_evenly():
    loan = active(term=6, method=M.EQUAL_PRINCIPAL)  # 2000.00 a month, first interest 60.00
    allocation = allocate(loan, D("2060.00") + D("5000.00"), PREPAY_DAY)
    # 12000 - 2000 - 5000 = 5000 over 5 periods: 1000.00 each; interest 0.5% of 5000, 4000, ... 1000
    assert rows(allocation.loan)[1:] == [
        (2, date(2026, 3, 15), D("1000.00"), D("25.00")),
        (3, date(2026, 4, 15), D("1000.00"), D("20.00")),
        (4, date(2026, 5, 15), D("1000.00"), D("15.00")),
        (5, date(2026, 6, 15), D("1000.00"), D("10.00")),
        (6, date(2026, 7, 15), D("1000.00"), D("5.00")),
    ]
    assert principal_adds_up(allocation.loan)


def test_shorten_term_keeps_the_installment_and_drops_periods():
    pay = annuity("12000.00", "0.06", 6)  # 2035.15
    loan = active(term=6, policy=PrepaymentPolicy(mode=PrepaymentMode.SHORTEN_TERM))
    after = allocate(loan, pay + D("5000.00"), PREPAY_DAY).loan
    balance = D("12000.00") - (pay - D("60.00")) - D("5000.00")  # 5024.85
    # by hand: 5024.85*0.005 = 25.12 -> principal 2010.03, left 3014.82; 15.07 -> 2020.08, left 994.74;
    # 4.97 and the last 994.74
    expected = annuity_rows(balance, "0.06", 5, pay)
    assert expected == [(D("2010.03"), D("25.12")), (D("2020.08"), D("15.07")), (D("994.74"), D("4.97"))]
    assert [(r.principal, r.interest) for r in after.installments[1:]] == expected
    assert [i.period for i in after.installments] == [1, 2, 3, 4]  # 6 months became 4
    assert after.installments[-1].due_date == date(2026, 5, 15)
    assert all(r.principal + r.interest == pay for r in after.installments[1:-1])
    assert principal_adds_up(after)


def test_shorten_term_equal_principal_keeps_the_principal_per_period():
    loan = active(term=6, method=M.EQUAL_PRINCIPAL, policy=PrepaymentPolicy(mode=PrepaymentMode.SHORTEN_TERM))
    after = allocate(loan, D("2060.00") + D("5000.00"), PREPAY_DAY).loan
    # 5000 left at 2000.00 a period: 2000, 2000, 1000; interest on 5000, 3000, 1000 at 0.5%
    assert rows(after)[1:] == [
        (2, date(2026, 3, 15), D("2000.00"), D("25.00")),
        (3, date(2026, 4, 15), D("2000.00"), D("15.00")),
        (4, date(2026, 5, 15), D("1000.00"), D("5.00")),
    ]
    assert principal_adds_up(after)


@pytest.mark.parametrize("mode", list(PrepaymentMode))
def test_interest_first_keeps_its_periods_with_interest_on_the_new_balance(mode):
    loan = active(term=6, method=M.INTEREST_FIRST, policy=PrepaymentPolicy(mode=mode))
    allocation = allocate(loan, D("60.00") + D("5000.00"), PREPAY_DAY)
    assert items(allocation) == [(1, INTEREST, D("60.00"), "CURRENT"), (1, PRINCIPAL, D("5000.00"), "PREPAYMENT")]
    # 7000.00 left, all of it with the last; interest 7000*0.06/12 = 35.00 a month
    assert rows(allocation.loan)[1:] == [(p, date(2026, p + 1, 15), D("7000.00") if p == 6 else D("0.00"), D("35.00")) for p in range(2, 7)]
    assert principal_adds_up(allocation.loan)


@pytest.mark.parametrize(
    "fee_rate, excess, fee, principal",
    [
        ("0.02", "3060.00", "60.00", "3000.00"),  # 3060*0.02/1.02 = 60 exactly
        ("0.03", "1000.00", "29.13", "970.87"),  # 1000*0.03/1.03 = 29.1262... -> 29.13
        ("0.01", "0.67", "0.01", "0.66"),  # 0.67*0.01/1.01 = 0.0066... -> 0.01
    ],
)
def test_the_prepayment_fee_is_taken_out_of_the_excess(fee_rate, excess, fee, principal):
    assert fen(F(excess) * F(fee_rate) / (1 + F(fee_rate))) == D(fee)
    assert D(excess) - D(fee) == D(principal)
    loan = active(term=6, method=M.EQUAL_PRINCIPAL, policy=PrepaymentPolicy(fee_rate=D(fee_rate)))
    allocation = allocate(loan, D("2060.00") + D(excess), PREPAY_DAY)
    assert items(allocation)[2:] == [(1, FEE, D(fee), "PREPAYMENT"), (1, PRINCIPAL, D(principal), "PREPAYMENT")]
    after = allocation.loan
    assert after.outstanding_principal == D("10000.00") - D(principal)
    assert principal_adds_up(after)
    # the fee is income of the funder, not a repayment of the schedule
    posting = accounting.repayment(loan, allocation, "R1")
    assert (A.FEE_INCOME, "F1", CR, D(fee)) in line_set(posting)
    assert (A.LOANS_RECEIVABLE, "F1", CR, D("2000.00") + D(principal)) in line_set(posting)


def test_a_bullet_loan_is_not_partly_prepaid():
    # 12000.00 at 6%, 3 months bullet from 15 Mar: one row on 15 Jun, interest 12000*0.06*3/12 = 180.00.
    loan = active(method=M.BULLET, start=date(2026, 3, 15))
    day = date(2026, 6, 14)  # 15 Mar -> 14 Jun: 16 + 30 + 31 + 14 = 91 days
    quote = loan.settlement(day)
    assert quote.interest == fen(F(12000) * F("0.06") * 91 / 360) == D("182.00")
    assert quote.total == D("12182.00")
    # 12180.00 pays the installment; 1.00 more would be a partial prepayment
    assert refused(loan, "12181.00", day) == "PREPAYMENT_NOT_ALLOWED"
    assert allocate(loan, D("12182.00"), day).settled


def test_a_product_that_does_not_allow_prepayment_refuses_a_partial_one():
    loan = active(policy=PrepaymentPolicy(allowed=False))
    assert refused(loan, "4140.07", PREPAY_DAY) == "PREPAYMENT_NOT_ALLOWED"  # the installment + 100.00
    # the installment itself, and the full settlement, are still taken
    assert not allocate(loan, D("4040.07"), PREPAY_DAY).settled
    assert allocate(loan, D("12010.00"), PREPAY_DAY).settled


def test_the_schedule_principal_adds_up_after_every_change():
    loan = active(term=12, policy=PrepaymentPolicy(mode=PrepaymentMode.SHORTEN_TERM, fee_rate=D("0.01")))
    ledger = Book()
    assert ledger.post(accounting.disbursement(loan, JAN15))
    day, n, seen = JAN15, 0, set()
    for pay_on, amount in [
        (date(2026, 1, 20), "3000.00"),  # the current installment and a prepayment (with its fee)
        (date(2026, 3, 20), "500.00"),  # part of row 2, overdue since 15 Mar, with its penalty
        (date(2026, 4, 15), "2500.00"),  # the rest of row 2, row 3 due that day, most of the current row 4
        (date(2026, 4, 20), "1.00"),  # a fen-level part of row 4
        (date(2026, 5, 16), "1500.00"),  # row 4 (a day overdue), the current row 5, a prepayment with its fee
    ]:
        loan = day_ends(loan, day + ONE_DAY, pay_on - ONE_DAY, ledger)
        day = pay_on - ONE_DAY
        n += 1
        allocation = allocate(loan, D(amount), pay_on)
        assert sum((i.amount for i in allocation.items), D("0")) == D(amount)
        seen |= {(i.component, i.kind) for i in allocation.items}
        assert ledger.post(accounting.repayment(loan, allocation, f"R{n}"))
        loan = allocation.loan
        assert principal_adds_up(loan), pay_on
        assert ledger.loan_balance(loan.loan_id, A.LOANS_RECEIVABLE, "F1") == loan.funders[0].outstanding == loan.outstanding_principal
        ledger.check()
    assert {(PENALTY, "DUE"), (PRINCIPAL, "CURRENT"), (FEE, "PREPAYMENT"), (PRINCIPAL, "PREPAYMENT")} <= seen
    assert len(loan.installments) < 12  # the term was shortened
    quote = loan.settlement(day + ONE_DAY)
    final = allocate(loan, quote.total, day + ONE_DAY)
    assert final.settled and principal_adds_up(final.loan)
    assert ledger.post(accounting.repayment(loan, final, "R-final"))
    ledger.check()
    assert ledger.loan_balance(loan.loan_id, A.LOANS_RECEIVABLE) == 0
    assert ledger.loan_balance(loan.loan_id, A.INTEREST_RECEIVABLE) == 0
    assert ledger.loan_balance(loan.loan_id, A.PENALTY_RECEIVABLE) == 0


# -- full early settlement ---------------------------------------------------------------------------


def test_settling_in_the_first_period_collapses_the_schedule():
    loan = active()
    quote = loan.settlement(PREPAY_DAY)
    # 15 -> 20 Jan: 5 days; 12000 * 0.06 * 5 / 360 = 10.00
    assert (quote.due_penalty, quote.due_interest, quote.due_principal) == (0, 0, 0)
    assert (quote.principal, quote.interest, quote.fee) == (D("12000.00"), D("10.00"), D("0.00"))
    assert quote.total == D("12010.00")
    assert refused(loan, "12010.01", PREPAY_DAY) == "OVERPAYMENT"
    allocation = allocate(loan, D("12010.00"), PREPAY_DAY)
    assert items(allocation) == [(1, INTEREST, D("10.00"), "SETTLEMENT"), (1, PRINCIPAL, D("12000.00"), "SETTLEMENT")]
    after = allocation.loan
    assert allocation.settled and after.status is LoanStatus.SETTLED and after.settled_on == PREPAY_DAY
    assert rows(after) == [(1, date(2026, 2, 15), D("12000.00"), D("10.00"))]  # rows 2 and 3 are gone
    assert all(i.paid for i in after.installments)
    assert after.outstanding_principal == 0 and after.funders[0].outstanding == 0
    assert allocation.prepaid_principal == D("12000.00")
    assert after.accrual(date(2026, 1, 21)).empty


def test_settling_with_overdue_installments_penalties_and_a_fee():
    loan = replace(active(), prepayment=PrepaymentPolicy(fee_rate=D("0.01")))
    loan = day_ends(loan, JAN15 + ONE_DAY, date(2026, 3, 19))
    day = date(2026, 3, 20)
    # by the end of 19 Mar: penalty 32 days on row 1 and 4 on row 2 at 1.00 a day;
    # interest 60.00 + 40.10 + 20.10*4/31 (2.59) = 102.69
    assert loan.penalty_receivable == D("36.00") and loan.interest_receivable == D("102.69")
    quote = loan.settlement(day)
    # interest from 15 Mar (the last due date) to 20 Mar on 4019.96: *0.06*5/360 = 3.34996 -> 3.35;
    # no fee: all that is left is the current (last) installment's principal, which paying the
    # installment would clear without one
    assert quote.due_penalty == D("36.00")
    assert quote.due_interest == D("100.10")
    assert quote.due_principal == D("7980.04")
    assert quote.principal == D("4019.96")
    assert quote.interest == fen(F("4019.96") * F("0.06") * 5 / 360) == D("3.35")
    assert quote.fee == D("0.00")
    assert quote.total == D("12139.45")  # 36.00 + 100.10 + 7980.04 + 4019.96 + 3.35
    allocation = allocate(loan, D("12139.45"), day)
    assert items(allocation) == [
        (1, PENALTY, D("32.00"), "DUE"),
        (1, INTEREST, D("60.00"), "DUE"),
        (1, PRINCIPAL, D("3980.07"), "DUE"),
        (2, PENALTY, D("4.00"), "DUE"),
        (2, INTEREST, D("40.10"), "DUE"),
        (2, PRINCIPAL, D("3999.97"), "DUE"),
        (3, INTEREST, D("3.35"), "SETTLEMENT"),
        (3, PRINCIPAL, D("4019.96"), "SETTLEMENT"),
    ]
    after = allocation.loan
    assert allocation.settled and after.status is LoanStatus.SETTLED
    assert rows(after)[2] == (3, date(2026, 4, 15), D("4019.96"), D("3.35"))
    # interest paid 103.45: 102.69 was receivable, 0.76 is income now; nothing to write back
    assert allocation.interest_from_receivable == D("102.69")
    assert allocation.interest_to_income == D("0.76")
    assert allocation.interest_written_back == 0
    assert after.interest_receivable == 0 and after.penalty_receivable == 0
    assert after.interest_recognised == D("103.45")
    posting = accounting.repayment(loan, allocation, "R1")
    assert line_set(posting) == {
        (A.PARTNER_CLEARING, "P1", DR, D("12139.45")),
        (A.LOANS_RECEIVABLE, "F1", CR, D("12000.00")),
        (A.INTEREST_RECEIVABLE, LOAN_LEVEL, CR, D("102.69")),
        (A.INTEREST_INCOME, "F1", CR, D("0.76")),
        (A.PENALTY_RECEIVABLE, LOAN_LEVEL, CR, D("36.00")),
    }


def test_settlement_interest_is_less_what_was_paid_ahead():
    loan = allocate(active(), D("30.00"), PREPAY_DAY).loan  # half the first interest, paid early
    day = date(2026, 2, 10)  # 26 days after 15 Jan: 12000 * 0.06 * 26 / 360 = 52.00
    quote = loan.settlement(day)
    assert quote.interest == D("52.00") - D("30.00") == D("22.00")
    assert quote.total == D("12022.00")
    after = allocate(loan, D("12022.00"), day).loan
    assert rows(after) == [(1, date(2026, 2, 15), D("12000.00"), D("52.00"))]
    assert after.installments[0].paid_interest == D("52.00")


def test_the_settlement_fee_is_on_the_principal_beyond_the_current_installment_as_a_prepayment_s():
    loan = active(policy=PrepaymentPolicy(fee_rate=D("0.03")))
    # settlement on 20 Jan: 12000.00 + 10.00 + 3% of the 8019.93 beyond row 1's principal
    # (3980.07): 240.5979 -> 240.60; 12250.60 in all
    assert loan.settlement(PREPAY_DAY).fee == fen(F("8019.93") * F("0.03")) == D("240.60")
    assert loan.settlement(PREPAY_DAY).total == D("12250.60")
    assert refused(loan, "12250.61", PREPAY_DAY) == "OVERPAYMENT"
    # just under it, a partial prepayment: the installment 4040.07, excess 8210.52, fee
    # 8210.52*0.03/1.03 = 239.141 -> 239.14, principal 7971.38 of the 8019.93 left
    allocation = allocate(loan, D("12250.59"), PREPAY_DAY)
    assert allocation.total(FEE) == D("239.14") and allocation.prepaid_principal == D("7971.38")
    assert not allocation.settled


def test_settling_with_less_interest_than_was_accrued_writes_the_difference_back():
    ledger = Book()
    loan = active()
    ledger.post(accounting.disbursement(loan, JAN15))
    loan = day_ends(loan, JAN15 + ONE_DAY, date(2026, 2, 14), ledger)
    first = allocate(loan, D("4040.07"), date(2026, 2, 15))  # paid on its due date, before that day end
    assert ledger.post(accounting.repayment(loan, first, "R1"))
    loan = day_ends(first.loan, date(2026, 2, 15), date(2026, 3, 9), ledger)
    # February's period has 28 days: by 9 Mar, 22 of them: 40.10 * 22 / 28 = 31.507 -> 31.51 accrued
    assert loan.interest_receivable == D("31.51")
    day = date(2026, 3, 10)
    quote = loan.settlement(day)
    # actual days: 15 Feb -> 10 Mar = 23; 8019.93 * 0.06 * 23 / 360 = 30.7431 -> 30.74
    assert quote.interest == fen(F("8019.93") * F("0.06") * 23 / 360) == D("30.74")
    assert quote.total == D("8050.67")
    allocation = allocate(loan, D("8050.67"), day)
    assert items(allocation) == [(2, INTEREST, D("30.74"), "SETTLEMENT"), (2, PRINCIPAL, D("8019.93"), "SETTLEMENT")]
    assert allocation.interest_from_receivable == D("30.74")
    assert allocation.interest_written_back == D("0.77")  # 31.51 - 30.74
    after = allocation.loan
    assert after.interest_receivable == 0
    assert after.interest_recognised == D("90.74")  # 60.00 + 30.74: what the schedule now charges
    assert sum((i.interest for i in after.installments), D("0")) == D("90.74")
    posting = accounting.repayment(loan, allocation, "R2")
    assert line_set(posting) == {
        (A.PARTNER_CLEARING, "P1", DR, D("8050.67")),
        (A.LOANS_RECEIVABLE, "F1", CR, D("8019.93")),
        (A.INTEREST_RECEIVABLE, LOAN_LEVEL, CR, D("31.51")),  # 30.74 paid + 0.77 written back
        (A.INTEREST_INCOME, "F1", DR, D("0.77")),
    }
    assert ledger.post(posting)
    ledger.check()
    assert ledger.loan_balance(loan.loan_id, A.INTEREST_RECEIVABLE) == 0
    assert ledger.loan_balance(loan.loan_id, A.INTEREST_INCOME, "F1") == D("90.74")


def test_paying_the_last_installment_on_its_due_date_settles_the_loan():
    ledger = Book()
    loan = active()
    ledger.post(accounting.disbursement(loan, JAN15))
    day = JAN15
    for n, (period, due, principal, interest) in enumerate(S3, start=1):
        loan = day_ends(loan, day + ONE_DAY, due - ONE_DAY, ledger)
        allocation = allocate(loan, principal + interest, due)
        assert items(allocation) == [(period, INTEREST, interest, "CURRENT"), (period, PRINCIPAL, principal, "CURRENT")]
        assert ledger.post(accounting.repayment(loan, allocation, f"R{n}"))
        loan, day = allocation.loan, due - ONE_DAY
        assert allocation.settled is (period == 3)
    # by 14 Apr, 30 of April's 31 days had accrued: 20.10 * 30 / 31 = 19.4516 -> 19.45; 0.65 came as income
    assert allocation.interest_from_receivable == D("19.45") and allocation.interest_to_income == D("0.65")
    assert loan.status is LoanStatus.SETTLED and loan.settled_on == date(2026, 4, 15)
    assert loan.interest_receivable == 0 and loan.interest_recognised == D("120.20")
    assert loan.accrual(date(2026, 4, 15)).empty
    ledger.check()
    assert ledger.loan_balance(loan.loan_id, A.LOANS_RECEIVABLE) == 0
    assert ledger.loan_balance(loan.loan_id, A.INTEREST_RECEIVABLE) == 0
    assert ledger.loan_balance(loan.loan_id, A.INTEREST_INCOME) == D("120.20")


# -- split -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, weights, expected",
    [
        ("100.00", [("A", "1"), ("B", "1"), ("C", "1")], {"A": "33.34", "B": "33.33", "C": "33.33"}),
        ("0.05", [("F1", "6000.00"), ("F2", "4000.00")], {"F1": "0.03", "F2": "0.02"}),
        ("10.01", [("A", "7"), ("B", "3")], {"A": "7.01", "B": "3.00"}),  # B: 3.003 -> 3.00
        ("0.01", [("A", "1"), ("B", "1"), ("C", "1")], {"A": "0.01", "B": "0.00", "C": "0.00"}),
        ("0.00", [("A", "0"), ("B", "0")], {"A": "0.00", "B": "0.00"}),
    ],
)
def test_split_is_exact_and_the_lead_takes_the_rest(amount, weights, expected):
    parts = split(D(amount), [(p, D(w)) for p, w in weights])
    assert parts == {p: D(a) for p, a in expected.items()}
    assert sum(parts.values(), D("0")) == D(amount)


def test_split_never_gives_more_than_a_cap_even_to_the_lead():
    # near payoff: F1 is owed 0.01, F2 and F3 1.00 each; 2.00 repaid.
    # F2, F3: 2.00 * 1.00 / 2.01 = 0.995 -> 0.99 each; the lead would take 0.02 > its 0.01,
    # so its extra fen goes to the next with room (F2).
    caps = {"F1": D("0.01"), "F2": D("1.00"), "F3": D("1.00")}
    parts = split(D("2.00"), list(caps.items()), caps=caps)
    assert parts == {"F1": D("0.01"), "F2": D("1.00"), "F3": D("0.99")}
    assert all(parts[p] <= caps[p] for p in caps)
    # all of it: every party exactly its cap
    assert split(D("2.01"), list(caps.items()), caps=caps) == caps


@pytest.mark.parametrize(
    "amount, weights, caps",
    [
        ("1.00", [], None),
        ("1.00", [("A", "0"), ("B", "0")], None),
        ("2.02", [("F1", "0.01"), ("F2", "1.00"), ("F3", "1.00")], {"F1": "0.01", "F2": "1.00", "F3": "1.00"}),
    ],
)
def test_split_refuses_what_cannot_be_split(amount, weights, caps):
    with pytest.raises(ValueError):
        split(D(amount), [(p, D(w)) for p, w in weights], caps={p: D(c) for p, c in caps.items()} if caps else None)


# -- joint loans -------------------------------------------------------------------------------------------


def test_joint_loan_principal_by_outstanding_income_by_what_each_lent():
    # 10000.00 at 6%, 3 months, equal principal: 3333.33 / 3333.33 / 3333.34;
    # interest 50.00, 6666.67*0.005 = 33.33, 3333.34*0.005 = 16.67
    ledger = Book()
    loan = active(amount="10000.00", method=M.EQUAL_PRINCIPAL, funders=[("F1", D("6000.00")), ("F2", D("4000.00"))])
    assert ledger.post(accounting.disbursement(loan, JAN15))
    first = allocate(loan, D("3383.33"), date(2026, 2, 15))
    # principal 3333.33: F2 3333.33*4000/10000 = 1333.332 -> 1333.33 (down), F1 the rest 2000.00;
    # interest 50.00: F2 20.00, F1 30.00
    assert first.principal_by_funder == (("F1", D("2000.00")), ("F2", D("1333.33")))
    posting = accounting.repayment(loan, first, "R1")
    assert line_set(posting) == {
        (A.PARTNER_CLEARING, "P1", DR, D("3383.33")),
        (A.LOANS_RECEIVABLE, "F1", CR, D("2000.00")),
        (A.LOANS_RECEIVABLE, "F2", CR, D("1333.33")),
        (A.INTEREST_INCOME, "F1", CR, D("30.00")),
        (A.INTEREST_INCOME, "F2", CR, D("20.00")),
    }
    assert ledger.post(posting)
    loan = first.loan
    assert [f.outstanding for f in loan.funders] == [D("4000.00"), D("2666.67")]

    second = allocate(loan, D("3366.66"), date(2026, 3, 15))
    f2 = floor_fen(F("3333.33") * F("2666.67") / F("6666.67"))
    assert dict(second.principal_by_funder) == {"F1": D("3333.33") - f2, "F2": f2}
    posting = accounting.repayment(loan, second, "R2")
    # interest 33.33 by what each lent: F2 33.33*0.4 = 13.332 -> 13.33, F1 20.00
    assert {(A.INTEREST_INCOME, "F1", CR, D("20.00")), (A.INTEREST_INCOME, "F2", CR, D("13.33"))} <= line_set(posting)
    assert ledger.post(posting)
    loan = second.loan
    for share in loan.funders:
        assert ledger.loan_balance(loan.loan_id, A.LOANS_RECEIVABLE, share.funder) == share.outstanding
    assert sum((f.outstanding for f in loan.funders), D("0")) == loan.outstanding_principal == D("3333.34")

    final = allocate(loan, loan.settlement(date(2026, 3, 15)).total, date(2026, 3, 15))
    assert final.settled and dict(final.principal_by_funder) == {f.funder: f.outstanding for f in loan.funders}
    assert ledger.post(accounting.repayment(loan, final, "R3"))
    for share in final.loan.funders:
        assert share.outstanding == 0 == ledger.loan_balance(loan.loan_id, A.LOANS_RECEIVABLE, share.funder)
    ledger.check()


def test_principal_follows_outstanding_not_the_lent_ratio():
    # a state where the funders' outstanding ratio (1:3) differs from what they lent (3:2)
    loan = active(amount="10000.00", method=M.EQUAL_PRINCIPAL, funders=[("F1", D("6000.00")), ("F2", D("4000.00"))])
    loan = replace(loan, funders=(FunderShare("F1", D("6000.00"), D("1000.00")), FunderShare("F2", D("4000.00"), D("3000.00"))))
    allocation = allocate(loan, D("2050.00"), date(2026, 1, 20))  # 50.00 interest, 2000.00 principal
    assert dict(allocation.principal_by_funder) == {"F1": D("500.00"), "F2": D("1500.00")}
    posting = accounting.repayment(loan, allocation, "R1")
    assert {(A.INTEREST_INCOME, "F1", CR, D("30.00")), (A.INTEREST_INCOME, "F2", CR, D("20.00"))} <= line_set(posting)


# -- the ledger -------------------------------------------------------------------------------------------

DAY = date(2026, 1, 15)


def posting(pid: str = "P#1", *entries, branch: str = "B1", loan_id: str = "LN1") -> Posting:
    return Posting(pid, branch, loan_id, "TEST", DAY, tuple(Line(a, p, s, D(x)) for a, p, s, x in entries))


def test_a_posting_must_balance():
    with pytest.raises(UnbalancedPosting):
        posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "1.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "0.99"))
    with pytest.raises(UnbalancedPosting):
        posting("P#1")  # no lines
    ok = posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "1.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "1.00"))
    assert ok.debits == ok.credits == D("1.00")


@pytest.mark.parametrize("amount", [D("0"), D("0.00"), D("-1.00"), D("0.001"), D("NaN"), D("Infinity"), 1.0, 1])
def test_a_line_refuses_non_positive_sub_fen_or_non_decimal_amounts(amount):
    with pytest.raises(UnbalancedPosting):
        Line(A.LOANS_RECEIVABLE, "F1", DR, amount)


def test_a_line_needs_a_party():
    with pytest.raises(UnbalancedPosting):
        Line(A.LOANS_RECEIVABLE, "", DR, D("1.00"))


def test_lines_merges_repeats_and_leaves_out_zeros():
    merged = lines(
        (A.INTEREST_RECEIVABLE, LOAN_LEVEL, CR, D("1.00")),
        (A.INTEREST_RECEIVABLE, LOAN_LEVEL, CR, D("0.50")),
        (A.INTEREST_INCOME, "F1", CR, D("0.00")),
        (A.PARTNER_CLEARING, "P1", DR, D("1.50")),
    )
    assert merged == (Line(A.INTEREST_RECEIVABLE, LOAN_LEVEL, CR, D("1.50")), Line(A.PARTNER_CLEARING, "P1", DR, D("1.50")))


def test_a_reversal_mirrors_every_line_and_nets_every_account_to_zero():
    loan = active(funders=[("F1", D("7200.00")), ("F2", D("4800.00"))])
    original = accounting.disbursement(loan, JAN15)
    reversal = original.reversal(date(2026, 1, 16))
    assert reversal.posting_id == "REVERSAL#DISBURSEMENT#" + loan.loan_id
    assert reversal.kind == "REVERSAL" and reversal.reverses == original.posting_id
    assert reversal.business_date == date(2026, 1, 16) and reversal.branch_code == "B1"
    assert [(x.account, x.party, x.side.other, x.amount) for x in original.lines] == [
        (x.account, x.party, x.side, x.amount) for x in reversal.lines
    ]
    ledger = Book()
    assert ledger.post(original) and ledger.post(reversal)
    ledger.check()
    assert ledger.totals  # both sides were booked ...
    assert all(b.debits == b.credits for b in ledger.totals.values())  # ... and net to nothing
    for account in Account:
        assert ledger.balance("B1", account) == 0


def test_posting_is_idempotent_and_an_id_is_never_reused():
    ledger = Book()
    first = posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "1.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "1.00"))
    assert ledger.post(first) is True
    again = posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "1.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "1.00"))
    assert ledger.post(again) is False  # the same event: nothing new
    assert ledger.balance("B1", A.LOANS_RECEIVABLE) == D("1.00")
    other = posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "2.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "2.00"))
    with pytest.raises(LedgerViolation):
        ledger.post(other)
    assert ledger.balance("B1", A.LOANS_RECEIVABLE) == D("1.00")


def test_check_finds_a_tampered_total():
    ledger = Book()
    ledger.post(posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "5.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "5.00")))
    ledger.check()
    key = ("B1", A.LOANS_RECEIVABLE, "F1")
    ledger.totals[key] = Balance(D("5.01"), D("0.00"))
    with pytest.raises(LedgerViolation):
        ledger.check()


def test_check_finds_a_negative_receivable_but_lets_a_clearing_account_go_either_way():
    ledger = Book()
    ledger.post(posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "5.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "5.00")))
    ledger.check()  # payment clearing stands at -5.00 on its debit side: allowed
    assert ledger.balance("B1", A.PAYMENT_CLEARING) == D("-5.00")
    ledger.post(posting("P#2", (A.PARTNER_CLEARING, "P1", DR, "1.00"), (A.INTEREST_RECEIVABLE, LOAN_LEVEL, CR, "1.00")))
    with pytest.raises(LedgerViolation, match="negative"):
        ledger.check()


def test_the_trial_balance_balances_per_branch():
    ledger = Book()
    ledger.post(posting("P#1", (A.LOANS_RECEIVABLE, "F1", DR, "100.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "100.00")))
    ledger.post(posting("P#2", (A.PARTNER_CLEARING, "P1", DR, "30.00"), (A.LOANS_RECEIVABLE, "F1", CR, "25.00"),
                        (A.INTEREST_INCOME, "F1", CR, "5.00")))
    ledger.post(posting("P#3", (A.LOANS_RECEIVABLE, "F2", DR, "7.00"), (A.PAYMENT_CLEARING, GATEWAY, CR, "7.00"), branch="B2"))
    assert trial_balance(ledger.totals.items()) == {
        "B1": {"debits": D("130.00"), "credits": D("130.00")},
        "B2": {"debits": D("7.00"), "credits": D("7.00")},
    }
    assert ledger.balance("B1", A.LOANS_RECEIVABLE) == D("75.00")
    assert ledger.balance("B1", A.INTEREST_INCOME, "F1") == D("5.00")
    assert ledger.balance("B2", A.LOANS_RECEIVABLE) == D("7.00")


def test_accounts_have_their_normal_sides():
    debit = {A.LOANS_RECEIVABLE, A.INTEREST_RECEIVABLE, A.PENALTY_RECEIVABLE, A.PAYMENT_CLEARING, A.PARTNER_CLEARING}
    for account in Account:
        assert account.normal is (DR if account in debit else CR), account
        assert account.may_go_negative is (account in (A.PAYMENT_CLEARING, A.PARTNER_CLEARING))
        assert account.title
    assert (A.LOANS_RECEIVABLE.value, A.INTEREST_INCOME.value, A.FEE_INCOME.value) == ("1303", "6011", "6021")
    assert Line(A.INTEREST_INCOME, "F1", CR, D("2.00")).signed == D("2.00")
    assert Line(A.INTEREST_INCOME, "F1", DR, D("2.00")).signed == D("-2.00")
    assert Balance(D("3.00"), D("1.00")).on(DR) == D("2.00") and Balance(D("3.00"), D("1.00")).on(CR) == D("-2.00")


# -- postings of loan events -------------------------------------------------------------------------


def test_the_disbursement_posting_debits_each_funder_and_credits_payment_clearing():
    loan = active(funders=[("F1", D("7200.00")), ("F2", D("4800.00"))])
    p = accounting.disbursement(loan, JAN15)
    assert (p.posting_id, p.kind, p.branch_code, p.loan_id, p.business_date) == (
        "DISBURSEMENT#LN20260115A1", "DISBURSEMENT", "B1", "LN20260115A1", JAN15)
    assert line_set(p) == {
        (A.LOANS_RECEIVABLE, "F1", DR, D("7200.00")),
        (A.LOANS_RECEIVABLE, "F2", DR, D("4800.00")),
        (A.PAYMENT_CLEARING, GATEWAY, CR, D("12000.00")),
    }
    assert p.debits == p.credits == D("12000.00")


def test_the_repayment_posting_takes_interest_partly_from_the_receivable():
    ledger = Book()
    loan = active(funders=[("F1", D("7200.00")), ("F2", D("4800.00"))])
    ledger.post(accounting.disbursement(loan, JAN15))
    loan = day_ends(loan, JAN15 + ONE_DAY, date(2026, 1, 20), ledger)
    assert loan.interest_receivable == D("9.68")  # 60 * 5 / 31 = 9.677 -> 9.68
    allocation = allocate(loan, D("4040.07"), date(2026, 1, 21))
    p = accounting.repayment(loan, allocation, "PR-0001")
    # principal 3980.07 by outstanding 7200:4800: F2 1592.028 -> 1592.02, F1 2388.05;
    # interest 60.00: 9.68 from the receivable, 50.32 income split by what was lent: F2 20.128 -> 20.12, F1 30.20
    assert (p.posting_id, p.kind, p.business_date) == ("REPAYMENT#LN20260115A1#PR-0001", "REPAYMENT", date(2026, 1, 21))
    assert line_set(p) == {
        (A.PARTNER_CLEARING, "P1", DR, D("4040.07")),
        (A.LOANS_RECEIVABLE, "F1", CR, D("2388.05")),
        (A.LOANS_RECEIVABLE, "F2", CR, D("1592.02")),
        (A.INTEREST_RECEIVABLE, LOAN_LEVEL, CR, D("9.68")),
        (A.INTEREST_INCOME, "F1", CR, D("30.20")),
        (A.INTEREST_INCOME, "F2", CR, D("20.12")),
    }
    assert ledger.post(p)
    ledger.check()
    after = allocation.loan
    for share in after.funders:
        assert ledger.loan_balance(loan.loan_id, A.LOANS_RECEIVABLE, share.funder) == share.outstanding
    assert ledger.loan_balance(loan.loan_id, A.INTEREST_RECEIVABLE) == after.interest_receivable == 0
    # income per funder: the accrued 9.68 (day by day) plus the 50.32, in the lent ratio to within a fen a day
    income = {f: ledger.loan_balance(loan.loan_id, A.INTEREST_INCOME, f) for f in ("F1", "F2")}
    assert income["F1"] + income["F2"] == D("60.00")


def test_the_accrual_posting():
    loan = day_ends(active(funders=[("F1", D("7200.00")), ("F2", D("4800.00"))]), JAN15 + ONE_DAY, date(2026, 3, 19))
    accrued = loan.accrual(date(2026, 3, 20))
    # interest: 20.10 * 5/31 (3.24) - 20.10 * 4/31 (2.59) = 0.65; penalty 1.00 on each of rows 1 and 2
    assert accrued.interest == D("0.65") and accrued.penalties == ((1, D("1.00")), (2, D("1.00")))
    p = accounting.accrual(loan, accrued)
    assert (p.posting_id, p.kind, p.business_date) == ("ACCRUAL#LN20260115A1#2026-03-20", "ACCRUAL", date(2026, 3, 20))
    # income split 60:40 by what was lent, F2 rounded down: 0.65 -> 0.26 / 0.39; 2.00 -> 0.80 / 1.20
    assert line_set(p) == {
        (A.INTEREST_RECEIVABLE, LOAN_LEVEL, DR, D("0.65")),
        (A.INTEREST_INCOME, "F1", CR, D("0.39")),
        (A.INTEREST_INCOME, "F2", CR, D("0.26")),
        (A.PENALTY_RECEIVABLE, LOAN_LEVEL, DR, D("2.00")),
        (A.PENALTY_INCOME, "F1", CR, D("1.20")),
        (A.PENALTY_INCOME, "F2", CR, D("0.80")),
    }
    assert accounting.accrual(loan, loan.accrued(accrued).accrual(date(2026, 3, 20))) is None  # nothing left for the day
