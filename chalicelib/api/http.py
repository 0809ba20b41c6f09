"""HTTP plumbing for the partner API: the signed request and error responses."""
from __future__ import annotations

import json
import re
import time
from typing import Any, Callable

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib.api.errors import ApiError, invalid_input, parse_json
from chalicelib.domain import canonical_request
from chalicelib.domain.partner import Partner
from chalicelib.domain.signing import AuthFailure, SignedRequest
from chalicelib.observability import logger
from chalicelib.usecases.authentication import authenticate
from chalicelib.usecases.errors import Refusal, Refused
from chalicelib.usecases.operator_auth import NotAnOperator

JSON = {"Content-Type": "application/json"}
_STATUS = {Refusal.INVALID_INPUT: 400, Refusal.FORBIDDEN: 403, Refusal.NOT_FOUND: 404, Refusal.CONFLICT: 409, Refusal.BUSINESS_RULE: 422, Refusal.RATE_LIMITED: 429}


def contract_shaped(response: Response) -> Response:
    """Rewrite an error answered by Chalice itself (``{"Code", "Message"}``) into the contract's shape."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", str(body["Code"]).removesuffix("Error")).upper()
        return json_response(response.status_code, {"code": code, "message": body["Message"], "details": []})
    return response


def json_response(status: int, body: Any) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status, headers=JSON)


def _header(request: Any, name: str) -> str | None:
    value = request.headers.get(name)
    return value.strip() if isinstance(value, str) else None


def signed_request(request: Any) -> SignedRequest:
    """The parts of a Chalice request that the partner signed.

    The canonical path and query are computed from what API Gateway hands the function,
    each part decoded once already: the route (``/v1/loans/{loan_id}``) with its path
    parameters, and the query's parameters in the order sent.
    """
    event = request.to_original_event()
    segments = canonical_request.route_segments(request.path, request.uri_params or {})
    parameters = [(name, value) for name, values in (event.get("multiValueQueryStringParameters") or {}).items() for value in values]
    body = request.raw_body or b""
    return SignedRequest(
        method=request.method,
        path=canonical_request.canonical_of_decoded(segments, parameters),
        partner_id=_header(request, "x-partner-id"),
        timestamp=_header(request, "x-timestamp"),
        nonce=_header(request, "x-nonce"),
        signature=_header(request, "x-signature"),
        body=body if isinstance(body, bytes) else body.encode("utf-8"),
        as_sent=tuple(canonical_request.as_sent_forms(segments, parameters, event.get("path"))),
    )


def partner_of(request: Any) -> Partner:
    return authenticate(signed_request(request), time.time())


def parse(model: type[BaseModel], raw: bytes) -> Any:
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_INPUT", "the body must be a JSON object", [{"field": "body", "message": "must be an object"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from exc


def error_response(exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        return json_response(exc.status, exc.body())
    if isinstance(exc, AuthFailure):
        logger.info("authentication refused", extra={"code": exc.code})
        return json_response(401, {"code": exc.code, "message": exc.message, "details": []})
    if isinstance(exc, NotAnOperator):
        return json_response(401, {"code": "OPERATOR_UNKNOWN", "message": str(exc), "details": []})
    if isinstance(exc, Refused):
        details = [{"field": v.field, "message": v.message} for v in exc.violations]
        return json_response(_STATUS[exc.kind], {"code": exc.code, "message": exc.message, "details": details})
    logger.exception("unhandled error")
    return json_response(500, {"code": "INTERNAL_ERROR", "message": "an internal error occurred; it has been logged", "details": []})


def answer(view: Callable[[], Response]) -> Response:
    """Run a route and answer every failure in the contract's error shape; bad input never 5xx."""
    try:
        return view()
    except Exception as exc:  # noqa: BLE001 - every error must become a contract-shaped answer
        return error_response(exc)
