"""Sample applications: the contract's standard example, the sample partners' own formats, other people."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.domain.identity import check_character
from local.people import card_number, person, standard  # noqa: F401 - re-exported for the tests

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "config" / "sample" / "partner_payloads"

# The contract's example of POST /v1/applications, as the demo posts it for P_DEMO.
STANDARD: dict[str, Any] = json.loads((ROOT / "config" / "sample" / "standard_application.json").read_text(encoding="utf-8"))
RAW_PII = ["110101199003074514", "13800138000", "6222020200112233446", "张三"]


def partner_payload(partner_id: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{partner_id}.json").read_text(encoding="utf-8"))


def resident_id(division: str = "110101", birth: str = "19900307", sequence: str = "451") -> str:
    first17 = division + birth + sequence
    return first17 + check_character(first17)

