"""Trial calculation (借款试算): the schedule a partner can show before applying."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from chalicelib.domain.partner import Partner
from chalicelib.domain.schedule import RepaymentMethod, Schedule, build_schedule
from chalicelib.persistence import config_repository
from chalicelib.usecases.errors import Refusal, Refused


def quote(
    partner: Partner,
    product_code: str,
    amount: Decimal,
    term_months: int,
    method: RepaymentMethod,
    annual_rate: Decimal | None = None,
    start_date: date | None = None,
) -> Schedule:
    """The schedule for these terms, or ``Refused`` (422) if the product does not offer them.

    The rate defaults to the product's, the start date to the business date.
    """
    product = config_repository.product(product_code) if partner.offers(product_code) else None
    if product is None:
        raise Refused(Refusal.BUSINESS_RULE, "PRODUCT_NOT_OFFERED", f"product {product_code} is not offered to this partner")
    violations = product.violations(amount, term_months, method, annual_rate)
    if violations:
        raise Refused(Refusal.BUSINESS_RULE, "OUTSIDE_PRODUCT_TERMS", f"the request is outside the terms of {product.code}", violations)
    rate = product.default_annual_rate if annual_rate is None else annual_rate
    return build_schedule(amount, rate, term_months, method, start_date or config_repository.business_date())
