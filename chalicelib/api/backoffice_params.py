"""The query parameters of the back office's lists, checked together: ``limit``, ``cursor`` and filters.

Every list takes ``limit`` (1-100, default 20) and ``cursor`` (opaque: the
``next_cursor`` of the page before) and answers ``{"items": [...],
"next_cursor": "..." | null}`` (``page``). Each bad parameter, and each parameter
the list does not know, is named in one 400 ``INVALID_INPUT`` (``details[].field``
is the parameter's name), so a typo in a filter never silently widens a list.

A cursor is a small JSON object (a position in the list), base64url-encoded and
tagged with the list it belongs to; a cursor of another list, or anything this
API did not give, is a 400. It is not signed: it only says where to go on, and
every read it leads to is scoped by the operator as the first page was.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from chalice import Response

from chalicelib.api import http
from chalicelib.api.errors import ApiError
from chalicelib.domain import cursors

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_CURSOR = 1000  # characters
COMMON = ("limit", "cursor")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,31}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def encode_cursor(list_name: str, position: dict[str, Any]) -> str:
    return cursors.encode({"list": list_name, "at": position})


def decode_cursor(list_name: str, cursor: str) -> dict[str, Any]:
    """The position a cursor of ``list_name`` stands for; ``ValueError`` for anything else."""
    found = cursors.decode(cursor, MAX_CURSOR)
    if not isinstance(found, dict) or found.get("list") != list_name or not isinstance(found.get("at"), dict):
        raise ValueError("not a cursor of this list")
    return found["at"]


def page(list_name: str, items: list[Any], position: dict[str, Any] | None, **extra: Any) -> Response:
    """A list's answer: its items and the cursor of the next page (null: this is the last)."""
    cursor = None if position is None else encode_cursor(list_name, position)
    return http.json_response(200, {**extra, "items": items, "next_cursor": cursor})


class ListQuery:
    """A list request's parameters; each accessor notes what is wrong, ``checked`` raises the 400."""

    def __init__(self, request: Any, list_name: str, filters: tuple[str, ...]):
        self.list_name = list_name
        self.params: dict[str, str] = dict(request.query_params or {})
        self.details: list[dict[str, str]] = []
        known = set(COMMON) | set(filters)
        for name in sorted(set(self.params) - known):
            self.invalid(name[:64], f"is not a parameter of this list (it takes {', '.join(sorted(known))})")

    @staticmethod
    def is_code(value: str) -> bool:
        """Whether ``value`` is a code (a partner id, a branch code): ``[A-Z][A-Z0-9_]{1,31}``."""
        return bool(_CODE.fullmatch(value))

    def invalid(self, field: str, message: str) -> None:
        self.details.append({"field": field, "message": message})

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    def limit(self) -> int:
        raw = self.params.get("limit", str(DEFAULT_LIMIT))
        value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
        if not 1 <= value <= MAX_LIMIT:
            self.invalid("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
            return DEFAULT_LIMIT
        return value

    def cursor(self) -> dict[str, Any] | None:
        raw = self.text("cursor")
        if raw is None:
            return None
        try:
            return decode_cursor(self.list_name, raw)
        except ValueError:
            self.invalid("cursor", "is not a cursor this list gave (use the next_cursor of the page before)")
            return None

    def code(self, name: str, what: str = "code") -> str | None:
        value = self.text(name)
        if value is not None and not _CODE.fullmatch(value):
            self.invalid(name, f"must be a {what}: upper-case letters, digits and _ (2 to 32), starting with a letter")
            return None
        return value

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.invalid(name, "must be a date as YYYY-MM-DD")
            return None

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            self.invalid(name, f"must be one of {', '.join(choices)}")
            return None
        return value

    def checked(self) -> None:
        """Raise the 400 naming every bad parameter, if any."""
        if self.details:
            raise ApiError(400, "INVALID_INPUT", "the request has invalid parameters", self.details)
