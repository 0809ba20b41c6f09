"""Applications and their idempotency items, written together in one transaction.

The idempotency item ``IDEM#<partner>#<partner_application_no>`` holds the
application id and the fingerprint of what the partner sent. Both items are
put with ``attribute_not_exists`` in a single ``TransactWriteItems``, so of
any number of concurrent duplicates exactly one application is created.
"""
from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import settings
from chalicelib.persistence.models import ApplicationItem


@lru_cache(maxsize=4)
def _connection(region: str, endpoint: str | None) -> Connection:
    """One connection per region and endpoint (botocore reads the endpoint from the environment)."""
    return Connection(region=region)


def _idempotency_key(partner_id: str, partner_application_no: str) -> str:
    return f"IDEM#{partner_id}#{partner_application_no}"


def _key(application_id: str) -> str:
    return f"APP#{application_id}"


def get(application_id: str) -> ApplicationItem | None:
    try:
        return ApplicationItem.get(_key(application_id), consistent_read=True)
    except DoesNotExist:
        return None


def find(partner_id: str, partner_application_no: str) -> ApplicationItem | None:
    """The idempotency item of a partner's application number, if any."""
    try:
        return ApplicationItem.get(_idempotency_key(partner_id, partner_application_no), consistent_read=True)
    except DoesNotExist:
        return None


def create(item: ApplicationItem) -> bool:
    """Store a new application; False if its partner application number was taken meanwhile
    (or a concurrent duplicate's transaction is in flight: the caller reads again)."""
    item.pk = _key(item.application_id)
    claim = ApplicationItem(
        _idempotency_key(item.partner_id, item.partner_application_no),
        application_id=item.application_id,
        partner_id=item.partner_id,
        partner_application_no=item.partner_application_no,
        fingerprint=item.fingerprint,
        created_at=item.created_at,
    )
    try:
        with TransactWrite(connection=_connection(settings.region(), settings.aws_endpoint())) as transaction:
            transaction.save(claim, condition=ApplicationItem.pk.does_not_exist())
            transaction.save(item, condition=ApplicationItem.pk.does_not_exist())
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if {"ConditionalCheckFailed", "TransactionConflict"} & set(reasons):
            return False
        raise
    return True
