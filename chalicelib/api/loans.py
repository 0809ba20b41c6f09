"""``GET /v1/loans/{id}``, ``/schedule``, ``POST .../repayments``, ``GET /v1/events``, ``POST /v1/reconciliation-files``."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api import http
from chalicelib.api.errors import parse_json
from chalicelib.usecases import loan_servicing


def view(request: Any, loan_id: str) -> Response:
    return http.json_response(200, loan_servicing.view(http.partner_of(request), loan_id))


def schedule(request: Any, loan_id: str) -> Response:
    return http.json_response(200, loan_servicing.schedule(http.partner_of(request), loan_id))


def repay(request: Any, loan_id: str) -> Response:
    partner = http.partner_of(request)
    answer, created = loan_servicing.repay(partner, loan_id, parse_json(request.raw_body or b""))
    return http.json_response(201 if created else 200, answer)


def events(request: Any) -> Response:
    partner = http.partner_of(request)
    query = request.query_params or {}
    return http.json_response(200, loan_servicing.events(partner, query.get("after"), query.get("limit")))


def reconciliation_upload(request: Any) -> Response:
    from chalicelib.usecases import reconciling

    partner = http.partner_of(request)
    return http.json_response(200, reconciling.upload_link(partner, parse_json(request.raw_body or b"")))
