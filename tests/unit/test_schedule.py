"""Hand-checked schedules for each repayment method, and the due-date rule."""
from datetime import date
from decimal import Decimal as D

import pytest

from chalicelib.domain.schedule import RepaymentMethod as M
from chalicelib.domain.schedule import add_months, annuity_payment, build_schedule


def rows(schedule):
    return [(i.period, i.due_date.isoformat(), str(i.principal), str(i.interest), str(i.payment), str(i.balance_after)) for i in schedule.installments]


def test_equal_installment_three_months():
    # r = 0.005; P*r*(1+r)^3/((1+r)^3-1) = 4040.0664... -> 4040.07
    s = build_schedule(D("12000.00"), D("0.06"), 3, M.EQUAL_INSTALLMENT, date(2026, 1, 15))
    assert rows(s) == [
        (1, "2026-02-15", "3980.07", "60.00", "4040.07", "8019.93"),
        (2, "2026-03-15", "3999.97", "40.10", "4040.07", "4019.96"),
        (3, "2026-04-15", "4019.96", "20.10", "4040.06", "0.00"),
    ]
    assert (s.total_principal, s.total_interest, s.total_payment) == (D("12000.00"), D("120.20"), D("12120.20"))


def test_equal_principal_puts_the_rounding_rest_in_the_last_installment():
    s = build_schedule(D("100.00"), D("0.12"), 3, M.EQUAL_PRINCIPAL, date(2026, 1, 15))
    assert rows(s) == [
        (1, "2026-02-15", "33.33", "1.00", "34.33", "66.67"),
        (2, "2026-03-15", "33.33", "0.67", "34.00", "33.34"),
        (3, "2026-04-15", "33.34", "0.33", "33.67", "0.00"),
    ]


def test_interest_first_pays_all_principal_with_the_last():
    s = build_schedule(D("12000.00"), D("0.06"), 3, M.INTEREST_FIRST, date(2026, 1, 15))
    assert rows(s) == [
        (1, "2026-02-15", "0.00", "60.00", "60.00", "12000.00"),
        (2, "2026-03-15", "0.00", "60.00", "60.00", "12000.00"),
        (3, "2026-04-15", "12000.00", "60.00", "12060.00", "0.00"),
    ]


def test_bullet_is_one_installment_at_maturity():
    s = build_schedule(D("12000.00"), D("0.06"), 12, M.BULLET, date(2026, 1, 15))
    assert rows(s) == [(1, "2027-01-15", "12000.00", "720.00", "12720.00", "0.00")]


def test_half_a_fen_rounds_up():
    # 1001.00 * 0.06/12 = 5.005 -> 5.01 (half up, not half even)
    s = build_schedule(D("1001.00"), D("0.06"), 2, M.INTEREST_FIRST, date(2026, 1, 1))
    assert s.installments[0].interest == D("5.01")


def test_zero_rate_equal_installment_splits_the_amount():
    assert annuity_payment(D("1000.00"), D("0"), 3) == D("333.33")
    s = build_schedule(D("1000.00"), D("0"), 3, M.EQUAL_INSTALLMENT, date(2026, 1, 1))
    assert [str(i.principal) for i in s.installments] == ["333.33", "333.33", "333.34"]
    assert s.total_interest == 0


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 1, 31), 3, date(2026, 4, 30)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 8, 30), 6, date(2027, 2, 28)),
        (date(2026, 1, 15), 36, date(2029, 1, 15)),
    ],
)
def test_due_dates_keep_the_start_day_clamped_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    "amount, rate, term",
    [(D("0"), D("0.06"), 3), (D("-1.00"), D("0.06"), 3), (D("1.001"), D("0.06"), 3), (D("100"), D("0.06"), 0), (D("100"), D("0.06"), 361), (D("100"), D("-0.01"), 3)],
)
def test_bad_terms_are_refused(amount, rate, term):
    with pytest.raises(ValueError):
        build_schedule(amount, rate, term, M.EQUAL_INSTALLMENT, date(2026, 1, 1))


def test_an_exact_half_fen_is_not_lost_to_a_repeating_monthly_rate():
    # 381.60 * 0.025 / 12 = 0.795 exactly; 0.025 / 12 = 0.00208333... would give 0.79499... -> 0.79
    s = build_schedule(D("381.60"), D("0.025"), 2, M.INTEREST_FIRST, date(2026, 1, 1))
    assert s.installments[0].interest == D("0.80")
