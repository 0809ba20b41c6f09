"""Applications and their idempotency items, written together in one transaction.

The idempotency item ``IDEM#<partner>#<partner_application_no>`` holds the
application id and the fingerprint of what the partner sent. Both items are
put with ``attribute_not_exists`` in a single ``TransactWriteItems``, so of
any number of concurrent duplicates exactly one application is created.
"""
from __future__ import annotations


from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.persistence.models import ApplicationItem, transaction_connection


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
        with TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(claim, condition=ApplicationItem.pk.does_not_exist())
            transaction.save(item, condition=ApplicationItem.pk.does_not_exist())
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if {"ConditionalCheckFailed", "TransactionConflict"} & set(reasons):
            return False
        raise
    return True


def branch_status(branch_code: str | None, status: str) -> str:
    return f"{branch_code}#{status}"


def transition(application_id: str, to: str, allowed_from: set[str], now: str, **attributes: Any) -> ApplicationItem:
    """Move an application to status ``to`` (idempotent: already there is fine), setting ``attributes``.

    Refuses (``StatusConflict``) a move from any status not in ``allowed_from``.
    """
    item = get(application_id)
    if item is None:
        raise LookupError(application_id)
    if item.status != to and item.status not in allowed_from:
        raise StatusConflict(f"application {application_id} is {item.status}, not one of {sorted(allowed_from)}")
    actions = [
        ApplicationItem.status.set(to),
        ApplicationItem.branch_status.set(branch_status(item.branch_code, to)),
        ApplicationItem.updated_at.set(now),
    ]
    actions += [getattr(ApplicationItem, name).set(value) if value is not None else getattr(ApplicationItem, name).remove() for name, value in attributes.items()]
    try:
        item.update(actions=actions, condition=ApplicationItem.status.is_in(*(allowed_from | {to})))
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise StatusConflict(f"application {application_id} changed status meanwhile") from exc
        raise
    return item


def queue(branch_code: str, status: str, limit: int = 50) -> list[ApplicationItem]:
    """A branch's applications in ``status``, oldest first (the manual review queue)."""
    index = ApplicationItem.by_branch_status
    return list(index.query(branch_status(branch_code, status), limit=limit, scan_index_forward=True))


class StatusConflict(Exception):
    """The application is not in a status that allows this step."""
