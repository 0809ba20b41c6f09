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


def add_funders(id_hash: str, funder_codes: list[str]) -> None:
    """Remember the funders a person has borrowed from (routing prefers them: preferred cooperation)."""
    if funder_codes:
        CustomerItem(f"ID#{id_hash}").update(actions=[CustomerItem.funders.add(set(funder_codes))], condition=CustomerItem.pk.exists())


def funders_of(id_hash: str | None) -> frozenset[str]:
    """The funders the person with this keyed ID hash has borrowed from."""
    if not id_hash:
        return frozenset()
    try:
        return frozenset(CustomerItem.get(f"ID#{id_hash}", attributes_to_get=["funders"]).funders or ())
    except CustomerItem.DoesNotExist:
        return frozenset()
