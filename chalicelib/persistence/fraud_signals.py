"""Velocity signals for anti-fraud, by keyed hashes only, expired by TTL after their window.

- ``MOBILE#<mac>`` / ``CARD#<mac>`` -> one item per person (ID hash) who used it;
- ``PERSON#<id hash>`` -> one item per application of that person.

Each step records its own use (a put, idempotent by key) and counts the
partition within the window (one query), so a retried step counts nothing twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.persistence.models import FraudSignalItem


def _record_and_count(pk: str, sk: str, now: datetime, window_days: int) -> int:
    since = (now - timedelta(days=window_days)).isoformat()
    FraudSignalItem(pk, sk, at=now.isoformat(), expires_at=int((now + timedelta(days=window_days)).timestamp())).save()
    return sum(1 for item in FraudSignalItem.query(pk, filter_condition=FraudSignalItem.at >= since))


def people_using(kind: str, value_hash: str, id_hash: str, now: datetime, window_days: int) -> int:
    """How many distinct people (this one included) used this mobile or card within the window."""
    return _record_and_count(f"{kind}#{value_hash}", id_hash, now, window_days)


def applications_of(id_hash: str, application_id: str, now: datetime, window_days: int) -> int:
    """How many applications (this one included) the person made within the window."""
    return _record_and_count(f"PERSON#{id_hash}", application_id, now, window_days)
