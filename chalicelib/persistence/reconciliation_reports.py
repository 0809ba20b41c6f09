"""Reconciliation reports in the reports bucket, as the back office reads them: listed, summarised, streamed.

=================================================  ===============================================
key                                                what
=================================================  ===============================================
``reconciliation/inbound/<partner>/<day>.csv``      the partner's file (``persistence/reports``)
``reconciliation/reports/<partner>/<day>.csv``      the report (``persistence/reports``)
``reconciliation/reports/<partner>/<day>.json``     its summary (``domain/reconciliation_report``):
                                                    status, both sides' totals, the breaks, and the
                                                    S3 version of the report it sums up; written by
                                                    ``usecases/reconciling`` after the report, and
                                                    for a file refused whole (INVALID_FILE)
=================================================  ===============================================

- ``days`` lists the (partner, day)s that have any of these, in order (partner,
  then day), from ListObjectsV2 by prefix (paged, ``StartAfter``): the partners
  are the common prefixes, then each partner's keys from the first day asked.
  Nothing is read but key names.
- ``summary`` reads one summary (a few hundred bytes); ``report_head`` the first
  bytes of a report (its summary, totals and counts are in its first ~2 KB).
- ``lines`` streams a report's lines from a byte offset (a ranged GET of a
  pinned version): a page of breaks reads from where the page before stopped,
  never the whole report.
"""
from __future__ import annotations

import heapq
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

from botocore.exceptions import ClientError

from chalicelib.aws_clients import client
from chalicelib.persistence import reports

INBOUND = reports.INBOUND
REPORTS = "reconciliation/reports/"
HEAD_BYTES = 16384  # a report's summary, totals and counts fit in its first 2 KB; room to spare
CHUNK = 65536
_DAY_KEY = re.compile(r"(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(?P<ext>csv|json)")
_PARTNER = re.compile(r"[A-Z][A-Z0-9_]{1,31}")
_AFTER_EVERY_EXTENSION = ".~"  # "2026-11-23.~" sorts after "2026-11-23.csv" and ".json", before "2026-11-24"


class NotAvailable(Exception):
    """The object (or the version of it) asked for is not there."""


def summary_key(partner_id: str, day: date) -> str:
    return f"{REPORTS}{partner_id}/{day.isoformat()}.json"


def put_summary(partner_id: str, day: date, document: dict[str, Any]) -> None:
    body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    reports.put(summary_key(partner_id, day), body, "application/json")


def summary(partner_id: str, day: date) -> dict[str, Any] | None:
    data = reports.get(summary_key(partner_id, day))
    return None if data is None else json.loads(data.decode("utf-8"))


# -- which days there are -----------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """A partner's day with a file, a report or a summary in the bucket."""

    partner_id: str
    day: date
    has_summary: bool
    has_report: bool
    has_file: bool


def _pages(**kwargs: Any) -> Iterator[dict[str, Any]]:
    s3 = client("s3")
    token = None
    while True:
        page = s3.list_objects_v2(Bucket=reports.bucket_name(), **kwargs, **({"ContinuationToken": token} if token else {}))
        yield page
        if not page.get("IsTruncated"):
            return
        token = page["NextContinuationToken"]


def _partners(prefix: str) -> set[str]:
    found = set()
    for page in _pages(Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", ()):
            name = common["Prefix"][len(prefix):].rstrip("/")
            if _PARTNER.fullmatch(name):
                found.add(name)
    return found


def _keys(prefix: str, start_after: str, source: str, page_size: int) -> Iterator[tuple[str, str]]:
    """(day, source) of each key under ``prefix`` after ``start_after``, in key order."""
    for page in _pages(Prefix=prefix, StartAfter=start_after, MaxKeys=page_size):
        for item in page.get("Contents", ()):
            found = _DAY_KEY.fullmatch(item["Key"][len(prefix):])
            if found is None:
                continue
            kind = source if source == "file" else ("summary" if found["ext"] == "json" else "report")
            if source == "file" and found["ext"] != "csv":
                continue
            yield found["day"], kind


def days(partner_id: str | None, after: tuple[str, date] | None, first: date | None, last: date | None, page_size: int = 200) -> Iterator[Day]:
    """Every (partner, day) with a file, a report or a summary; by partner, then day; only the days
    from ``first`` to ``last`` (either open), and only after ``after`` (a (partner, day) already
    shown). Lazy: stop iterating and no more is listed."""
    partners = [partner_id] if partner_id else sorted(_partners(REPORTS) | _partners(INBOUND))
    for partner in partners:
        if after is not None and partner < after[0]:
            continue
        starts = [""]
        if first is not None:
            starts.append(first.isoformat())
        if after is not None and partner == after[0]:
            starts.append(after[1].isoformat() + _AFTER_EVERY_EXTENSION)
        start = max(starts)
        merged = heapq.merge(
            _keys(f"{REPORTS}{partner}/", f"{REPORTS}{partner}/{start}", "report", page_size),
            _keys(f"{INBOUND}{partner}/", f"{INBOUND}{partner}/{start}", "file", page_size),
        )
        current: str | None = None
        sources: set[str] = set()
        for day_text, source in merged:
            if day_text != current:
                if current is not None:
                    yield _day(partner, current, sources)
                if last is not None and day_text > last.isoformat():
                    current = None
                    break
                current, sources = day_text, set()
            sources.add(source)
        if current is not None:
            yield _day(partner, current, sources)


def _day(partner: str, day_text: str, sources: set[str]) -> Day:
    return Day(partner, date.fromisoformat(day_text), "summary" in sources, "report" in sources, "file" in sources)


# -- reading a report ---------------------------------------------------------------------------


def _get(key: str, version_id: str | None, byte_range: str | None) -> Any:
    """The object's body (a stream), or ``NotAvailable``; an empty range is an empty body."""
    s3 = client("s3")
    kwargs: dict[str, Any] = {"Bucket": reports.bucket_name(), "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    if byte_range:
        kwargs["Range"] = byte_range
    try:
        return s3.get_object(**kwargs)["Body"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "InvalidRange":
            return None
        if code in ("NoSuchKey", "NoSuchVersion", "InvalidArgument", "404", "400"):
            raise NotAvailable(f"{key} ({version_id or 'latest'}): {code}") from exc
        raise


def exists(key: str) -> bool:
    s3 = client("s3")
    try:
        s3.head_object(Bucket=reports.bucket_name(), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def report_head(key: str) -> tuple[list[str], str | None] | None:
    """The first lines of a report (its latest version) and that version's id; None when there is none."""
    s3 = client("s3")
    try:
        found = s3.get_object(Bucket=reports.bucket_name(), Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    data = found["Body"].read()
    return data.decode("utf-8", "replace").split("\n"), found.get("VersionId")


def lines(key: str, version_id: str | None, start: int = 0, length: int | None = None) -> Iterator[tuple[int, str]]:
    """The report's lines from the byte ``start`` (the start of a line), each with the byte offset it
    starts at, without its line end (at most ``length`` bytes read, when given: the last line may be
    cut short); ``NotAvailable`` when the report (version) is gone. Closes the stream when the caller
    stops (or the generator is closed)."""
    end = "" if length is None else str(start + length - 1)
    body = _get(key, version_id, f"bytes={start}-{end}" if start or length else None)
    if body is None:
        return
    offset, rest = start, b""
    try:
        for chunk in body.iter_chunks(CHUNK):
            rest += chunk
            parts = rest.split(b"\n")
            rest = parts.pop()
            for part in parts:
                yield offset, part.decode("utf-8", "replace")
                offset += len(part) + 1
        if rest:
            yield offset, rest.decode("utf-8", "replace")
    finally:
        body.close()
