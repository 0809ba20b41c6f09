"""``POST /v1/quotes``: the request schema and the response body."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Response

from chalicelib.api import http
from chalicelib.domain.wire import Amount, AnnualRate, Code, IsoDate
from chalicelib.domain.money import format_amount, format_rate
from chalicelib.domain.schedule import MAX_TERM_MONTHS, RepaymentMethod, Schedule
from chalicelib.observability import metrics
from chalicelib.usecases import quotes


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


def create(request: Any) -> Response:
    """``POST /v1/quotes``: authenticate, validate, quote, answer."""
    partner = http.partner_of(request)
    body: QuoteRequest = http.parse(QuoteRequest, request.raw_body)
    schedule = quotes.quote(
        partner, body.product_code, body.amount, body.term_months, body.repayment_method, body.annual_rate, body.start_date
    )
    metrics.add_metric(name="QuotesComputed", unit=MetricUnit.Count, value=1)
    return http.json_response(200, quote_body(body.product_code, schedule))
