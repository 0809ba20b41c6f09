"""Applications and their idempotency items, written together in one transaction.

The idempotency item ``IDEM#<partner>#<partner_application_no>`` holds the
application id and the fingerprint of what the partner sent. Both items are
put with ``attribute_not_exists`` in a single ``TransactWriteItems``, so of
any number of concurrent duplicates exactly one application is created.

What the back office reads
--------------------------

Besides ``ApplicationItem``'s attributes, an application carries
(``TrackedApplication``):

- ``received_on``, the business date when it was stored, and ``branch_day``
  (``<branch>#<received_on>``), the key of the ``by_branch_day`` index: a
  branch's applications of one day, newest first (the back office's search).
  The index holds keys only and its keys never change, so it is written once,
  when the application is stored, however often the application changes;
- ``status_history``: ``[status, at]`` of every status it took, appended by
  the change of status itself (the timeline, ``domain/application_history.py``).

And the dashboard's counters, ``COUNTS#<branch>#<day>#s<shard>`` items of this
table (``ApplicationCounts``): of the applications received on that business
day, how many are in each status now and how many reviews approved and rejected
them (``domain/dashboard.counted_moves``); and the loans disbursed on that day
(how many, and their amount). Why counters: the dashboard is loaded often, and
at a million applications a day counting them by a query would read every
application of the day at each load; the counters are ``COUNTER_SHARDS`` items
per branch and day, read in one ``BatchGetItem``. They are exact: a counter
moves in the SAME transaction as what it counts (the application stored, or
its status changed under the condition that it is still the status read), so a
failed write counts nothing and a retried step that finds the status already
changed counts nothing twice. They are split over shards (chosen by the
application id) because an item takes about 1,000 writes a second and
concurrent transactions on one item conflict; a day's figures are the sum of
its shards. A change that conflicts is retried briefly.

The trail's write-once parts
----------------------------

What a decision rested on is written once and read rarely (the back office's
detail, the partner's view of the routing), while the application item is
rewritten at every change of status (about a dozen a loan, most in a
transaction: 2 write units per KB of the larger of the item before and after).
So the big parts of the trail are items of their own (``TrailItem``), not
attributes of the application, and no change of status pays for them again:

- ``TRAIL#<application id>#REVIEW``: the review's trail (rules, anti-fraud,
  scorecard, bureau facts, ``review.decide``);
- ``TRAIL#<application id>#ROUTING``: the routing trail (each channel tried,
  each funder's answer, ``fund_routing``), the merged trail's ``routing``.

Each is put (a plain PutItem, 1 write unit per KB) BEFORE the change of status
that refers to it: a step retried puts it again (the same key, its content as
that run decided it), and a crash between the two leaves a trail item that the
retry overwrites. The application's own ``trail`` attribute keeps only the
reviewer's decision (``manual_review``), written by the conditional change of
status that decides (of two reviewers, the one whose change won); an
application stored before the trail items has its whole trail there.
``trail_of`` / ``trails_of`` give the merged trail, as it always read
(``{**review, "manual_review": ..., "routing": ...}``), in one BatchGetItem.
The trail items have none of the indexes' attributes: writing one writes no index.

The application's document
--------------------------

What intake stored of the application is written once too, and is the bigger part of it: the
standardised application with its personal data masked (``application``) and the personal data
sealed (``sealed_pii``). So it is an item of its own, ``DOC#<application id>`` (``DocumentItem``),
put with ``attribute_not_exists`` in the SAME transaction that creates the application (``create``):
an application is never without its document, and no change of status pays for it again. A
drawdown's document holds its application (the borrower as masked on the line's application) and no
sealed data (they stay with the line's application). ``ApplicationItem.application`` and
``.sealed_pii`` read as they always did: the document is read on first use (one strongly consistent
GetItem, kept on the instance); ``documents_of`` reads a list's in one BatchGetItem. An application
stored before the document items has both in its own item, read from there. The document item has
none of the indexes' attributes: writing it writes no index.
"""
from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from typing import Any, Iterable

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib import resources
from chalicelib.domain.application_status import ApplicationStatus
from chalicelib.domain.dashboard import counted_moves
from chalicelib.persistence.models import (
    ApplicationItem,
    DecimalAttribute,
    DocumentItem,
    LazyModel,
    declared_index,
    document_key,
    table_meta,
    transaction_connection,
)

COUNTER_SHARDS = 8
CHANGE_ATTEMPTS = 8  # a change of status re-read and tried again when another change won, or it conflicted
RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


class ByBranchDay(GlobalSecondaryIndex):
    class Meta:
        index_name = declared_index(resources.APPLICATIONS_TABLE, "by_branch_day")
        projection = KeysOnlyProjection()

    branch_day = UnicodeAttribute(hash_key=True)
    application_id = UnicodeAttribute(range_key=True)


class TrackedApplication(ApplicationItem):
    """An application with what the back office reads (see the module's docstring)."""

    _connection = None  # its own connection, whose schema knows by_branch_day
    _bound_to = None

    received_on = UnicodeAttribute(null=True)
    branch_day = UnicodeAttribute(null=True)
    status_history = ListAttribute(null=True)  # [[status, at], ...]
    by_branch_day = ByBranchDay()


class ApplicationCounts(LazyModel):
    """One shard of a branch's counters of one business day (see the module's docstring)."""

    Meta = table_meta(resources.APPLICATIONS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    RECEIVED = NumberAttribute(null=True)
    REVIEWING = NumberAttribute(null=True)
    MANUAL_REVIEW = NumberAttribute(null=True)
    REJECTED = NumberAttribute(null=True)
    ROUTING = NumberAttribute(null=True)
    NO_FUNDER = NumberAttribute(null=True)
    OFFERED = NumberAttribute(null=True)
    SIGNING = NumberAttribute(null=True)
    DISBURSING = NumberAttribute(null=True)
    DISBURSED = NumberAttribute(null=True)
    DISBURSEMENT_FAILED = NumberAttribute(null=True)
    EXPIRED = NumberAttribute(null=True)
    CANCELLED = NumberAttribute(null=True)
    approved = NumberAttribute(null=True)  # reviews of the day's applications that approved
    rejected = NumberAttribute(null=True)  # ... and that rejected
    disbursed = NumberAttribute(null=True)  # loans disbursed ON the day (whenever received)
    disbursed_amount = DecimalAttribute(null=True)


class TrailItem(LazyModel):
    """A write-once part of an application's trail, ``TRAIL#<application id>#<part>`` (see the module's docstring).

    It holds what the trail held, nothing more: no raw ID, mobile or card number (the review's facts
    are derived from them, the bureau's are the report's id and figures; the routing's are channels
    and the funders' answers)."""

    Meta = table_meta(resources.APPLICATIONS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    application_id = UnicodeAttribute()
    trail = JSONAttribute()


REVIEW = "REVIEW"  # the review's trail: its keys are the merged trail's own
ROUTING = "ROUTING"  # the routing trail: the merged trail's "routing"
TRAIL_PARTS = (REVIEW, ROUTING)


def _idempotency_key(partner_id: str, partner_application_no: str) -> str:
    return f"IDEM#{partner_id}#{partner_application_no}"


def _key(application_id: str) -> str:
    return f"APP#{application_id}"


def counter_key(branch_code: str, day: str, shard: int) -> str:
    return f"COUNTS#{branch_code}#{day}#s{shard}"


def _shard(application_id: str) -> int:
    return int.from_bytes(hashlib.sha256(application_id.encode("utf-8")).digest()[:4], "big") % COUNTER_SHARDS


def branch_day(branch_code: str | None, day: str | None) -> str | None:
    return f"{branch_code}#{day}" if branch_code and day else None


def get(application_id: str) -> ApplicationItem | None:
    try:
        return ApplicationItem.get(_key(application_id), consistent_read=True)
    except DoesNotExist:
        return None


def tracked(application_id: str) -> TrackedApplication | None:
    """The application with its day and its statuses (``get`` gives the rest of the code what it uses)."""
    try:
        return TrackedApplication.get(_key(application_id), consistent_read=True)
    except DoesNotExist:
        return None


def find(partner_id: str, partner_application_no: str) -> ApplicationItem | None:
    """The idempotency item of a partner's application number, if any."""
    try:
        return ApplicationItem.get(_idempotency_key(partner_id, partner_application_no), consistent_read=True)
    except DoesNotExist:
        return None


def _counter_updates(application_id: str, branch_code: str | None, by_day: dict[str, dict[str, Any]]) -> list[tuple[ApplicationCounts, list[Any]]]:
    """The counter items to move (one per day: a transaction may touch an item once) and their ADDs."""
    if not branch_code:
        return []
    shard = _shard(application_id)
    updates = []
    for day, moves in by_day.items():
        actions = [getattr(ApplicationCounts, name).add(delta) for name, delta in moves.items() if delta]
        if actions:
            updates.append((ApplicationCounts(counter_key(branch_code, day, shard)), actions))
    return updates


def document(application_id: str, application: dict[str, Any], sealed_pii: dict[str, Any] | None) -> DocumentItem:
    """A new application's document (see the module's docstring): its masked application and its sealed personal data."""
    return DocumentItem(document_key(application_id), application_id=application_id, application=application, sealed_pii=sealed_pii)


def documents_of(items: Iterable[ApplicationItem]) -> None:
    """Read the documents of ``items`` not read yet in one BatchGetItem (of up to 100 keys; strongly
    consistent) and keep each on its item: reading their ``application`` and ``sealed_pii`` then reads nothing."""
    wanted = [item for item in items if not item.has_document()]
    keys = list(dict.fromkeys(document_key(item.application_id) for item in wanted))
    found = {stored.pk: stored for stored in DocumentItem.batch_get(keys, consistent_read=True)} if keys else {}
    for item in wanted:
        item.keep_document(found.get(document_key(item.application_id)))


def create(item: ApplicationItem, document: DocumentItem) -> bool:
    """Store a new application with its document (with its day, its first status and its count); False if
    its partner application number was taken meanwhile (or a concurrent duplicate's transaction is in
    flight, or its counter was busy: the caller reads again)."""
    from chalicelib.persistence import config_repository

    if document.pk != document_key(item.application_id):
        raise ValueError(f"the document {document.pk} is not application {item.application_id}'s")
    item.pk = _key(item.application_id)
    claim = ApplicationItem(
        _idempotency_key(item.partner_id, item.partner_application_no),
        application_id=item.application_id,
        partner_id=item.partner_id,
        partner_application_no=item.partner_application_no,
        fingerprint=item.fingerprint,
        created_at=item.created_at,
    )
    received_on = config_repository.business_date().isoformat()
    stored = TrackedApplication(**item.attribute_values)
    stored.received_on = received_on
    stored.branch_day = branch_day(item.branch_code, received_on)
    stored.status_history = [[item.status, item.created_at]] if item.status else None
    counters = _counter_updates(item.application_id, item.branch_code, {received_on: counted_moves(None, item.status)} if item.status else {})
    try:
        with TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(claim, condition=ApplicationItem.pk.does_not_exist())
            transaction.save(stored, condition=TrackedApplication.pk.does_not_exist())
            transaction.save(document, condition=DocumentItem.pk.does_not_exist())
            for counter, actions in counters:
                transaction.update(counter, actions=actions)
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if {"ConditionalCheckFailed", "TransactionConflict"} & set(reasons):
            return False
        raise
    item.keep_document(document)
    return True


def trail_key(application_id: str, part: str) -> str:
    return f"TRAIL#{application_id}#{part}"


def save_trail(application_id: str, part: str, trail: dict[str, Any]) -> None:
    """Put one part of the application's trail (``REVIEW`` or ``ROUTING``), replacing what a previous
    run of the step put; call it BEFORE the change of status that refers to it (module docstring)."""
    if part not in TRAIL_PARTS:
        raise ValueError(f"no trail part {part}")
    TrailItem(trail_key(application_id, part), application_id=application_id, trail=trail).save()


def _merged(item: ApplicationItem, review: dict[str, Any] | None, routing: dict[str, Any] | None) -> dict[str, Any]:
    """The review's trail, then what the application's ``trail`` holds (the reviewer's decision; an
    application stored before the trail items: all of it, the trail items being newer), then the routing."""
    trail = dict(review or {})
    trail.update((key, value) for key, value in (item.trail or {}).items() if key not in trail)
    if routing is not None:
        trail["routing"] = routing
    return trail


def trails_of(items: Iterable[ApplicationItem], parts: Iterable[str] = TRAIL_PARTS) -> list[dict[str, Any]]:
    """Each application's merged trail (``{**review, "manual_review": ..., "routing": ...}``, empty when
    there is none yet), in the items' order: its ``parts`` read in one BatchGetItem (of up to 100
    keys; strongly consistent: a change of status read refers to a trail item written before it)."""
    items, parts = list(items), tuple(parts)
    keys = list(dict.fromkeys(trail_key(item.application_id, part) for item in items for part in parts))
    found = {stored.pk: stored.trail for stored in TrailItem.batch_get(keys, consistent_read=True)} if keys else {}
    return [
        _merged(item, found.get(trail_key(item.application_id, REVIEW)), found.get(trail_key(item.application_id, ROUTING)))
        for item in items
    ]


def trail_of(item: ApplicationItem, parts: Iterable[str] = TRAIL_PARTS) -> dict[str, Any]:
    """The application's merged trail (see ``trails_of``); ``parts``: only those (the partner's view reads the routing)."""
    return trails_of([item], parts)[0]


def branch_status(branch_code: str | None, status: str) -> str:
    return f"{branch_code}#{status}"


def transition(
    application_id: str, to: str, allowed_from: set[str], now: str, strict: bool = False, unset: str | None = None, **attributes: Any
) -> ApplicationItem:
    """Move an application to status ``to`` (idempotent: already there is fine, unless ``strict``:
    then only a move counts, as when two people decide at once), setting ``attributes``; with
    ``unset``, already in ``to``, only while that attribute is not set yet (of two runs of a step at
    once, one records its result).

    Refuses (``StatusConflict``) a move from any status not in ``allowed_from``. The move is made
    under the condition that the status is still the one read, with its entry in the status history
    and its counters, in one transaction (another change that won meanwhile: read again, decide again).
    """
    for attempt in range(CHANGE_ATTEMPTS):
        item = tracked(application_id)
        if item is None:
            raise LookupError(application_id)
        if item.status == to and not strict:
            return _set_in_place(item, to, allowed_from, now, attributes, unset)
        if item.status not in allowed_from:
            raise StatusConflict(f"application {application_id} is {item.status}, not one of {sorted(allowed_from)}")
        try:
            _change(item, to, now, attributes)
        except _StatusChanged:
            continue
        except _Busy:
            time.sleep(0.02 * 2 ** min(attempt, 4))
            continue
        return item
    raise StatusConflict(f"application {application_id} kept changing meanwhile")


WAITING = frozenset({ApplicationStatus.MANUAL_REVIEW.value, ApplicationStatus.OFFERED.value})  # for a person


def _waiting(item: TrackedApplication, to: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes with the application's place in the ``by_due`` index: entering a waiting status
    with a deadline (``waits_until``) puts it there (``due_branch``); any other change of status takes
    it out, so the index only ever holds what waits."""
    if to in WAITING and attributes.get("waits_until"):
        return {**attributes, "due_branch": item.branch_code}
    if item.due_branch or item.waits_until:
        return {"due_branch": None, "waits_until": None, **attributes}
    return attributes


def _attribute_actions(attributes: dict[str, Any]) -> list[Any]:
    return [
        getattr(TrackedApplication, name).set(value) if value is not None else getattr(TrackedApplication, name).remove()
        for name, value in attributes.items()
    ]


def _set_in_place(
    item: TrackedApplication, to: str, allowed_from: set[str], now: str, attributes: dict[str, Any], unset: str | None = None
) -> TrackedApplication:
    """Already in ``to``: set the attributes (no change of status: nothing counted, nothing in the history)."""
    attributes = _waiting(item, to, attributes) if to in WAITING else attributes
    actions = [
        TrackedApplication.status.set(to),
        TrackedApplication.branch_status.set(branch_status(item.branch_code, to)),
        TrackedApplication.updated_at.set(now),
        *_attribute_actions(attributes),
    ]
    try:
        condition = TrackedApplication.status.is_in(*(allowed_from | {to}))
        if unset:
            condition &= getattr(TrackedApplication, unset).does_not_exist()
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise StatusConflict(f"application {item.application_id} changed status meanwhile") from exc
        raise
    return item


class _StatusChanged(Exception):
    """The status is no longer the one read."""


class _Busy(Exception):
    """A transaction conflict or throttling: try again shortly."""


def _disbursed(item: TrackedApplication, attributes: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The day a loan was disbursed on and what it adds to that day's counters."""
    day = (attributes.get("disbursement") or {}).get("disbursed_on") or item.received_on
    amount = (item.offer or {}).get("amount")
    moves: dict[str, Any] = {"disbursed": 1}
    if amount:
        moves["disbursed_amount"] = Decimal(str(amount))
    return day, moves


def _counted(item: TrackedApplication, to: str, attributes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    by_day: dict[str, dict[str, Any]] = {}
    if item.received_on:  # an application stored before it had a day is not counted
        by_day[item.received_on] = counted_moves(item.status, to)
    if to == ApplicationStatus.DISBURSED.value:
        day, moves = _disbursed(item, attributes)
        if day:
            by_day[day] = {**by_day.get(day, {}), **moves}
    return by_day


def _change(item: TrackedApplication, to: str, now: str, attributes: dict[str, Any]) -> None:
    """The change of status, its history entry and its counters in one transaction; then ``item`` as written."""
    attributes = _waiting(item, to, attributes)
    actions = [
        TrackedApplication.status.set(to),
        TrackedApplication.branch_status.set(branch_status(item.branch_code, to)),
        TrackedApplication.updated_at.set(now),
        TrackedApplication.status_history.set((TrackedApplication.status_history | []).append([[to, now]])),
        *_attribute_actions(attributes),
    ]
    counters = _counter_updates(item.application_id, item.branch_code, _counted(item, to, attributes))
    try:
        with TransactWrite(connection=transaction_connection()) as transaction:
            transaction.update(TrackedApplication(item.pk), actions=actions, condition=TrackedApplication.status == item.status)
            for counter, counter_actions in counters:
                transaction.update(counter, actions=counter_actions)
    except TransactWriteError as exc:
        reasons = {r.code if r else None for r in (exc.cancellation_reasons or [])}
        if "ConditionalCheckFailed" in reasons:
            raise _StatusChanged() from exc
        if reasons & RETRYABLE or getattr(exc, "cause_response_code", None) in RETRYABLE:
            raise _Busy() from exc
        raise
    item.status, item.branch_status, item.updated_at = to, branch_status(item.branch_code, to), now
    item.status_history = [*(item.status_history or []), [to, now]]
    for name, value in attributes.items():
        setattr(item, name, value)


def counts(branch_codes: Iterable[str], day: str) -> dict[str, list[dict[str, Any]]]:
    """Each branch's counter shards of ``day`` (those written so far), as plain dicts."""
    keys = [counter_key(branch, day, shard) for branch in branch_codes for shard in range(COUNTER_SHARDS)]
    found: dict[str, list[dict[str, Any]]] = {}
    for item in ApplicationCounts.batch_get(keys):
        branch = item.pk.removeprefix("COUNTS#").rsplit("#", 2)[0]
        found.setdefault(branch, []).append({name: value for name, value in item.attribute_values.items() if name != "pk"})
    return found


def queue(branch_code: str, status: str, limit: int = 50) -> list[ApplicationItem]:
    """A branch's applications in ``status``, oldest first (the manual review queue).

    The index holds keys only (an entry is rewritten at every change of status); the items are read
    by key, in the index's order, those that left the status meanwhile dropped."""
    index = ApplicationItem.by_branch_status
    entries = index.query(branch_status(branch_code, status), limit=limit, scan_index_forward=True)
    return [item for item in _read(entry.pk for entry in entries) if item.status == status]


def due(branch_code: str, until: str, limit: int = 100) -> list[ApplicationItem]:
    """A branch's applications waiting for a person whose deadline is ``until`` or earlier, the
    earliest first (the sparse ``by_due`` index; keys only, then the items read)."""
    index = ApplicationItem.by_due
    entries = index.query(branch_code, ApplicationItem.waits_until <= until, limit=limit, scan_index_forward=True)
    return _read(entry.pk for entry in entries)


def changed_before(branch_code: str, status: str, before: str, limit: int = 100) -> list[ApplicationItem]:
    """A branch's applications in ``status`` whose last change is older than ``before``, oldest first
    (``by_branch_status``): those a leg of the workflow left behind."""
    index = ApplicationItem.by_branch_status
    entries = index.query(branch_status(branch_code, status), ApplicationItem.updated_at < before, limit=limit, scan_index_forward=True)
    return [item for item in _read(entry.pk for entry in entries) if item.status == status]


def count_restart(item: ApplicationItem) -> int:
    """One more leg started again by the origination watch; how many so far (an atomic ADD)."""
    item.update(actions=[ApplicationItem.watch_restarts.add(1)])
    return int(item.watch_restarts or 0)


def _read(keys: Iterable[str]) -> list[ApplicationItem]:
    """Items by key, in the keys' order (BatchGetItem, 100 at a time), the missing dropped."""
    keys = list(keys)
    found = {item.pk: item for item in ApplicationItem.batch_get(keys)} if keys else {}
    return [found[key] for key in keys if key in found]


class StatusConflict(Exception):
    """The application is not in a status that allows this step."""
