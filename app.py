"""The Chalice app: thin wiring only. Parse, call ``chalicelib``, answer."""
from __future__ import annotations

from datetime import date

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from chalice import Chalice, ConvertToMiddleware

from chalicelib.api import http
from chalicelib.api.quotes import QuoteRequest, quote_body
from chalicelib.observability import logger, metrics, tracer
from chalicelib.resources import APP_NAME
from chalicelib.usecases import day_end, quotes

app = Chalice(app_name=APP_NAME)
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))


@app.route("/health", methods=["GET"])
def health():
    return {"status": "ok"}


@app.route("/v1/quotes", methods=["POST"])
@http.contract_errors
def create_quote():
    request = app.current_request
    partner = http.partner_of(request)
    body: QuoteRequest = http.parse(QuoteRequest, request.raw_body)
    schedule = quotes.quote(
        partner, body.product_code, body.amount, body.term_months, body.repayment_method, body.annual_rate, body.start_date
    )
    metrics.add_metric(name="QuotesComputed", unit=MetricUnit.Count, value=1)
    return http.json_response(200, quote_body(body.product_code, schedule))


@app.lambda_function(name="advance_business_date")
def advance_business_date(event, context):
    """Day-end step: close ``event["business_date"]`` and open the next day."""
    return day_end.advance(date.fromisoformat(event["business_date"]))


@app.schedule("cron(30 16 * * ? *)", name="start_day_end")
def start_day_end(event):
    """00:30 China Standard Time: start the day end of the current business date."""
    from chalicelib.aws_clients import client

    return day_end.start(client("stepfunctions"))
