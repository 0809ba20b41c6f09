"""Properties of every schedule, for random amounts, rates, terms and start dates.

numpy-financial's ``pmt`` is the independent reference for the equal installment.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy_financial as npf
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.money import to_fen
from chalicelib.domain.schedule import RepaymentMethod, build_schedule

amounts = st.integers(min_value=100_000, max_value=1_000_000_000).map(lambda fen: Decimal(fen).scaleb(-2))  # 1,000.00 .. 10,000,000.00
any_amounts = st.integers(min_value=1, max_value=1_000_000_000).map(lambda fen: Decimal(fen).scaleb(-2))
rates = st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp) / 10000)  # 0 .. 0.36
terms = st.integers(min_value=1, max_value=360)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2069, 12, 31))
methods = st.sampled_from(list(RepaymentMethod))


def exact_interest(balance: Decimal, annual_rate: Decimal, months: int = 1) -> Decimal:
    """round_half_up(balance * annual / 12 * months), computed exactly with fractions."""
    cents = Fraction(balance) * Fraction(annual_rate) * months / 12 * 100
    whole, rest = divmod(cents, 1)
    return Decimal(int(whole) + (1 if rest >= Fraction(1, 2) else 0)).scaleb(-2)


@settings(max_examples=400)
@given(amount=any_amounts, rate=rates, term=terms, method=methods, start=starts)
def test_principal_sums_to_the_amount_and_nothing_goes_negative(amount, rate, term, method, start):
    s = build_schedule(amount, rate, term, method, start)
    assert s.total_principal == amount
    assert s.installments[-1].balance_after == 0
    assert all(i.principal >= 0 and i.interest >= 0 and i.balance_after >= 0 for i in s.installments)
    assert all(x == to_fen(x) for i in s.installments for x in (i.principal, i.interest, i.balance_after))
    assert s.total_payment == s.total_principal + s.total_interest
    dues = [i.due_date for i in s.installments]
    assert dues == sorted(set(dues)) and dues[0] > start
    assert [i.period for i in s.installments] == list(range(1, len(s.installments) + 1))


@settings(max_examples=400)
@given(amount=amounts, rate=rates, term=terms, method=methods.filter(lambda m: m is not RepaymentMethod.BULLET), start=starts)
def test_interest_of_each_period_is_the_rounded_balance_times_the_monthly_rate(amount, rate, term, method, start):
    s = build_schedule(amount, rate, term, method, start)
    balance = amount
    for i in s.installments:
        assert i.interest == exact_interest(balance, rate)
        balance -= i.principal
        assert i.balance_after == balance
    assert len(s.installments) == term


def _rounded_reference(rate: Decimal, term: int, amount: Decimal) -> tuple[Decimal, bool]:
    """numpy-financial's payment rounded half up, and whether float error could flip that rounding."""
    exact = float(-npf.pmt(float(rate) / 12, term, float(amount)))
    cents = Decimal(repr(exact)) * 100
    near_half = abs(cents - cents.to_integral_value() - Decimal("0.5")) < Decimal("1e-6") or abs(
        cents - cents.to_integral_value() + Decimal("0.5")
    ) < Decimal("1e-6")
    return (Decimal(repr(exact))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), near_half


@settings(max_examples=500)
@given(amount=amounts, rate=rates.filter(lambda r: r > 0), term=st.integers(min_value=1, max_value=120), start=starts)
def test_equal_installments_equal_the_rounded_annuity_except_the_last(amount, rate, term, start):
    s = build_schedule(amount, rate, term, RepaymentMethod.EQUAL_INSTALLMENT, start)
    reference, near_half = _rounded_reference(rate, term, amount)
    assume(not near_half)
    assert all(i.payment == reference for i in s.installments[:-1])
    # The last clears what is left: it absorbs the rounding of all the others.
    before_last = s.installments[-2].balance_after if term > 1 else amount
    assert s.installments[-1].principal == before_last


@settings(max_examples=200)
@given(amount=amounts, rate=rates, term=terms, start=starts)
def test_equal_principal_pays_the_same_principal_except_the_last(amount, rate, term, start):
    s = build_schedule(amount, rate, term, RepaymentMethod.EQUAL_PRINCIPAL, start)
    share = to_fen(amount / term)
    assert all(i.principal == share for i in s.installments[:-1])
    assert s.installments[-1].principal == amount - share * (term - 1)


@settings(max_examples=200)
@given(amount=amounts, rate=rates, term=terms, start=starts)
def test_bullet_and_interest_first_charge_simple_interest(amount, rate, term, start):
    bullet = build_schedule(amount, rate, term, RepaymentMethod.BULLET, start)
    interest_first = build_schedule(amount, rate, term, RepaymentMethod.INTEREST_FIRST, start)
    assert bullet.installments[0].due_date == interest_first.installments[-1].due_date
    assert bullet.total_interest == exact_interest(amount, rate, term)
    assert all(i.interest == exact_interest(amount, rate) for i in interest_first.installments)
    assert abs(bullet.total_interest - interest_first.total_interest) <= Decimal("0.005") * term
