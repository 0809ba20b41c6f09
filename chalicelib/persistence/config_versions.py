"""Editable configuration, versioned, and its audit trail, written together in one transaction.

Funders, products, a product's funding and branches are items of the config table with a
``version`` (a whole number; an item written before versions existed counts as
version 1). ``write`` changes an item only at the version the caller read:

- one ``TransactWriteItems`` puts the item with the condition ``version =
  :expected`` (``attribute_not_exists`` to create, expected 0) and the audit
  record ``AUDIT#<KIND>#<code>`` / ``<version, zero-padded>`` (who, when, the
  document before and after) with ``attribute_not_exists``: of two concurrent
  edits at the same version exactly one wins, and there is never a change
  without its audit record, nor an audit record without its change;
- a refused condition is ``VersionConflict`` (with the version now stored);
  a transaction conflict or throttling is retried with the same client request
  token (so a retry of a write that did happen is not mistaken for a conflict).

The seed's writes (``config_repository.put_funder`` and the like) move the
version up too, but are not audited: the history is that of the back office.
Not yet ``config_repository.put_product``: it overwrites the item without a
version (which then counts as 1), so a product seeded again after back-office
edits would be refused at every later edit (its audit record of version 2
exists); it should use ``_put_next_version`` as ``put_funder`` does.

Reads here are strongly consistent and never cached: an operator edits what is
stored now. The cached reads of ``config_repository`` (routing) are cleared in
this process after each write; other processes see a change within
``CONFIG_CACHE_SECONDS``.
"""
from __future__ import annotations

import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.persistence import config_repository
from chalicelib.persistence.models import ConfigItem, transaction_connection

FUNDER = "FUNDER"
FUNDING = "FUNDING"
BRANCH = "BRANCH"
PRODUCT = "PRODUCT"
KINDS = (FUNDER, FUNDING, BRANCH, PRODUCT)
AUDIT = "AUDIT"
VERSION_DIGITS = 10
MAX_ATTEMPTS = 5
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "TransactionInProgress"}


class VersionConflict(Exception):
    """The item is not at the version the caller expected (``current``: what is stored now, 0 when absent)."""

    def __init__(self, ref: "ConfigRef", expected: int, current: int):
        super().__init__(f"{ref.label} is at version {current}, not {expected}")
        self.ref = ref
        self.expected = expected
        self.current = current


@dataclass(frozen=True)
class ConfigRef:
    """One editable configuration item: ``FUNDER/<code>``, ``FUNDING/<product>``, ``BRANCH/<code>`` or ``PRODUCT/<code>``."""

    kind: str
    code: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise ValueError("code must be upper-case letters, digits and _ (at most 32), starting with a letter")

    @classmethod
    def parse(cls, label: str) -> "ConfigRef":
        """``"FUNDER/BR_XICHENG"`` -> the ref (ValueError when it names none)."""
        kind, _, code = (label or "").partition("/")
        return cls(kind, code)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.code}"

    @property
    def key(self) -> tuple[str, str]:
        """The item's (pk, sk), as ``config_repository`` reads it."""
        if self.kind == FUNDER:
            return config_repository.FUNDERS, self.code
        if self.kind == FUNDING:
            return f"FUNDING#{self.code}", "CURRENT"
        if self.kind == PRODUCT:
            return f"PRODUCT#{self.code}", "CURRENT"
        return config_repository.BRANCHES, self.code

    @property
    def audit_pk(self) -> str:
        return f"{AUDIT}#{self.kind}#{self.code}"


@dataclass(frozen=True)
class Versioned:
    ref: ConfigRef
    document: dict[str, Any]
    version: int


@dataclass(frozen=True)
class AuditRecord:
    ref: ConfigRef
    version: int
    operator_id: str
    operator_role: str
    at: str
    before: dict[str, Any] | None
    after: dict[str, Any]


def _version_of(item: ConfigItem) -> int:
    return 1 if item.version is None else int(item.version)


def read(ref: ConfigRef) -> Versioned | None:
    pk, sk = ref.key
    try:
        item = ConfigItem.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None
    return Versioned(ref, item.document or {}, _version_of(item))


def read_kind(kind: str) -> list[Versioned]:
    """Every funder (``FUNDER``) or branch (``BRANCH``): one partition, one consistent query."""
    partitions = {FUNDER: config_repository.FUNDERS, BRANCH: config_repository.BRANCHES}
    if kind not in partitions:
        raise ValueError("only funders and branches are listed by kind")
    pk = partitions[kind]
    return [Versioned(ConfigRef(kind, item.sk), item.document or {}, _version_of(item)) for item in ConfigItem.query(pk, consistent_read=True)]


def _current_of_each(kind: str) -> Iterator[Versioned]:
    """Every ``<KIND>#<code>`` / ``CURRENT`` item: a scan of the (small) config table."""
    condition = ConfigItem.pk.startswith(f"{kind}#") & (ConfigItem.sk == "CURRENT")
    for item in ConfigItem.scan(condition, consistent_read=True):
        yield Versioned(ConfigRef(kind, item.pk.removeprefix(f"{kind}#")), item.document or {}, _version_of(item))


def fundings() -> Iterator[Versioned]:
    """Every product's funding. A scan of the (small) config table: only for the rare funder edit that
    could break a product's funding (a funder no longer of the own-funds kind)."""
    return _current_of_each(FUNDING)


def products() -> list[Versioned]:
    """Every product, by code. A scan of the (small) config table (products are a handful: the back
    office's list of products, not a request path of partners)."""
    return sorted(_current_of_each(PRODUCT), key=lambda item: item.ref.code)


def _reasons(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


def _stored_version(ref: ConfigRef) -> int:
    found = read(ref)
    return 0 if found is None else found.version


def write(ref: ConfigRef, expected: int, before: dict[str, Any] | None, after: dict[str, Any], operator_id: str, operator_role: str, at: str) -> int:
    """Store ``after`` as version ``expected + 1`` with its audit record, or raise ``VersionConflict``.

    ``before`` is the document the caller read at version ``expected`` (None to create): the
    condition on the version guarantees it is what the write replaces.
    """
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise ValueError("expected must be a whole number >= 0")
    if (expected == 0) != (before is None):
        raise ValueError("create (expected 0) exactly when there is no document before")
    version = expected + 1
    pk, sk = ref.key
    if expected == 0:
        condition = ConfigItem.pk.does_not_exist()
    elif expected == 1:  # an item from before versions existed counts as version 1
        condition = ConfigItem.pk.exists() & (ConfigItem.version.does_not_exist() | (ConfigItem.version == 1))
    else:
        condition = ConfigItem.version == expected
    audit = {
        "key": ref.label,
        "version": version,
        "operator_id": operator_id,
        "operator_role": operator_role,
        "at": at,
        "before": before,
        "after": after,
    }
    token = uuid.uuid4().hex  # the same for every retry: DynamoDB answers a replay as the first
    for attempt in range(MAX_ATTEMPTS):
        try:
            with TransactWrite(connection=transaction_connection(), client_request_token=token) as tx:
                tx.save(ConfigItem(pk, sk, document=after, version=version), condition=condition)
                tx.save(ConfigItem(ref.audit_pk, str(version).zfill(VERSION_DIGITS), document=audit, version=version), condition=ConfigItem.pk.does_not_exist())
            break
        except TransactWriteError as exc:
            reasons = _reasons(exc)
            if "ConditionalCheckFailed" in reasons:
                raise VersionConflict(ref, expected, _stored_version(ref)) from exc
            if set(reasons) & _RETRYABLE and attempt + 1 < MAX_ATTEMPTS:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
                continue
            raise
    config_repository.clear_cache()  # this process's routing never sees the version before
    return version


def history(ref: ConfigRef, limit: int = 50) -> list[AuditRecord]:
    """The item's audit records, newest first."""
    items = ConfigItem.query(ref.audit_pk, consistent_read=True, scan_index_forward=False, limit=limit)
    out = []
    for item in items:
        doc = item.document or {}
        out.append(
            AuditRecord(
                ref=ref,
                version=int(doc.get("version", item.version or 0)),
                operator_id=doc.get("operator_id", ""),
                operator_role=doc.get("operator_role", ""),
                at=doc.get("at", ""),
                before=doc.get("before"),
                after=doc.get("after") or {},
            )
        )
    return out
