"""Synthetic applicants for the demo, the benchmarks and the tests: each with their own ID, mobile and card.

The ID's 3-digit sequence chooses what the simulated credit bureau answers
(see ``chalicelib/ports/credit_bureau.py``): 451 a clean file, 911 overdue
now, 920 many recent inquiries, 951 a bureau that always times out, ...
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from chalicelib.domain.identity import luhn_valid
from chalicelib.ports.credit_bureau import make_id

STANDARD_FILE = Path(__file__).resolve().parent.parent / "config" / "sample" / "standard_application.json"


def standard(**changes: Any) -> dict[str, Any]:
    """The contract's standard example with changes; nested ones as ``applicant__mobile=...``."""
    body = json.loads(STANDARD_FILE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        target = body
        *parents, leaf = key.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = copy.deepcopy(value)
    return body


def card_number(seed: int) -> str:
    """A Luhn-valid 19-digit card number of its own for each seed."""
    stem = f"622202{seed:012d}"
    return next(stem + str(d) for d in range(10) if luhn_valid(stem + str(d)))


def person(sequence: int, **changes: Any) -> dict[str, Any]:
    """The standard example for another person: their own ID (by bureau pattern sequence), mobile and card."""
    return standard(
        **{
            "partner_application_no": f"P{sequence:05d}",
            "applicant__id_number": make_id(sequence),
            "applicant__mobile": f"139{sequence:08d}",
            "account__card_number": card_number(sequence),
            **changes,
        }
    )
