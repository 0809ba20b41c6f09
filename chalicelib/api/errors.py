"""Errors in the contract's shape: ``{"code", "message", "details": [{"field", "message"}]}``."""
from __future__ import annotations

import json
from typing import Any, Iterable

from pydantic import ValidationError

from chalicelib.domain.wire import field_errors


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Iterable[dict[str, str]] = ()):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


def invalid_input(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> ApiError:
    details = [{"field": field, "message": message} for field, message in field_errors(exc, prefix)]
    return ApiError(400, "INVALID_INPUT", "the request has invalid fields", details)


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "INVALID_JSON", f"the body is not valid UTF-8 JSON: {exc}") from exc
