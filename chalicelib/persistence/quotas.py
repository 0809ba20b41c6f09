"""Lending quotas (额度) of branches, funders and customers, reserved and released atomically.

Items of the quotas table
-------------------------

================================  =====================  ==============================================
pk                                sk                     attributes
================================  =====================  ==============================================
``QUOTA#<kind>#<code>``           ``TOTAL`` or           ``limit``, ``shards``; with one shard also
                                  ``DAY#<yyyy-mm-dd>``   ``remaining``; daily items ``expires_at``
``QUOTA#<kind>#<code>``           ``<period>#s<i>``      a shard (only when ``shards`` > 1): its part
                                                         of the ``limit`` and its ``remaining``
``RESERVATION#<id>``              ``RESERVATION``        ``status`` (RESERVED, RELEASED), ``parts``,
                                                         ``allocations`` (the items and amounts taken)
================================  =====================  ==============================================

Amounts are ``Decimal`` yuan, exact to the fen, stored as DynamoDB numbers
(written from their decimal text, never through a float).

A quota item stores what is **left** (``remaining``), not what is used: a
condition expression cannot add, but ``remaining >= :amount`` is a plain
comparison. ``limit`` is kept for reporting and for changing the limit.

Reserving
---------

``reserve`` is ONE ``TransactWriteItems``: the reservation record is put with
``attribute_not_exists`` and every part decrements its quota item with the
condition ``remaining >= :amount``. Either every limit (branch, funder,
customer, total and daily) takes its part, or nothing changes at all. A
refused condition is a refusal (``False``); any other failure raises.

- **A quota item that does not exist refuses** (fails closed): "no limit
  configured" must be said by configuration with ``set_limit`` (a very large
  limit if need be). In particular the daily items of a day must be created
  (``set_limit(..., day(d), ...)``) before that day's first reservation.
- **Retries are idempotent**: a retried ``reserve`` with the same id finds the
  reservation record. It answers ``True`` when that record holds the same parts
  and is still reserved, ``False`` when it was released meanwhile (a new
  reservation needs a new id), and raises ``ReservationConflict`` when the id
  was used for other parts.
- A transaction conflict or throttling (``TransactionConflict``,
  ``ThrottlingError``...) is retried with a short jittered backoff, then
  raised as ``QuotaBusy`` (retryable by the caller with the same id).

Releasing
---------

``release`` is one transaction too: each allocation is given back
(``remaining = remaining + :amount``, condition ``attribute_exists``) and the
reservation moves to RELEASED under the condition ``status = RESERVED``. So a
second release, or a concurrent one, gives nothing back and answers ``False``.
An allocation whose quota item is gone (a daily item past its TTL) is left
out and listed in the record's ``not_returned``: there is nothing left to give
it back to. A released record expires ``RELEASED_RETENTION_DAYS`` later.

Hot quotas: shards
------------------

One DynamoDB item takes about 1,000 writes per second, so a branch (or a
funder) that reserves faster than that needs its allowance split over several
items. ``set_limit(..., shards=N)`` with N > 1 keeps ``limit`` and ``shards``
on the head item and splits the limit, to the fen, over N shard items
``<period>#s0`` ... ``<period>#s<N-1>``, each with its own ``remaining``.

``reserve`` reads the shard count of each part (cached in the process for
``SHARD_CACHE_SECONDS``), starts at a shard chosen by hashing the reservation
id, and, when that shard refuses, tries the next one (each try is the whole
transaction again, so the other limits stay all or nothing). When every shard
has refused on its own, the quota may still have enough left in total (the
remainders are fragmented): it then reads all shards in one ``TransactGetItems``
(a consistent snapshot) and, if they add up to the amount, takes it in pieces
from several shards in one transaction; if they do not, that is a refusal
that was true at the moment of the snapshot. Nothing is ever oversold (every
piece is conditional), and nothing is refused while the total would fit
(short of a concurrent writer winning every one of ``MAX_ATTEMPTS``, which
raises ``QuotaBusy`` rather than refuse). A release gives each piece back to
the shard it came from. With N shards a hot quota takes about N x 1,000
reservations a second while it has room; near exhaustion the snapshot path
is slower (a read and a wider transaction), which is where it matters least.

Limits of the sharding as built:

- the shard count of a quota changes (``set_limit`` with another ``shards``)
  only while nothing is reserved against it (``ValueError`` otherwise); a new
  shard count for a daily quota naturally takes effect on a new day. A limit
  change with the same shard count is always allowed and atomic.
- another process sees a new shard count after at most ``SHARD_CACHE_SECONDS``;
  a stale count can only refuse wrongly at worst (a shard item that no longer
  exists refuses), never oversell; after a refusal the count is read again.
- a transaction holds at most 100 items: the parts' shards must fit that.
"""
from __future__ import annotations

import hashlib
import random
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib import resources, settings
from chalicelib.domain.money import to_fen
from chalicelib.persistence.models import DecimalAttribute, LazyModel, table_meta, transaction_connection

TOTAL = "TOTAL"
RESERVED = "RESERVED"
RELEASED = "RELEASED"
DAILY_RETENTION_DAYS = 3  # a daily item expires this many days after its day ends (China time)
RELEASED_RETENTION_DAYS = 90  # a released reservation record (answers late retries) expires after this
SHARD_CACHE_SECONDS = 60.0
MAX_SHARDS = 32
MAX_ATTEMPTS = 24
CHINA = timezone(timedelta(hours=8))
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "TransactionInProgress"}


class QuotaBusy(Exception):
    """The quota items stayed contended (or throttled) through every retry. Retryable with the same id."""


class ReservationConflict(ValueError):
    """The reservation id was already used for other parts."""


# -- the items -----------------------------------------------------------------------------------


class QuotaItem(LazyModel):
    """A quota's head (``sk`` = the period) or one of its shards (``<period>#s<i>``)."""

    Meta = table_meta(resources.QUOTAS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    limit = DecimalAttribute(null=True)
    remaining = DecimalAttribute(null=True)
    shards = NumberAttribute(null=True)  # on the head only
    expires_at = NumberAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class ReservationItem(LazyModel):
    """``RESERVATION#<id>`` / ``RESERVATION``."""

    Meta = table_meta(resources.QUOTAS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    parts = JSONAttribute()
    allocations = JSONAttribute()  # [{"pk", "sk", "amount"}]: exactly what was taken, and where
    not_returned = JSONAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    released_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)


def _transaction() -> TransactWrite:
    return TransactWrite(connection=transaction_connection())


def _snapshot() -> TransactGet:
    return TransactGet(connection=transaction_connection())


# -- keys and parts ------------------------------------------------------------------------------


def day(value: date) -> str:
    """The period of one day: ``DAY#<yyyy-mm-dd>``."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError("a day must be a date")
    return f"DAY#{value.isoformat()}"


def _period(value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return day(value)
    if value == TOTAL:
        return TOTAL
    if isinstance(value, str) and value.startswith("DAY#"):
        try:
            return day(date.fromisoformat(value[4:]))
        except ValueError:
            pass
    raise ValueError(f"period must be {TOTAL!r}, a date or 'DAY#<yyyy-mm-dd>', not {value!r}")


def _token(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value or "#" in value or value != value.strip():
        raise ValueError(f"{name} must be a non-empty string without '#'")
    return value


def _amount(name: str, value: Any, positive: bool) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise ValueError(f"{name} must be a Decimal")
    value = Decimal(value)
    if not value.is_finite() or value != to_fen(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a Decimal {'more than' if positive else 'of at least'} 0, exact to the fen")
    return to_fen(value)


def quota_key(kind: str, code: str) -> str:
    return f"QUOTA#{_token('kind', kind)}#{_token('code', code)}"


def _shard_sk(period: str, shards: int, index: int) -> str:
    return period if shards == 1 else f"{period}#s{index}"


@dataclass(frozen=True)
class QuotaPart:
    """What one reservation takes from one quota: ``kind`` (BRANCH, FUNDER, CUSTOMER...), its
    ``code``, the ``period`` (``TOTAL`` or a day) and the ``amount`` (``Decimal`` yuan)."""

    kind: str
    code: str
    period: Any
    amount: Decimal

    def __post_init__(self) -> None:
        _token("kind", self.kind)
        _token("code", self.code)
        object.__setattr__(self, "period", _period(self.period))
        object.__setattr__(self, "amount", _amount("amount", self.amount, positive=True))

    @property
    def pk(self) -> str:
        return quota_key(self.kind, self.code)

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "period": self.period, "amount": format(self.amount, "f")}


def _expires_at(period: str) -> int | None:
    """Daily items: a few days after the day ends, China time. Totals never expire."""
    if period == TOTAL:
        return None
    end = datetime.combine(date.fromisoformat(period[4:]), datetime.min.time(), CHINA) + timedelta(days=1)
    return int((end + timedelta(days=DAILY_RETENTION_DAYS)).timestamp())


def _portions(total: Decimal, shards: int) -> list[Decimal]:
    """``total`` split over ``shards`` to the fen, the odd fen to the first ones; the sum is exact."""
    fen = int(total * 100)
    sign = -1 if fen < 0 else 1
    base, extra = divmod(abs(fen), shards)
    return [Decimal(sign * (base + (1 if i < extra else 0))) / 100 for i in range(shards)]


def _reservation_key(reservation_id: str) -> str:
    if not isinstance(reservation_id, str) or not reservation_id or len(reservation_id) > 200:
        raise ValueError("reservation_id must be a non-empty string")
    return f"RESERVATION#{reservation_id}"


def _iso(now: datetime) -> str:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.isoformat()


def _reasons(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.2, 0.005 * (2 ** min(attempt, 6))) * random.random())


# -- the shard count cache -----------------------------------------------------------------------

_shard_cache: dict[tuple[str, str, str | None, str], tuple[int | None, float]] = {}
_shard_lock = threading.Lock()


def _cache_key(pk: str, period: str) -> tuple[str, str, str | None, str]:
    return (settings.table_name(resources.QUOTAS_TABLE), settings.aws_endpoint() or "", pk, period)  # type: ignore[return-value]


def _shard_count(pk: str, period: str, fresh: bool = False) -> int | None:
    """The quota's shard count, None when the quota is not configured."""
    key = _cache_key(pk, period)
    now = time.monotonic()
    with _shard_lock:
        cached = _shard_cache.get(key)
    if cached and not fresh and now - cached[1] < SHARD_CACHE_SECONDS:
        return cached[0]
    try:
        head = QuotaItem.get(pk, period, consistent_read=fresh)
        count: int | None = int(head.shards or 1)
    except DoesNotExist:
        count = None
    with _shard_lock:
        _shard_cache[key] = (count, now)
    return count


def clear_cache() -> None:
    with _shard_lock:
        _shard_cache.clear()


def shard_count(kind: str, code: str, period: Any) -> int | None:
    """The quota's shard count as stored now (None when it is not configured): pass it to
    ``set_limit`` to change only the limit of a quota, whatever its shape."""
    return _shard_count(quota_key(kind, code), _period(period), fresh=True)


# -- configuration -------------------------------------------------------------------------------


def set_limit(kind: str, code: str, period: Any, limit: Decimal, shards: int = 1, now: datetime | None = None) -> None:
    """Create the quota or change its limit; what is reserved stays reserved (``remaining`` moves
    by the change of the limit, and may go below 0 when the limit drops below what is in use).

    ``shards`` > 1 splits the allowance over that many items (see the module docstring); the
    shard count of an existing quota changes only while nothing is reserved against it."""
    pk, period = quota_key(kind, code), _period(period)
    limit = _amount("limit", limit, positive=False)
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be 1 to {MAX_SHARDS}")
    stamp = _iso(now or datetime.now(timezone.utc))
    expires = _expires_at(period)
    for attempt in range(MAX_ATTEMPTS):
        try:
            _set_limit_once(pk, period, limit, shards, stamp, expires)
            break
        except TransactWriteError as exc:
            if not ({"ConditionalCheckFailed"} | _RETRYABLE) & set(_reasons(exc)):
                raise
            _backoff(attempt)
    else:
        raise QuotaBusy(f"quota {pk} {period} kept changing; its limit was not set")
    with _shard_lock:
        _shard_cache.pop(_cache_key(pk, period), None)


def _set_limit_once(pk: str, period: str, limit: Decimal, shards: int, stamp: str, expires: int | None) -> None:
    try:
        head = QuotaItem.get(pk, period, consistent_read=True)
    except DoesNotExist:
        head = None
    old_shards = int(head.shards or 1) if head else None
    with _transaction() as tx:
        if head is not None and old_shards == shards:
            # Same shape: move limit and remaining by the change, on each item; atomic under reservations.
            old_limit = head.limit
            head_actions = [QuotaItem.limit.set(limit), QuotaItem.updated_at.set(stamp)]
            if shards == 1:
                head_actions.append(QuotaItem.remaining.set(QuotaItem.remaining + (limit - old_limit)))
            tx.update(QuotaItem(pk, period), actions=head_actions, condition=(QuotaItem.limit == old_limit) & (QuotaItem.shards == shards))
            if shards > 1:
                old_portions, new_portions = _portions(old_limit, shards), _portions(limit, shards)
                for i in range(shards):
                    tx.update(
                        QuotaItem(pk, _shard_sk(period, shards, i)),
                        actions=[
                            QuotaItem.limit.set(new_portions[i]),
                            QuotaItem.remaining.set(QuotaItem.remaining + (new_portions[i] - old_portions[i])),
                            QuotaItem.updated_at.set(stamp),
                        ],
                        condition=QuotaItem.limit == old_portions[i],
                    )
            return
        # Create, or change the shard count while nothing is reserved.
        if head is None:
            head_condition = QuotaItem.pk.does_not_exist()
        else:
            head_condition = (QuotaItem.shards == old_shards) & (QuotaItem.limit == head.limit)
            if old_shards == 1:
                if head.remaining != head.limit:
                    raise ValueError(f"quota {pk} {period} has reservations: its shard count cannot change now")
                head_condition &= QuotaItem.remaining == QuotaItem.limit
            else:
                items = _read_shards(pk, period, old_shards)
                if any(item is None or item.remaining != item.limit for item in items):
                    raise ValueError(f"quota {pk} {period} has reservations: its shard count cannot change now")
        head_item = QuotaItem(pk, period, limit=limit, shards=shards, expires_at=expires, updated_at=stamp)
        if shards == 1:
            head_item.remaining = limit
        tx.save(head_item, condition=head_condition)
        old_sks = {_shard_sk(period, old_shards, i) for i in range(old_shards)} - {period} if head else set()
        for i, portion in enumerate(_portions(limit, shards) if shards > 1 else []):
            sk = _shard_sk(period, shards, i)
            condition = (QuotaItem.remaining == QuotaItem.limit) if sk in old_sks else QuotaItem.pk.does_not_exist()
            item = QuotaItem(pk, sk, limit=portion, remaining=portion, expires_at=expires, updated_at=stamp)
            tx.save(item, condition=condition)
            old_sks.discard(sk)
        for sk in sorted(old_sks):
            tx.delete(QuotaItem(pk, sk), condition=QuotaItem.remaining == QuotaItem.limit)


def _read_shards(pk: str, period: str, shards: int) -> list[QuotaItem | None]:
    """The shard items of a quota in one consistent snapshot (None for a missing one)."""
    out: list[QuotaItem | None] = []
    for start in range(0, shards, 100):
        with _snapshot() as tx:
            futures = [tx.get(QuotaItem, pk, _shard_sk(period, shards, i)) for i in range(start, min(shards, start + 100))]
        for future in futures:
            try:
                out.append(future.get())
            except (DoesNotExist, AttributeError):
                out.append(None)
    return out


def usage(kind: str, code: str, period: Any) -> tuple[Decimal, Decimal] | None:
    """``(limit, remaining)`` of a quota, all shards together; None when it is not configured."""
    pk, period = quota_key(kind, code), _period(period)
    try:
        head = QuotaItem.get(pk, period, consistent_read=True)
    except DoesNotExist:
        return None
    shards = int(head.shards or 1)
    if shards == 1:
        return head.limit, head.remaining
    items = _read_shards(pk, period, shards)
    return head.limit, sum((item.remaining for item in items if item is not None), Decimal("0.00"))


# -- reserving and releasing ---------------------------------------------------------------------


def get_reservation(reservation_id: str) -> ReservationItem | None:
    try:
        return ReservationItem.get(_reservation_key(reservation_id), "RESERVATION", consistent_read=True)
    except DoesNotExist:
        return None


def _existing_answer(reservation_id: str, parts: list[QuotaPart]) -> bool | None:
    """A retry's answer from the reservation record (None when there is no record)."""
    existing = get_reservation(reservation_id)
    if existing is None:
        return None
    if existing.parts != [p.to_dict() for p in parts]:
        raise ReservationConflict(f"reservation {reservation_id} was made for other parts")
    return existing.status == RESERVED


@dataclass
class _Plan:
    """Where one part takes its amount: a shard per try, then pieces from a snapshot."""

    part: QuotaPart
    shards: int
    start: int
    tried: int = 0
    pieces: list[tuple[str, Decimal]] | None = None
    refreshed: bool = False  # the shard count was read again after a refusal

    def allocations(self) -> list[tuple[str, Decimal]]:
        if self.pieces is not None:
            return self.pieces
        return [(_shard_sk(self.part.period, self.shards, (self.start + self.tried) % self.shards), self.part.amount)]


def reserve(reservation_id: str, parts: Iterable[QuotaPart], now: datetime) -> bool:
    """Take every part from its quota in one transaction; False (and nothing taken) when any
    quota has not enough left or is not configured. Idempotent by ``reservation_id``."""
    key = _reservation_key(reservation_id)
    parts = list(parts)
    stamp = _iso(now)
    if not parts or not all(isinstance(p, QuotaPart) for p in parts):
        raise ValueError("parts must be a non-empty list of QuotaPart")
    if len({(p.pk, p.period) for p in parts}) != len(parts):
        raise ValueError("each quota may appear once among the parts")
    plans: list[_Plan] = []
    for part in parts:
        shards = _shard_count(part.pk, part.period) or _shard_count(part.pk, part.period, fresh=True)
        if shards is None:  # not configured: refuse (fail closed), unless this is a retry
            return bool(_existing_answer(reservation_id, parts))
        start = int.from_bytes(hashlib.sha256(f"{reservation_id}\x00{part.pk}\x00{part.period}".encode()).digest()[:8], "big") % shards
        plans.append(_Plan(part, shards, start))
    if sum(len(p.allocations()) for p in plans) + 1 > 100:
        raise ValueError("too many quota items for one transaction")

    busy = 0
    for _attempt in range(MAX_ATTEMPTS + sum(p.shards for p in plans)):
        rows = [(plan_index, sk, amount) for plan_index, plan in enumerate(plans) for sk, amount in plan.allocations()]
        record = ReservationItem(
            key,
            "RESERVATION",
            status=RESERVED,
            parts=[p.to_dict() for p in parts],
            allocations=[{"pk": plans[i].part.pk, "sk": sk, "amount": format(amount, "f")} for i, sk, amount in rows],
            created_at=stamp,
        )
        try:
            with _transaction() as tx:
                tx.save(record, condition=ReservationItem.pk.does_not_exist())
                for plan_index, sk, amount in rows:
                    tx.update(
                        QuotaItem(plans[plan_index].part.pk, sk),
                        actions=[QuotaItem.remaining.set(QuotaItem.remaining - amount)],
                        condition=QuotaItem.remaining >= amount,
                    )
            return True
        except TransactWriteError as exc:
            reasons = _reasons(exc)
            if not reasons:
                raise
            if reasons[0] == "ConditionalCheckFailed" or set(reasons) & {"TransactionConflict", "TransactionInProgress"}:
                answer = _existing_answer(reservation_id, parts)
                if answer is not None:
                    return answer
            if set(reasons) & _RETRYABLE:
                busy += 1
                if busy >= MAX_ATTEMPTS:
                    raise QuotaBusy(f"reservation {reservation_id}: quota items stayed contended") from exc
                _backoff(busy)
                continue
            failed = {rows[i - 1][0] for i, code in enumerate(reasons) if i > 0 and code == "ConditionalCheckFailed"}
            if not failed or set(reasons) - {"ConditionalCheckFailed", "None", None}:
                raise
            for plan_index in failed:
                plan = plans[plan_index]
                if _next_try(plan):
                    continue
                if plan.refreshed:
                    return False
                # A refusal: make sure it did not come from a stale shard count.
                plan.refreshed = True
                shards = _shard_count(plan.part.pk, plan.part.period, fresh=True)
                if shards is None or shards == plan.shards:
                    return False
                plan.shards, plan.start, plan.tried, plan.pieces = shards, plan.start % shards, 0, None
    raise QuotaBusy(f"reservation {reservation_id}: the quotas kept changing under it")


def _next_try(plan: _Plan) -> bool:
    """Move a refused part to its next shard, then to pieces from a snapshot; False: a refusal."""
    if plan.shards == 1:
        return False
    if plan.pieces is None and plan.tried + 1 < plan.shards:
        plan.tried += 1
        return True
    items = _read_shards(plan.part.pk, plan.part.period, plan.shards)
    available = sorted(
        ((item.remaining, item.sk) for item in items if item is not None and item.remaining > 0), reverse=True
    )
    if sum((r for r, _ in available), Decimal(0)) < plan.part.amount:
        return False
    pieces, needed = [], plan.part.amount
    for remaining, sk in available:
        take = min(remaining, needed)
        pieces.append((sk, take))
        needed -= take
        if needed == 0:
            break
    plan.pieces = pieces
    return True


def release(reservation_id: str, now: datetime) -> bool:
    """Give back exactly what the reservation took, once: False when it was already released
    (or never made)."""
    key = _reservation_key(reservation_id)
    stamp = _iso(now)
    expires = int((now + timedelta(days=RELEASED_RETENTION_DAYS)).timestamp())
    record = get_reservation(reservation_id)
    if record is None or record.status != RESERVED:
        return False
    allocations = list(record.allocations)
    gone: list[dict[str, str]] = []
    busy = 0
    while True:
        give_back = [a for a in allocations if a not in gone]
        try:
            with _transaction() as tx:
                tx.update(
                    ReservationItem(key, "RESERVATION"),
                    actions=[
                        ReservationItem.status.set(RELEASED),
                        ReservationItem.released_at.set(stamp),
                        ReservationItem.expires_at.set(expires),
                    ]
                    + ([ReservationItem.not_returned.set(gone)] if gone else []),
                    condition=ReservationItem.status == RESERVED,
                )
                for allocation in give_back:
                    amount = Decimal(allocation["amount"])
                    tx.update(
                        QuotaItem(allocation["pk"], allocation["sk"]),
                        actions=[QuotaItem.remaining.set(QuotaItem.remaining + amount)],
                        condition=QuotaItem.pk.exists(),
                    )
            return True
        except TransactWriteError as exc:
            reasons = _reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # released meanwhile
            if set(reasons) & _RETRYABLE:
                busy += 1
                if busy >= MAX_ATTEMPTS:
                    raise QuotaBusy(f"release of {reservation_id}: quota items stayed contended") from exc
                _backoff(busy)
                continue
            missing = [give_back[i - 1] for i, code in enumerate(reasons) if i > 0 and code == "ConditionalCheckFailed"]
            if not missing:
                raise
            gone.extend(missing)
