"""Wire types shared by request schemas: money and rates as strings, dates as ISO text."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Iterable

from pydantic import BeforeValidator, Field, ValidationError

from chalicelib.domain.money import parse_amount, parse_rate

MAX_RATE = Decimal("0.36")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339's date-time (its offset required; "T" or a space between date and time; fractions of a
# second beyond the microsecond dropped): what the document's pattern says.
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
_TIMESTAMP_TEXT = re.compile(TIMESTAMP_PATTERN)


def _positive_amount(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError("must be a string such as \"12000.00\", not a JSON number")
    amount = parse_amount(value)
    if amount <= 0:
        raise ValueError("must be greater than 0")
    return amount


def _annual_rate(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError("must be a string such as \"0.0720\", not a JSON number")
    rate = parse_rate(value)
    if not 0 <= rate <= MAX_RATE:
        raise ValueError(f"must be from 0 to {MAX_RATE}")
    return rate


def _iso_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("is not a real calendar date") from exc
    if not 2000 <= day.year <= 2099:
        raise ValueError("must be in the years 2000 to 2099")
    return day


def _timestamp(value: Any) -> datetime:
    """An instant as RFC 3339 text with its offset (``2026-11-23T10:00:00+08:00``); never a number."""
    if not isinstance(value, str) or not _TIMESTAMP_TEXT.fullmatch(value):
        raise ValueError("must be a date-time with its offset, such as 2026-11-23T10:00:00+08:00")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise ValueError("is not a real date and time") from exc


Amount = Annotated[Decimal, BeforeValidator(_positive_amount)]
AnnualRate = Annotated[Decimal, BeforeValidator(_annual_rate)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]


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


def field_errors(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    """Each error of a pydantic validation as (field path, readable message)."""
    return [(field_path(prefix + tuple(e["loc"])), _message(e)) for e in exc.errors()]
