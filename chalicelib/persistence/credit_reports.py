"""Credit reports, sealed, one per person and querying branch, kept for their validity period."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.persistence import pii_vault
from chalicelib.persistence.models import CreditReportItem


def key(id_hash: str, branch_code: str) -> str:
    return f"REPORT#{id_hash}#{branch_code}"


def find(report_key: str) -> tuple[datetime, dict[str, Any]] | None:
    """When the stored report was queried, and the report; None if there is none."""
    try:
        item = CreditReportItem.get(report_key, consistent_read=True)
    except DoesNotExist:
        return None
    return datetime.fromisoformat(item.queried_at), pii_vault.unseal(item.sealed, {"report": report_key})


def queried_at(report_key: str) -> datetime | None:
    try:
        return datetime.fromisoformat(CreditReportItem.get(report_key, attributes_to_get=["queried_at"]).queried_at)
    except DoesNotExist:
        return None


def save(report_key: str, queried: datetime, report: dict[str, Any], validity_days: int) -> None:
    CreditReportItem(
        report_key,
        queried_at=queried.isoformat(),
        sealed=pii_vault.seal(report, {"report": report_key}),
        expires_at=int((queried + timedelta(days=validity_days)).timestamp()),
    ).save()
