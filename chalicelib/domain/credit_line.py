"""Revolving credit lines (循环授信) and their drawdowns (用信). Pure: no I/O.

A product whose funding ``mode`` is ``CREDIT_LINE`` approves a *line*, not a
loan: the application is reviewed as usual, and routing asks the funders to
approve a line of the approved limit (授信). The funder (or joint set) that
approves it is the line's channel for as long as the line lives: every
drawdown (用信) goes to that channel directly, not through the product's
routing rules; if the line's funders refuse a drawdown, the product's own
funds take it when configured, else the drawdown fails (``NO_FUNDER``).

What is left of a line is a quota (kind ``LINE``) reserved by each drawdown
in the same transaction as the branch's and funders' quotas, so concurrent
drawdowns can never take more than the line. A repaid drawdown gives its
principal back to the line (revolving) when repayments are booked.

A line is opened ``PENDING`` when its funder approves it, and becomes
``ACTIVE`` (usable) when the borrower has accepted and the bank has signed the
line agreement; it is closed when the offer is declined or expires. It is
usable from the day it is opened until ``expires_on`` (exclusive), China
business dates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib.domain.application import Purpose, _application_no
from chalicelib.domain.funding import Channel
from chalicelib.domain.money import format_amount
from chalicelib.domain.product import Product, Violation
from chalicelib.domain.schedule import MAX_TERM_MONTHS, RepaymentMethod, add_months
from chalicelib.domain.wire import Amount

LINE_QUOTA_KIND = "LINE"
DRAWDOWN = "DRAWDOWN"  # the ``kind`` of an application that draws on a line


class CreditLineStatus(str, Enum):
    PENDING = "PENDING"  # approved by its funder; usable once the borrower signed the line agreement
    ACTIVE = "ACTIVE"
    FROZEN = "FROZEN"  # no drawdowns (risk measures, 冻结); repayments continue
    CLOSED = "CLOSED"


def credit_line_id(application_id: str) -> str:
    """The line an application opens: ``CL`` + the application id's time and random part.

    Derived, so a retried routing step opens the same line, never a second one.
    """
    if not application_id.startswith("AP") or len(application_id) < 3:
        raise ValueError("not an application id")
    return "CL" + application_id[2:]


def expiry(opened_on: date, validity_months: int) -> date:
    """The first day the line can no longer be drawn: ``validity_months`` after it opened."""
    return add_months(opened_on, validity_months)


@dataclass(frozen=True)
class CreditLine:
    credit_line_id: str
    application_id: str  # the line application (授信申请)
    partner_id: str
    customer_id: str
    branch_code: str
    product_code: str
    limit: Decimal
    annual_rate: Decimal
    channel: Channel  # the funder(s) that approved the line, with their ratios
    opened_on: date
    expires_on: date
    status: CreditLineStatus

    def usable_on(self, business_date: date) -> bool:
        return self.status is CreditLineStatus.ACTIVE and self.opened_on <= business_date < self.expires_on


class DrawdownRequest(BaseModel):
    """``POST /v1/credit-lines/{id}/drawdowns``: what a partner sends for one drawdown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner_application_no: Annotated[str, BeforeValidator(_application_no)]
    amount: Amount
    term_months: Annotated[int, Field(strict=True, ge=1, le=MAX_TERM_MONTHS)]
    repayment_method: RepaymentMethod
    purpose: Purpose

    def wire(self) -> dict[str, Any]:
        """Canonical JSON form (the drawdown's fingerprint is taken from it)."""
        return {
            "partner_application_no": self.partner_application_no,
            "amount": format_amount(self.amount),
            "term_months": self.term_months,
            "repayment_method": self.repayment_method.value,
            "purpose": self.purpose.value,
        }


def drawdown_violations(line: CreditLine, request: DrawdownRequest, product: Product, business_date: date, available: Decimal) -> list[Violation]:
    """Why the drawdown cannot be taken (empty: route it). ``available``: what is left of the line now.

    The reservation at routing is what guards the line; this gives the partner a clear answer first.
    """
    if line.status is not CreditLineStatus.ACTIVE:
        why = "its agreement is not signed yet" if line.status is CreditLineStatus.PENDING else f"it is {line.status.value}"
        return [Violation("credit_line_id", f"the credit line cannot be drawn: {why}")]
    if not line.opened_on <= business_date < line.expires_on:
        return [Violation("credit_line_id", f"the credit line could be drawn until {line.expires_on.isoformat()} (exclusive)")]
    found = [v for v in product.violations(request.amount, request.term_months, request.repayment_method, None) if v.field != "amount"]
    if request.amount < product.amount_min:
        found.append(Violation("amount", f"must be at least {format_amount(product.amount_min)}"))
    elif request.amount > available:
        found.append(Violation("amount", f"must not exceed what is available on the line, {format_amount(available)}"))
    return found
