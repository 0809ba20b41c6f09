"""Refusals a use case can give, independent of HTTP; the API maps each kind to a status."""
from __future__ import annotations

from enum import Enum
from typing import Any, Iterable, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.domain.product import Violation
from chalicelib.domain.wire import field_errors

M = TypeVar("M", bound=BaseModel)


class Refusal(str, Enum):
    INVALID_INPUT = "invalid_input"  # 400
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409
    BUSINESS_RULE = "business_rule"  # 422
    RATE_LIMITED = "rate_limited"  # 429


class Refused(Exception):
    def __init__(self, kind: Refusal, code: str, message: str, violations: Iterable[Violation] = ()):
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.violations = list(violations)


def invalid_input(what: str, violations: Iterable[Violation]) -> Refused:
    """A 400 naming each field: ``the <what> has invalid fields``."""
    return Refused(Refusal.INVALID_INPUT, "INVALID_INPUT", f"the {what} has invalid fields", violations)


def parse_body(model: type[M], payload: Any, what: str) -> M:
    """A request body (parsed JSON) as ``model``, or a 400 with the path of every bad field."""
    if not isinstance(payload, dict):
        raise invalid_input(what, [Violation("body", "must be a JSON object")])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise invalid_input(what, [Violation(path, message) for path, message in field_errors(exc)]) from exc
