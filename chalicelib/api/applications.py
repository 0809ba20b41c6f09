"""``POST /v1/applications`` and ``GET /v1/applications/{id}``."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Response

from chalicelib.api import http
from chalicelib.api.errors import parse_json
from chalicelib.aws_clients import client
from chalicelib.observability import logger, metrics
from chalicelib.usecases import intake


def submit(request: Any) -> Response:
    partner = http.partner_of(request)
    received = intake.submit(partner, parse_json(request.raw_body or b""), client("stepfunctions"))
    metrics.add_metric(name="ApplicationsReceived" if received.created else "ApplicationsReplayed", unit=MetricUnit.Count, value=1)
    logger.info("application received", extra={"application_id": received.application_id, "partner_id": partner.partner_id, "replay": not received.created})
    body = {"application_id": received.application_id, "status": received.status}
    return http.json_response(202 if received.created else 200, body)


def view(request: Any, application_id: str) -> Response:
    partner = http.partner_of(request)
    return http.json_response(200, intake.view(partner, application_id))
