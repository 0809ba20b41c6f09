"""Lending quotas (额度管控): how much a branch or a funder may lend, in all, per day, per customer.

A branch (the legal-person bank that owns the loan) and every funder carry
these limits; routing reserves a loan's amount against all of them in one
transaction (``chalicelib.persistence.quotas``). Pure data: no I/O.
"""
from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LendingQuotas(BaseModel):
    """Lending quotas in yuan: in all (``total``), per business day, per customer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    total: Decimal = Field(ge=0, decimal_places=2)
    daily: Decimal = Field(ge=0, decimal_places=2)
    per_customer: Decimal = Field(ge=0, decimal_places=2)

    @model_validator(mode="after")
    def _within_total(self) -> "LendingQuotas":
        if self.daily > self.total or self.per_customer > self.total:
            raise ValueError("daily and per_customer quotas must not exceed the total quota")
        return self
