"""A reconciliation report read back for people: its summary, its totals, its breaks one line at a time.

``reconciliation.render_report`` writes the report as CSV in four blocks
(``docs/reconciliation.md``): the summary, the totals of both sides, the items
per kind, and one line per break. The back office never holds a report whole:

- ``read_head`` reads the first three blocks (about 30 short lines at the start of
  the file) and stops right after the header of the breaks, so that the same
  stream goes on with the breaks;
- ``break_of`` turns one line of the breaks into its view;
- ``summary_of`` (the use case stores it next to the report, a few hundred bytes)
  and ``head_summary`` (the same from a report's head) give what a list of reports
  shows: status, both sides' totals, the breaks; ``invalid_file_summary`` the same
  for a file that was not this layout at all (no report is written for it).

Matched items are only counted in a report (``counts["MATCHED"]``), never listed.
Amounts stay the report's strings (yuan, two decimals). Pure: no I/O.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

from chalicelib.domain.reconciliation import (
    BANK,
    BREAK_KINDS,
    BREAKS_HEADER,
    COUNTS_HEADER,
    KINDS,
    PARTNER,
    STATUSES,
    SUMMARY_HEADER,
    TOTALS_HEADER,
    TXN_TYPES,
    Report,
    amount_text,
)

BALANCED = "BALANCED"
BREAKS = "BREAKS"
INVALID_FILE = "INVALID_FILE"
AWAITING_FILE = "AWAITING_FILE"  # the partner's file is in, its report is not (yet)
STATUSES_OF_A_DAY = (BALANCED, BREAKS, INVALID_FILE, AWAITING_FILE)
ALL = "ALL"
_TOTAL_LINES = [(t, s) for t in TXN_TYPES for s in (*STATUSES, ALL)] + [(ALL, ALL)]
_RANK = {kind: index for index, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class ReportHead:
    partner_id: str
    business_date: date
    result: str  # BALANCED or BREAKS
    partner_rows: int
    invalid_rows: int
    bank_rows: int
    breaks: int
    totals: dict[str, list[dict[str, Any]]]  # "partner"/"bank": 7 lines each, as the report has them
    counts: dict[str, int]  # every kind, MATCHED first

    def total(self, side: str) -> str:
        """A side's amount of every row (ALL, ALL)."""
        return self.totals[side][-1]["amount"]


def _row(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def _expect(lines: Iterator[str], header: tuple[str, ...]) -> None:
    found = _row(next(lines, ""))
    if tuple(found) != header:
        raise ValueError(f"not a reconciliation report: expected the header {','.join(header)}")


def _blank(lines: Iterator[str]) -> None:
    if next(lines, None) != "":
        raise ValueError("not a reconciliation report: a block does not end with an empty line")


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"not a reconciliation report: {text[:20]!r} is not a count")
    return int(text)


def read_head(lines: Iterator[str]) -> ReportHead:
    """The summary, totals and counts of a report, from its lines (without line ends); consumes
    them up to and including the header of the breaks. ``ValueError`` when they are not a report's."""
    _expect(lines, SUMMARY_HEADER)
    summary = _row(next(lines, ""))
    if len(summary) != len(SUMMARY_HEADER) or summary[2] not in (BALANCED, BREAKS):
        raise ValueError("not a reconciliation report: a bad summary line")
    _blank(lines)
    _expect(lines, TOTALS_HEADER)
    totals: dict[str, list[dict[str, Any]]] = {"partner": [], "bank": []}
    for side in (PARTNER, BANK):
        for txn_type, status in _TOTAL_LINES:
            found = _row(next(lines, ""))
            if found[:3] != [side, txn_type, status] or len(found) != len(TOTALS_HEADER):
                raise ValueError(f"not a reconciliation report: expected the totals of {side} {txn_type} {status}")
            totals[side.lower()].append({"txn_type": txn_type, "status": status, "count": _count(found[3]), "amount": found[4]})
    _blank(lines)
    _expect(lines, COUNTS_HEADER)
    counts = {}
    for kind in KINDS:
        found = _row(next(lines, ""))
        if len(found) != 2 or found[0] != kind:
            raise ValueError(f"not a reconciliation report: expected the count of {kind}")
        counts[kind] = _count(found[1])
    _blank(lines)
    _expect(lines, BREAKS_HEADER)
    return ReportHead(
        partner_id=summary[0], business_date=date.fromisoformat(summary[1]), result=summary[2],
        partner_rows=_count(summary[3]), invalid_rows=_count(summary[4]), bank_rows=_count(summary[5]), breaks=_count(summary[6]),
        totals=totals, counts=counts,
    )


def break_of(line: str) -> dict[str, Any]:
    """One line of the breaks as the back office shows it; ``ValueError`` when it is not one."""
    found = _row(line)
    if len(found) != len(BREAKS_HEADER) or found[0] not in BREAK_KINDS:
        raise ValueError("not a line of a report's breaks")
    kind, side, txn_type, txn_ref, number, fields, p_loan, p_amount, p_status, b_loan, b_amount, b_status, detail = found
    return {
        "kind": kind,
        "side": side,
        "txn_type": txn_type or None,
        "txn_ref": txn_ref or None,
        "line": _count(number) if number else None,
        "fields": fields.split(";") if fields else [],
        "partner": {"loan_id": p_loan, "amount": p_amount, "status": p_status} if p_status else None,
        "bank": {"loan_id": b_loan, "amount": b_amount, "status": b_status} if b_status else None,
        "detail": detail,
    }


def rank(kind: str) -> int:
    """A kind's place in a report's order of breaks (the breaks are sorted by it)."""
    return _RANK[kind]


# -- what a list of reports shows ---------------------------------------------------------------


def summary_of(report: Report, partner_id: str, day: date, report_key: str, version_id: str | None) -> dict[str, Any]:
    """The small summary stored next to a report: what a list shows without reading the report."""
    return {
        "partner_id": partner_id,
        "business_date": day.isoformat(),
        "status": BALANCED if report.balanced else BREAKS,
        "partner_total": amount_text(report.partner_totals.amount_fen()),
        "bank_total": amount_text(report.bank_totals.amount_fen()),
        "partner_rows": report.partner_totals.count(),
        "invalid_rows": report.counts.get("INVALID_ROW", 0),
        "bank_rows": report.bank_totals.count(),
        "breaks": len(report.breaks),
        "counts": dict(report.counts),
        "report_key": report_key,
        "report_version_id": version_id,
    }


def head_summary(head: ReportHead, report_key: str, version_id: str | None) -> dict[str, Any]:
    """The same summary from a report's head (a report stored without one)."""
    return {
        "partner_id": head.partner_id,
        "business_date": head.business_date.isoformat(),
        "status": head.result,
        "partner_total": head.total("partner"),
        "bank_total": head.total("bank"),
        "partner_rows": head.partner_rows,
        "invalid_rows": head.invalid_rows,
        "bank_rows": head.bank_rows,
        "breaks": head.breaks,
        "counts": dict(head.counts),
        "report_key": report_key,
        "report_version_id": version_id,
    }


def invalid_file_summary(partner_id: str, day: date, reason: str) -> dict[str, Any]:
    """The summary of a partner's file that is not the layout at all (no report is written)."""
    return {
        "partner_id": partner_id,
        "business_date": day.isoformat(),
        "status": INVALID_FILE,
        "reason": reason[:200],
        "report_key": None,
        "report_version_id": None,
    }
