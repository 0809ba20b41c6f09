"""Reads of the risk table for the back office, lazily and from a position: open collection cases, warnings.

It reads what ``risk.py`` writes, through its model and keys, and never writes.

- ``open_cases``: a branch's open cases, from the sparse ``by_queue`` index
  (``<branch>#OPEN``, sorted by the day opened): oldest first. Each case comes
  with its position (the index's key of the item), from which a later call goes
  on (``ExclusiveStartKey``).
- ``warnings``: the partition ``WARNINGS#<branch, or PLATFORM>#<day>``, by warning
  id. A warning's id starts with its kind (``<KIND>:<day>:<subject>``), so a kind
  is a key condition (``begins_with``), not a filter.
- ``loans``: the loans of a page of cases, in one ``BatchGetItem``.

Both listings are generators over DynamoDB's pages: the caller takes what it
needs and stops; nothing more is read.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Iterator

from chalicelib.domain.loan import Loan
from chalicelib.persistence import loans as loan_store
from chalicelib.persistence.risk import PLATFORM, RiskItem

PAGE_SIZE = 100
_KEY_NAMES = ("pk", "sk", "queue", "opened_on")


def queue_of(branch_code: str) -> str:
    """The by_queue partition of a branch's open cases (as ``risk.put_case`` writes it)."""
    return f"{branch_code}#OPEN"


def _case_position(item: RiskItem) -> dict[str, str]:
    return {"pk": item.pk, "sk": item.sk, "queue": item.queue, "opened_on": item.opened_on}


def open_cases(branch_code: str, after: dict[str, Any] | None = None) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """(case, position) of a branch's open cases, oldest first, after ``after`` (a position this
    gave); ``ValueError`` for a position that is not one of this branch's queue."""
    start = None
    if after is not None:
        if not isinstance(after, dict) or set(after) != set(_KEY_NAMES) or not all(isinstance(after[k], str) and 0 < len(after[k]) <= 256 for k in _KEY_NAMES):
            raise ValueError("not a position in a queue")
        if after["queue"] != queue_of(branch_code) or not after["pk"].startswith("CASE#"):
            raise ValueError("a position in another queue")
        start = {name: {"S": after[name]} for name in _KEY_NAMES}
    found = RiskItem.by_queue.query(queue_of(branch_code), scan_index_forward=True, last_evaluated_key=start, page_size=PAGE_SIZE)
    for item in found:
        yield item.document or {}, _case_position(item)


def warnings(branch_code: str | None, day: date, kind: str | None = None, after: str | None = None) -> Iterator[tuple[dict[str, Any], str]]:
    """(warning, its id) of a branch's warnings of a day (``None``: the platform's), by id, of one
    kind or all, after the id ``after``."""
    pk = f"WARNINGS#{branch_code or PLATFORM}#{day.isoformat()}"
    condition = RiskItem.sk.startswith(f"{kind}:") if kind else None
    start = None
    if after is not None:
        if not isinstance(after, str) or not 0 < len(after) <= 512:
            raise ValueError("not a warning id")
        start = {"pk": {"S": pk}, "sk": {"S": after}}
    found = RiskItem.query(pk, range_key_condition=condition, consistent_read=True, last_evaluated_key=start, page_size=PAGE_SIZE)
    for item in found:
        yield item.document or {}, item.sk


def loans(loan_ids: Iterable[str]) -> dict[str, Loan]:
    """The loans of these ids that exist, by id (one BatchGetItem per 100)."""
    keys = [(f"LOAN#{loan_id}", "LOAN") for loan_id in dict.fromkeys(loan_ids)]
    if not keys:
        return {}
    return {item.loan_id: loan_store.from_document(item.document) for item in loan_store.LoanItem.batch_get(keys)}
