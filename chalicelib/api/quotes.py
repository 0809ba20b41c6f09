"""``POST /v1/quotes``: the request schema and the response body."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.api.wire import Amount, AnnualRate, Code, IsoDate
from chalicelib.domain.money import format_amount, format_rate
from chalicelib.domain.schedule import MAX_TERM_MONTHS, RepaymentMethod, Schedule


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    product_code: Code
    amount: Amount
    term_months: StrictInt = Field(ge=1, le=MAX_TERM_MONTHS)
    repayment_method: RepaymentMethod
    annual_rate: AnnualRate | None = None
    start_date: IsoDate | None = None


def quote_body(product_code: str, schedule: Schedule) -> dict[str, Any]:
    return {
        "product_code": product_code,
        "amount": format_amount(schedule.amount),
        "term_months": schedule.term_months,
        "repayment_method": schedule.method.value,
        "annual_rate": format_rate(schedule.annual_rate),
        "start_date": schedule.start_date.isoformat(),
        "installments": [
            {
                "period": i.period,
                "due_date": i.due_date.isoformat(),
                "principal": format_amount(i.principal),
                "interest": format_amount(i.interest),
                "payment": format_amount(i.payment),
                "balance_after": format_amount(i.balance_after),
            }
            for i in schedule.installments
        ],
        "total_principal": format_amount(schedule.total_principal),
        "total_interest": format_amount(schedule.total_interest),
        "total_payment": format_amount(schedule.total_payment),
    }
