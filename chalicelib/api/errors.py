"""Errors in the contract's shape: ``{"code", "message", "details": [{"field", "message"}]}``."""
from __future__ import annotations

import json
from typing import Any, Iterable

from pydantic import ValidationError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Iterable[dict[str, str]] = ()):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


def field_path(loc: Iterable[Any]) -> str:
    """Pydantic's location as a dotted path: ("applicant", "id_number") -> "applicant.id_number"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is invalid"))
    if error.get("type") == "missing":
        return "is required"
    if error.get("type") == "extra_forbidden":
        return "is not a known field"
    return message.removeprefix("Value error, ")


def invalid_input(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> ApiError:
    details = [{"field": field_path(prefix + tuple(e["loc"])), "message": _message(e)} for e in exc.errors()]
    return ApiError(400, "INVALID_INPUT", "the request has invalid fields", details)


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "INVALID_JSON", f"the body is not valid UTF-8 JSON: {exc}") from exc
