"""Refusals a use case can give, independent of HTTP; the API maps each kind to a status."""
from __future__ import annotations

from enum import Enum
from typing import Iterable

from chalicelib.domain.product import Violation


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
