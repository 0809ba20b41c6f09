"""Replay and rate protection per partner: one conditional write each, expired by TTL."""
from __future__ import annotations

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.persistence.models import GuardItem

NONCE_SECONDS = 15 * 60
WINDOW_SECONDS = 60


def _condition_failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def claim_nonce(partner_id: str, nonce: str, now: int) -> bool:
    """True the first time a partner uses ``nonce`` within 15 minutes; False for a replay.

    TTL deletes lazily, so an expired item that still exists does not count.
    """
    item = GuardItem(f"NONCE#{partner_id}#{nonce}", expires_at=now + NONCE_SECONDS)
    try:
        item.save(condition=GuardItem.pk.does_not_exist() | (GuardItem.expires_at < now))
    except PutError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def take_rate_slot(partner_id: str, limit_per_minute: int, now: int) -> bool:
    """Count a request in the partner's current minute; False once the minute's limit is reached."""
    window = now // WINDOW_SECONDS
    item = GuardItem(f"RATE#{partner_id}#{window}")
    try:
        item.update(
            actions=[GuardItem.count.add(1), GuardItem.expires_at.set((window + 2) * WINDOW_SECONDS)],
            condition=GuardItem.count.does_not_exist() | (GuardItem.count < limit_per_minute),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True
