"""Reading for the back office: lists walked page by page over index partitions, and a loan's postings.

A list is a walk over one or more index partitions, in order (a branch's
applications of a day, one branch after another; a branch's loans in one
status, one status after another), each newest first. A page asks DynamoDB
for at most what it still needs; an index that holds keys only (the loans'
``by_branch_status``, the applications' ``by_branch_day``) is followed by one
``BatchGetItem`` of the page's items. A filter that no index serves (a loan's
class, a partner) is applied to what was read; a page then stops at the item
that filled it, and a walk reads at most ``READ_BUDGET`` index entries per
request: it may answer fewer items than asked for (even none) with a
``next_cursor`` to go on from. ``next_cursor`` is None only when every
partition is walked to its end.

The cursor is opaque to the caller: base64url of ``{"p": <partition>, "k":
<DynamoDB's LastEvaluatedKey, or the key of the item the page stopped at>}``.
A cursor is checked against the walk it is given to (the partition exists, the
key has exactly that index's key attributes, all strings, and names that
partition), so a cursor cannot reach a partition the walk would not; anything
else is a ``ValueError`` (the caller's 400).

The ledger's ``by_loan`` index (declared in ``resources.py``; sparse: only
postings carry ``loan_id`` and ``posted_at``, the account totals do not) gives
a loan's postings in time order, without touching ``persistence/ledger.py``:
``LoanPosting`` is its ``PostingItem`` with the index added.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib import resources
from chalicelib.domain import cursors
from chalicelib.persistence.applications import TrackedApplication
from chalicelib.persistence.ledger import PostingItem
from chalicelib.persistence.loans import LoanItem
from chalicelib.persistence.models import declared_index

PAGE = 100  # DynamoDB's BatchGetItem takes 100 keys
READ_BUDGET = 500  # index entries read per request at most, however many a filter drops
MAX_CURSOR = 2048


class _ByLoan(GlobalSecondaryIndex):
    class Meta:
        index_name = declared_index(resources.LEDGER_TABLE, "by_loan")
        projection = AllProjection()

    loan_id = UnicodeAttribute(hash_key=True)
    posted_at = UnicodeAttribute(range_key=True)


class LoanPosting(PostingItem):
    """A posting, found by its loan (the ledger's ``by_loan`` index)."""

    _connection = None  # its own connection, whose schema knows by_loan
    _bound_to = None

    by_loan = _ByLoan()


# -- walking index partitions --------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """One index partition a list walks, and how its page's entries become items."""

    index: Any  # a PynamoDB index, bound to its model
    attribute: str  # the index's partition key
    value: str
    keys: tuple[str, ...]  # the attributes of a key to start after: the table's keys and the index's
    load: Callable[[list[dict[str, Any]]], list[Any]]  # raw index entries -> items (None: gone)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(partition: int, key: dict[str, Any] | None) -> str:
    return cursors.encode({"p": partition, "k": key})


def decode_cursor(cursor: str, partitions: Sequence[Partition]) -> tuple[int, dict[str, Any] | None]:
    """(partition, key to start after) of a cursor this walk gave; ``ValueError`` for anything else."""
    data = cursors.decode(cursor, MAX_CURSOR)
    if not isinstance(data, dict) or set(data) != {"p", "k"}:
        raise ValueError("not a cursor")
    index, key = data["p"], data["k"]
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(partitions):
        raise ValueError("not a cursor of this list")
    if key is None:
        return index, None
    part = partitions[index]
    strings = isinstance(key, dict) and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
    if not strings or set(key) != set(part.keys) or key[part.attribute]["S"] != part.value:
        raise ValueError("not a cursor of this list")
    return index, key


def _read(part: Partition, start: dict[str, Any] | None, size: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    page = next(part.index.query(part.value, scan_index_forward=False, page_size=size, last_evaluated_key=start).page_iter)
    return page.get("Items") or [], page.get("LastEvaluatedKey")


def walk(partitions: Sequence[Partition], limit: int, cursor: str | None = None, keep: Callable[[Any], bool] | None = None) -> Page:
    """Up to ``limit`` items that ``keep`` (everything, without it), from where ``cursor`` left off."""
    index, start = decode_cursor(cursor, partitions) if cursor else (0, None)
    found: list[Any] = []
    read = 0
    while index < len(partitions) and len(found) < limit:
        if read >= READ_BUDGET:
            return Page(found, encode_cursor(index, start))
        part = partitions[index]
        size = min(PAGE, READ_BUDGET - read) if keep else limit - len(found)
        entries, after = _read(part, start, size)
        read += len(entries) or 1
        items = part.load(entries) if entries else []
        for position, (entry, item) in enumerate(zip(entries, items)):
            if item is None or (keep is not None and not keep(item)):
                continue
            found.append(item)
            if len(found) == limit and position < len(entries) - 1:  # stopped inside the page
                return Page(found, encode_cursor(index, {name: entry[name] for name in part.keys}))
        if after is None:
            index, start = index + 1, None
        else:
            start = after
    return Page(found, encode_cursor(index, start) if index < len(partitions) else None)


def _in_order(entries: list[dict[str, Any]], loaded: Iterable[Any], key_of: Callable[[Any], Any], entry_key: Callable[[dict[str, Any]], Any]) -> list[Any]:
    by_key = {key_of(item): item for item in loaded}
    return [by_key.get(entry_key(entry)) for entry in entries]


# -- applications ---------------------------------------------------------------------------------


def _applications_by_key(entries: list[dict[str, Any]]) -> list[Any]:
    loaded = TrackedApplication.batch_get([entry["pk"]["S"] for entry in entries])
    return _in_order(entries, loaded, lambda item: item.pk, lambda entry: entry["pk"]["S"])


def applications_in_status(branch_codes: Iterable[str], status: str) -> list[Partition]:
    """Each branch's applications in ``status``, most recently changed first (``by_branch_status``, keys only)."""
    index = TrackedApplication.by_branch_status
    return [
        Partition(index, "branch_status", f"{branch}#{status}", ("pk", "branch_status", "updated_at"), _applications_by_key)
        for branch in branch_codes
    ]


def applications_received(branch_codes: Iterable[str], day: str) -> list[Partition]:
    """Each branch's applications received on business day ``day``, newest first (``by_branch_day``)."""
    index = TrackedApplication.by_branch_day
    return [
        Partition(index, "branch_day", f"{branch}#{day}", ("pk", "branch_day", "application_id"), _applications_by_key)
        for branch in branch_codes
    ]


# -- loans ----------------------------------------------------------------------------------------


def _loans_by_key(entries: list[dict[str, Any]]) -> list[Any]:
    loaded = LoanItem.batch_get([(entry["pk"]["S"], entry["sk"]["S"]) for entry in entries])
    return _in_order(entries, loaded, lambda item: item.pk, lambda entry: entry["pk"]["S"])


def loans_in_status(branch_codes: Iterable[str], statuses: Iterable[str]) -> list[Partition]:
    """Each branch's loans in each status, newest first (the loans' ``by_branch_status``, keys only)."""
    index = LoanItem.by_branch_status
    return [
        Partition(index, "branch_status", f"{branch}#{status}", ("pk", "sk", "branch_status", "loan_id"), _loans_by_key)
        for branch in branch_codes
        for status in statuses
    ]


# -- a loan's postings ----------------------------------------------------------------------------


def _postings_as_stored(entries: list[dict[str, Any]]) -> list[Any]:
    return [LoanPosting.from_raw_data(entry) for entry in entries]


def postings_of(loan_id: str) -> list[Partition]:
    """The loan's postings, newest first (the ledger's ``by_loan``)."""
    return [Partition(LoanPosting.by_loan, "loan_id", loan_id, ("pk", "sk", "loan_id", "posted_at"), _postings_as_stored)]
