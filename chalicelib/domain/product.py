"""Products are data: their amount range, terms, repayment methods and rates.

A product is stored as a JSON document (see ``config/sample/products``) and
validated by this model when it is loaded, so a bad product never reaches a
borrower.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.loan import PENALTY_MARKUP, PrepaymentMode, PrepaymentPolicy
from chalicelib.domain.money import format_amount, format_rate
from chalicelib.domain.schedule import MAX_TERM_MONTHS, RepaymentMethod



@dataclass(frozen=True)
class Violation:
    """A request that breaks a product's terms: the field and why."""

    field: str
    message: str


class Prepayment(BaseModel):
    """Paying early (提前还款): allowed in part or only in full, what it does to the schedule, its fee."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed: bool = True  # a partial prepayment; settling in full is always allowed
    mode: PrepaymentMode = PrepaymentMode.LOWER_INSTALLMENT
    fee_rate: Decimal = Field(default=Decimal("0"), ge=0, le=Decimal("0.05"))  # of the principal prepaid

    def policy(self) -> PrepaymentPolicy:
        return PrepaymentPolicy(self.allowed, self.mode, self.fee_rate)


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    name: str = Field(min_length=1, max_length=64)
    currency: str = "CNY"
    amount_min: Decimal = Field(gt=0, decimal_places=2)
    amount_max: Decimal = Field(gt=0, decimal_places=2)
    terms_months: tuple[int, ...] = Field(min_length=1)
    repayment_methods: tuple[RepaymentMethod, ...] = Field(min_length=1)
    default_annual_rate: Decimal = Field(ge=0, le=Decimal("0.36"))
    quote_rate_min: Decimal = Field(ge=0, le=Decimal("0.36"))
    quote_rate_max: Decimal = Field(ge=0, le=Decimal("0.36"))
    applicant_age_min: int = Field(default=18, ge=18, le=100)
    applicant_age_max: int = Field(default=60, ge=18, le=100)
    manual_review_hours: int = Field(default=72, ge=1, le=24 * 30)  # a manual review waiting longer expires
    offer_valid_hours: int = Field(default=72, ge=1, le=24 * 30)  # an offer not accepted by then expires
    prepayment: Prepayment = Field(default_factory=Prepayment)
    penalty_markup: Decimal = Field(default=PENALTY_MARKUP, ge=0, le=1)  # 罚息: the contract rate plus this share of it

    @field_validator("terms_months")
    @classmethod
    def _terms_in_range(cls, terms: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= t <= MAX_TERM_MONTHS for t in terms):
            raise ValueError(f"every term must be 1 to {MAX_TERM_MONTHS} months")
        return tuple(sorted(set(terms)))

    @model_validator(mode="after")
    def _ranges_ordered(self) -> "Product":
        if self.amount_min > self.amount_max:
            raise ValueError("amount_min is above amount_max")
        if not self.quote_rate_min <= self.default_annual_rate <= self.quote_rate_max:
            raise ValueError("default_annual_rate must lie within quote_rate_min..quote_rate_max")
        if self.applicant_age_min > self.applicant_age_max:
            raise ValueError("applicant_age_min is above applicant_age_max")
        return self

    def violations(
        self, amount: Decimal, term_months: int, method: RepaymentMethod, annual_rate: Decimal | None
    ) -> list[Violation]:
        """What a request asks for that this product does not offer (empty when it fits)."""
        found = []
        if not self.amount_min <= amount <= self.amount_max:
            found.append(Violation("amount", f"must be from {format_amount(self.amount_min)} to {format_amount(self.amount_max)}"))
        if term_months not in self.terms_months:
            found.append(Violation("term_months", f"must be one of {', '.join(map(str, self.terms_months))}"))
        if method not in self.repayment_methods:
            found.append(Violation("repayment_method", f"must be one of {', '.join(m.value for m in self.repayment_methods)}"))
        if annual_rate is not None and not self.quote_rate_min <= annual_rate <= self.quote_rate_max:
            found.append(
                Violation("annual_rate", f"must be from {format_rate(self.quote_rate_min)} to {format_rate(self.quote_rate_max)}")
            )
        return found
