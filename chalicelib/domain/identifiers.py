"""Identifiers the platform hands out: sortable by time, unguessable, never derived from personal data."""
from __future__ import annotations

import secrets
from datetime import datetime


def application_id(now: datetime) -> str:
    """``AP`` + the UTC date and time to the second + 10 random hex digits, e.g. ``AP20261123-143501-a3f9c0d2e1``.

    The dashes keep every run of digits shorter than 11, so the log scrubber (which masks digit
    runs shaped like ID, mobile and card numbers) leaves identifiers readable in log lines.
    """
    return f"AP{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(5)}"


def customer_id() -> str:
    return f"CU{secrets.token_hex(8).upper()}"
