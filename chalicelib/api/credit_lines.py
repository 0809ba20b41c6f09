"""``GET /v1/credit-lines/{id}`` and ``POST /v1/credit-lines/{id}/drawdowns``."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Response

from chalicelib.api import http
from chalicelib.api.errors import parse_json
from chalicelib.aws_clients import client
from chalicelib.observability import logger, metrics
from chalicelib.usecases import credit_lines


def view(request: Any, credit_line_id: str) -> Response:
    partner = http.partner_of(request)
    return http.json_response(200, credit_lines.view(partner, credit_line_id))


def drawdown(request: Any, credit_line_id: str) -> Response:
    partner = http.partner_of(request)
    received = credit_lines.drawdown(partner, credit_line_id, parse_json(request.raw_body or b""), client("stepfunctions"))
    metrics.add_metric(name="DrawdownsReceived" if received.created else "DrawdownsReplayed", unit=MetricUnit.Count, value=1)
    logger.info("drawdown received", extra={"application_id": received.application_id, "credit_line_id": credit_line_id, "partner_id": partner.partner_id, "replay": not received.created})
    body = {"application_id": received.application_id, "status": received.status, "credit_line_id": credit_line_id}
    return http.json_response(202 if received.created else 200, body)
