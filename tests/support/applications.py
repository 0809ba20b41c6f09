"""Sample applications: the contract's standard example, the sample partners' own formats, other people."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from chalicelib.domain.identity import check_character

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "config" / "sample" / "partner_payloads"

# The contract's example of POST /v1/applications, as the demo posts it for P_DEMO.
STANDARD: dict[str, Any] = json.loads((ROOT / "config" / "sample" / "standard_application.json").read_text(encoding="utf-8"))
RAW_PII = ["110101199003074514", "13800138000", "6222020200112233446", "张三"]


def standard(**changes: Any) -> dict[str, Any]:
    """The standard example with top-level changes, or nested ones as ``applicant__mobile=...``."""
    body = copy.deepcopy(STANDARD)
    for key, value in changes.items():
        target = body
        *parents, leaf = key.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return body


def partner_payload(partner_id: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{partner_id}.json").read_text(encoding="utf-8"))


def resident_id(division: str = "110101", birth: str = "19900307", sequence: str = "451") -> str:
    first17 = division + birth + sequence
    return first17 + check_character(first17)


def card_number(seed: int) -> str:
    """A Luhn-valid 19-digit card number of its own for each seed."""
    from chalicelib.domain.identity import luhn_valid

    stem = f"622202{seed:012d}"
    return next(stem + str(d) for d in range(10) if luhn_valid(stem + str(d)))


def person(sequence: int, **changes: Any) -> dict[str, Any]:
    """The standard example for another person: their own ID (by bureau pattern sequence), mobile and card."""
    from chalicelib.ports.credit_bureau import make_id

    return standard(
        **{
            "partner_application_no": f"P{sequence:05d}",
            "applicant__id_number": make_id(sequence),
            "applicant__mobile": f"139{sequence:08d}",
            "account__card_number": card_number(sequence),
            **changes,
        }
    )
