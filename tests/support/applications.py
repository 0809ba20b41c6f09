"""Sample applications: the contract's standard example, the sample partners' own formats, other people."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from chalicelib.domain.identity import check_character

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "config" / "sample" / "partner_payloads"

STANDARD: dict[str, Any] = {
    "partner_application_no": "A2026112300001",
    "product_code": "CONSUMER_STD",
    "amount": "50000.00",
    "term_months": 12,
    "repayment_method": "EQUAL_INSTALLMENT",
    "purpose": "CONSUMPTION",
    "applicant": {
        "name": "张三",
        "id_type": "RESIDENT_ID",
        "id_number": "110101199003074514",
        "mobile": "13800138000",
        "monthly_income": "12000.00",
        "employer": "某某科技有限公司",
        "occupation": "ENGINEER",
        "education": "BACHELOR",
        "marital_status": "MARRIED",
    },
    "account": {"card_number": "6222020200112233446", "bank_name": "某某银行", "account_name": "张三"},
    "consents": {"credit_inquiry": True, "data_sharing": True},
}
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
