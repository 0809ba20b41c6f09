"""The customer master (ECIF): one customer per person across partners and branches."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.domain import identifiers
from chalicelib.persistence.models import CustomerItem


def find_or_create(id_hash: str, home_branch: str, sealed_pii: dict[str, Any], now: str) -> tuple[str, bool]:
    """The customer id of the person with this keyed ID hash, and whether it was created now.

    A new person belongs to the branch of their first application. One
    conditional put in the common case; a known person costs a put and a get.
    """
    item = CustomerItem(
        f"ID#{id_hash}", customer_id=identifiers.customer_id(), home_branch=home_branch, sealed_pii=sealed_pii, created_at=now
    )
    try:
        item.save(condition=CustomerItem.pk.does_not_exist())
        return item.customer_id, True
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    return CustomerItem.get(item.pk, consistent_read=True).customer_id, False
