"""The back office reads the T+1 reconciliation (对账): each partner's days and each report's breaks.

- **Who.** Reconciliation is the platform's: a partner's file holds the loans of
  every branch, and the partners settle with the union, not with a branch.
  Platform operators and auditors (read only, whatever their branch) see every
  partner's reports. Other branch staff (branch operators, reviewers) are refused
  (403 ``FORBIDDEN``): a report's rows name loans of every branch and carry no
  branch, and telling a branch's rows apart would mean reading each row's loan.
  A branch's own figures are in its ledger and its warnings.
- **The days.** One item per partner and day that has a report or a file in the
  bucket (``persistence/reconciliation_reports.days``): ``BALANCED`` or ``BREAKS``
  (a report), ``INVALID_FILE`` (the file was not the layout at all: no report;
  ``reason`` says why), or ``AWAITING_FILE`` (the file is in, its report is not
  yet: it is reconciled on arrival, so this lasts seconds, or until the day end
  when the arrival's run failed). A day whose file never came has no item: the
  day end's ``AWAITING_FILE`` leaves nothing in the bucket. Status and totals come
  from the summary stored next to each report (one small read per item), or, for
  a report stored without one, from the report's first bytes.
- **A report.** Its totals (both sides, per type and status), its counts per kind
  (``MATCHED`` included: matched items are counted, never listed), and its breaks
  a page at a time, optionally of one ``kind``; a page reads the report from where
  the page before stopped (its cursor holds the byte offset and the report's S3
  version, so that every page is of the same report even if it is rewritten).
"""
from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Any, Iterator

from chalicelib.domain.operator import Operator, Role
from chalicelib.domain.product import Violation
from chalicelib.domain.reconciliation_report import AWAITING_FILE, BALANCED, BREAKS, break_of, head_summary, rank, read_head
from chalicelib.persistence import reconciliation_reports as stored
from chalicelib.persistence import reports
from chalicelib.usecases.errors import Refusal, Refused, invalid_input

LIST_FIELDS = ("partner_id", "business_date", "status", "bank_total", "partner_total", "breaks")


def may_see(operator: Operator) -> None:
    if operator.role not in (Role.PLATFORM, Role.AUDITOR):
        raise Refused(Refusal.FORBIDDEN, "FORBIDDEN", "reconciliation is the platform's: only platform operators and auditors see it")


def _bad_cursor() -> Refused:
    return invalid_input("query", [Violation("cursor", "is not a cursor this list gave (use the next_cursor of the page before)")])


def _summary(found: stored.Day) -> dict[str, Any]:
    if found.has_summary:
        document = stored.summary(found.partner_id, found.day)
        if document is not None:
            return document
    if found.has_report:
        key = reports.report_key(found.partner_id, found.day)
        head = stored.report_head(key)
        if head is not None:
            return head_summary(read_head(iter(head[0])), key, head[1])
    return {"partner_id": found.partner_id, "business_date": found.day.isoformat(), "status": AWAITING_FILE}


def _list_item(summary: dict[str, Any]) -> dict[str, Any]:
    item = {name: summary.get(name) for name in LIST_FIELDS}
    if summary.get("reason"):
        item["reason"] = summary["reason"]
    return item


def list_days(
    operator: Operator, partner_id: str | None, first: date | None, last: date | None, at: dict[str, Any] | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A page of (partner, day)s, by partner then day, and the position to go on after (None: no more)."""
    may_see(operator)
    after = None
    if at is not None:
        try:
            after = (str(at["partner_id"]), date.fromisoformat(at["business_date"]))
        except (KeyError, TypeError, ValueError):
            raise _bad_cursor() from None
    found = list(islice(stored.days(partner_id, after, first, last, page_size=min(1000, 2 * limit + 2)), limit + 1))
    items = [_list_item(_summary(day)) for day in found[:limit]]
    more = len(found) > limit
    return items, {"partner_id": found[limit - 1].partner_id, "business_date": found[limit - 1].day.isoformat()} if more else None


# -- one report ---------------------------------------------------------------------------------


def _not_found(partner_id: str, day: str) -> Refused:
    return Refused(Refusal.NOT_FOUND, "RECONCILIATION_NOT_FOUND", f"no reconciliation of partner {partner_id} for {day}")


def report(
    operator: Operator, partner_id: str, day: date, kind: str | None, at: dict[str, Any] | None, limit: int
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A report's summary, totals, counts and a page of its breaks (of ``kind``, or all), and the
    position of the next page (None: no more)."""
    may_see(operator)
    key = reports.report_key(partner_id, day)
    if at is None:
        summary = stored.summary(partner_id, day)
        if summary is None:
            head = stored.report_head(key)
            if head is not None:
                summary = head_summary(read_head(iter(head[0])), key, head[1])
            elif stored.exists(reports.inbound_key(partner_id, day)):
                summary = {"partner_id": partner_id, "business_date": day.isoformat(), "status": AWAITING_FILE}
            else:
                raise _not_found(partner_id, day.isoformat())
        if summary["status"] not in (BALANCED, BREAKS):
            view = {**_list_item(summary), "partner_rows": None, "invalid_rows": None, "bank_rows": None, "totals": None, "counts": None}
            return {**view, "kind": kind, "items": []}, None
        version, start = summary.get("report_version_id"), 0
    else:  # the next page of the report version the first page was of, whatever came since
        version, start = at.get("version_id"), at.get("offset")
        if at.get("kind") != kind or type(start) is not int or start <= 0 or not (version is None or isinstance(version, str)):
            raise _bad_cursor()
    try:
        head_lines = stored.lines(key, version, 0, stored.HEAD_BYTES if start else None)  # only the head, when jumping on
        pairs = iter(head_lines)
        head = read_head(line for _, line in pairs)
        if start:
            head_lines.close()
            pairs = iter(stored.lines(key, version, start))
        items, next_offset = _page(pairs, kind, limit)
    except stored.NotAvailable:
        if at is not None:
            raise Refused(Refusal.INVALID_INPUT, "INVALID_INPUT", "the report this cursor is of is no longer there: start again",
                          [Violation("cursor", "is of a report version that is gone")]) from None
        raise _not_found(partner_id, day.isoformat()) from None
    except ValueError:
        if at is not None:
            raise _bad_cursor() from None
        raise
    view = {
        "partner_id": head.partner_id, "business_date": head.business_date.isoformat(), "status": head.result,
        "bank_total": head.total("bank"), "partner_total": head.total("partner"), "breaks": head.breaks,
        "partner_rows": head.partner_rows, "invalid_rows": head.invalid_rows, "bank_rows": head.bank_rows,
        "totals": head.totals, "counts": head.counts, "kind": kind,
    }
    return {**view, "items": items}, None if next_offset is None else {"version_id": version, "offset": next_offset, "kind": kind}


def _page(pairs: Iterator[tuple[int, str]], kind: str | None, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` breaks (of ``kind``) and the offset of the next one (None: no more). The
    breaks are sorted by kind: past the kind asked for, reading stops."""
    items: list[dict[str, Any]] = []
    try:
        for offset, line in pairs:
            if not line:
                continue
            found = break_of(line)
            if kind is not None and found["kind"] != kind:
                if rank(found["kind"]) > rank(kind):
                    break
                continue
            if len(items) == limit:
                return items, offset
            items.append(found)
    finally:
        close = getattr(pairs, "close", None)
        if close is not None:
            close()
    return items, None

