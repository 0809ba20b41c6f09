"""Make moto's DynamoDB writes atomic across threads, as DynamoDB's are.

DynamoDB evaluates a condition and writes in one atomic step, and runs a
transaction's items all or nothing against concurrent writers. Moto checks
and writes in plain Python, so two threads can both pass the same condition
(two conditional puts of one nonce both succeeding; two idempotent
applications both created). The local stack and the tests run concurrent
requests, so every DynamoDB call of moto that writes (or reads, see ``_READING``) is
serialised with one lock.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from moto.dynamodb.models import DynamoDBBackend

_LOCK = threading.RLock()
_MUTATING = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# Moto's transactions deep-copy tables (for rollback); a read walking a table meanwhile fails with
# "dictionary changed size during iteration", so reads take the same lock.
_READING = ("get_item", "transact_get_items", "query", "batch_get_item", "scan")


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    locked.__serialised__ = True  # type: ignore[attr-defined]
    return locked


def install() -> None:
    """Idempotent: the methods are wrapped once per process."""
    for name in _MUTATING + _READING:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "__serialised__", False):
            setattr(DynamoDBBackend, name, _serialised(method))
