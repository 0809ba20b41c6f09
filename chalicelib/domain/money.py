"""Money: CNY yuan as ``Decimal`` with two decimals, rounded half up to the fen."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

# [0-9], not \d (which takes full-width digits), and fullmatch, not $ (which takes a trailing newline).
_AMOUNT_TEXT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?")
_RATE_TEXT = re.compile(r"[0-9]{1,2}(\.[0-9]{1,8})?")


def to_fen(value: Decimal) -> Decimal:
    """Round to the fen, half up (0.005 -> 0.01)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def parse_amount(text: str) -> Decimal:
    """Parse a wire amount such as ``"12000.00"``; at most two decimals, no exponent."""
    if not isinstance(text, str) or not _AMOUNT_TEXT.fullmatch(text):
        raise ValueError("must be a decimal string with at most 2 decimals, e.g. \"12000.00\"")
    return Decimal(text).quantize(FEN)


def parse_rate(text: str) -> Decimal:
    """Parse a wire annual rate such as ``"0.0720"``; at most 8 decimals."""
    if not isinstance(text, str) or not _RATE_TEXT.fullmatch(text):
        raise ValueError("must be a decimal string such as \"0.0720\" (at most 8 decimals)")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid text
        raise ValueError("not a number") from exc


def format_amount(value: Decimal) -> str:
    """The wire form: always two decimals, never an exponent."""
    return f"{to_fen(value):.2f}"


RATE_PLACES = Decimal("0.0001")


def format_rate(value: Decimal) -> str:
    """The wire form of a rate: at least four decimals ("0.0600"), more only when needed."""
    if value == value.quantize(RATE_PLACES):
        return f"{value.quantize(RATE_PLACES):f}"
    return f"{value.normalize():f}"


def precise():  # noqa: ANN201 - a decimal.ContextManager
    """A decimal context wide enough that only the explicit fen rounding ever loses anything."""
    return localcontext(prec=40)
