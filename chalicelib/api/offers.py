"""``POST /v1/applications/{id}/acceptance`` and ``GET /v1/applications/{id}/contract``."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api import http
from chalicelib.api.errors import parse_json
from chalicelib.aws_clients import client
from chalicelib.usecases import contracting, offers


def answer(request: Any, application_id: str) -> Response:
    partner = http.partner_of(request)
    return http.json_response(200, offers.answer(partner, application_id, parse_json(request.raw_body or b""), client("stepfunctions")))


def contract(request: Any, application_id: str) -> Response:
    partner = http.partner_of(request)
    return http.json_response(200, contracting.view(partner, application_id))
