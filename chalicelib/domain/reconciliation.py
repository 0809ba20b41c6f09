"""T+1 reconciliation (对账): a partner's file for business day T against the bank's ledger for day T.

Pure: bytes in, bytes out, no AWS. The layout of the partner's file and of the
report, and every rule below, are in ``docs/reconciliation.md``.

- ``parse_partner_file`` reads the partner's CSV (``HEADER``, then one row per
  transaction) line by line; a bad row is collected as a ``LineError`` (line,
  field, message) and later reported as an ``INVALID_ROW`` break, never raised.
  Only a file that is not this layout at all (a wrong or missing header) is
  refused with ``ValueError``.
- ``bank_rows`` (and ``disbursement_row``, ``repayment_row``) turn the ledger's
  postings of the day into rows: a disbursement posting is SUCCESS, FAILED
  when its reversal (冲正) is there too; a repayment posting is SUCCESS.
- ``reconcile`` matches both sides by (txn_type, txn_ref) and classifies each
  item as exactly one of ``KINDS``; ``render_report`` writes the report as CSV.

A row is a ``Row`` (a named tuple: txn_type, txn_ref, loan_id, amount_fen,
status) with the amount as an int of fen: a million rows are parsed and
compared without a Decimal or a dataclass per row. Money is shown with
``money.format_amount``.
"""
from __future__ import annotations

import codecs
import csv
import gc
import io
import re
from array import array
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Iterator, Mapping, NamedTuple, Sequence

from chalicelib.domain import accounting
from chalicelib.domain.ledger import Account, Posting, Side
from chalicelib.domain.money import format_amount

HEADER = "business_date,txn_ref,txn_type,loan_id,amount,status"
FIELDS = tuple(HEADER.split(","))

DISBURSEMENT = "DISBURSEMENT"
REPAYMENT = "REPAYMENT"
TXN_TYPES = (DISBURSEMENT, REPAYMENT)
SUCCESS = "SUCCESS"
FAILED = "FAILED"
STATUSES = (SUCCESS, FAILED)

MATCHED = "MATCHED"
INVALID_ROW = "INVALID_ROW"
MISSING_AT_BANK = "MISSING_AT_BANK"
MISSING_AT_PARTNER = "MISSING_AT_PARTNER"
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
STATUS_MISMATCH = "STATUS_MISMATCH"
DUPLICATE = "DUPLICATE"
BREAK_KINDS = (INVALID_ROW, MISSING_AT_BANK, MISSING_AT_PARTNER, AMOUNT_MISMATCH, STATUS_MISMATCH, DUPLICATE)
KINDS = (MATCHED, *BREAK_KINDS)  # the order of the report's counts and of its breaks

PARTNER = "PARTNER"
BANK = "BANK"
BOTH = "BOTH"


_REF = r"[A-Za-z0-9_-]{1,64}"
_REF_TEXT = re.compile(_REF)
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT_TEXT = re.compile(r"(0|[1-9][0-9]{0,14})\.([0-9]{2})")
_CHUNK = 1 << 20  # bytes decoded and split at a time
_CANONICAL = {name: name for name in TXN_TYPES + STATUSES}  # one str object per value, whatever the row


class Row(NamedTuple):
    """One transaction as one side states it; two sides agree on it exactly when the rows are equal."""

    txn_type: str  # DISBURSEMENT or REPAYMENT
    txn_ref: str  # partner_application_no (a disbursement) or partner_repayment_no (a repayment)
    loan_id: str
    amount_fen: int  # > 0
    status: str  # SUCCESS or FAILED

    @property
    def key(self) -> tuple[str, str]:
        return (self.txn_type, self.txn_ref)

    @property
    def amount(self) -> str:
        return amount_text(self.amount_fen)


_new_row = tuple.__new__  # Row(...) through its Python-level __new__ costs more than the rest of a row's parse


class LineError(NamedTuple):
    line: int  # 1 is the header
    field: str  # one of FIELDS, or "line" when the row cannot be split into them
    message: str


class ParsedFile(NamedTuple):
    """A partner's file: its valid rows (in file order), the line of each, and every error of the others."""

    rows: list[Row]
    lines: Sequence[int]  # lines[i] is the file line of rows[i]
    errors: list[LineError]  # in line order; a line may have several (one per bad field)


def amount_text(fen: int) -> str:
    """The wire form of an amount of fen: ``123456`` -> ``"1234.56"``."""
    return format_amount(Decimal(fen).scaleb(-2))


def _fen(amount: Decimal) -> int:
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is not exact to the fen")
    return int(fen)


# -- the partner's file ---------------------------------------------------------------------------


def parse_partner_file(data: bytes, day: date) -> ParsedFile:
    """Parse a partner's file for ``day``; raises ``ValueError`` only when the header is not ``HEADER``."""
    rows: list[Row] = []
    lines = array("L")
    errors: list[LineError] = []
    append_row, append_line = rows.append, lines.append
    canonical = _CANONICAL
    day_text = day.isoformat()
    # One pattern for a whole valid row, with the day in it; anything it refuses is examined field by field.
    fullmatch = re.compile(
        rf"{re.escape(day_text)},({_REF}),(DISBURSEMENT|REPAYMENT),({_REF}),(0|[1-9][0-9]{{0,14}})\.([0-9]{{2}}),(SUCCESS|FAILED)\r?"
    ).fullmatch
    number = 1
    with _cyclic_gc_paused():
        for chunk in _line_chunks(data):
            for text in chunk:
                number += 1
                match = fullmatch(text)
                if match is not None:
                    ref, txn_type, loan_id, yuan, cents, status = match.groups()
                    fen = int(yuan + cents)
                    if fen:
                        append_row(_new_row(Row, (canonical[txn_type], ref, loan_id, fen, canonical[status])))
                        append_line(number)
                        continue
                errors.extend(_diagnose(text, number, day_text))
    return ParsedFile(rows, lines, errors)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file's rows are made (reference counting goes on).

    Each row allocates three containers (the match, its groups, the row), so the collector would
    run every few hundred rows and, as the rows pile up, walk them again and again: half the time
    of a large parse, for nothing, since rows of strings and ints hold no cycles. Re-enabled after
    (when it was enabled), even on an error.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _line_chunks(data: bytes) -> Iterator[list[str]]:
    """The header checked, then the lines after it, a chunk (about ``_CHUNK`` bytes) at a time.

    Lines end with LF (a CR before it is left on the line, for the row pattern to take); one final
    LF ends the last line, it does not start an empty one. Bytes that are not UTF-8 are kept as
    lone surrogates, so a row with them is an invalid row, not a refused file.
    """
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    first = data.find(b"\n", start, end)
    header_end = end if first < 0 else first
    header = data[start:header_end].decode("utf-8", "surrogateescape").removesuffix("\r")
    if header != HEADER:
        shown = header if len(header) <= 120 else header[:120] + "..."
        raise ValueError(f"not a partner reconciliation file: the first line must be {HEADER!r}, not {shown!r}")
    start = header_end + 1
    while start <= end and first >= 0:
        stop = data.find(b"\n", min(start + _CHUNK, end), end)
        if stop < 0:
            stop = end
        yield data[start:stop].decode("utf-8", "surrogateescape").split("\n")
        start = stop + 1


def _diagnose(text: str, number: int, day_text: str) -> list[LineError]:
    """Why a line is not a valid row: one error per bad field (never empty)."""
    text = text.removesuffix("\r")
    if any("\udc80" <= char <= "\udcff" for char in text):
        return [LineError(number, "line", "is not valid UTF-8")]
    if not text:
        return [LineError(number, "line", "is empty")]
    values = text.split(",")
    if len(values) != len(FIELDS):
        return [LineError(number, "line", f"has {len(values)} fields, not {len(FIELDS)} ({HEADER})")]
    business_date, ref, txn_type, loan_id, amount, status = values
    errors = []
    if business_date != day_text:
        if not _DATE_TEXT.fullmatch(business_date):
            errors.append(LineError(number, "business_date", f"must be a date YYYY-MM-DD, not {_shown(business_date)}"))
        else:
            errors.append(LineError(number, "business_date", f"is {business_date}, not the file's day {day_text}"))
    if not _REF_TEXT.fullmatch(ref):
        errors.append(LineError(number, "txn_ref", f"must be 1 to 64 of A-Z a-z 0-9 _ -, not {_shown(ref)}"))
    if txn_type not in TXN_TYPES:
        errors.append(LineError(number, "txn_type", f"must be DISBURSEMENT or REPAYMENT, not {_shown(txn_type)}"))
    if not _REF_TEXT.fullmatch(loan_id):
        errors.append(LineError(number, "loan_id", f"must be 1 to 64 of A-Z a-z 0-9 _ -, not {_shown(loan_id)}"))
    match = _AMOUNT_TEXT.fullmatch(amount)
    if match is None:
        errors.append(LineError(number, "amount", f"must be yuan with exactly 2 decimals and no leading zero, e.g. 1234.56, not {_shown(amount)}"))
    elif not int(match[1] + match[2]):
        errors.append(LineError(number, "amount", "must be more than 0.00"))
    if status not in STATUSES:
        errors.append(LineError(number, "status", f"must be SUCCESS or FAILED, not {_shown(status)}"))
    # the checks above say all the row pattern says; should they ever disagree, the row is still refused, not raised
    return errors or [LineError(number, "line", "is not a valid row")]


def _shown(value: str) -> str:
    """A value quoted for a message, cut short (the report never carries long partner text)."""
    return repr(value if len(value) <= 40 else value[:40] + "...")


def partner_line(row: Row, day: date) -> str:
    """One row of a partner's file (without its line end)."""
    return f"{day.isoformat()},{row.txn_ref},{row.txn_type},{row.loan_id},{amount_text(row.amount_fen)},{row.status}"


def render_partner_file(rows: Iterable[Row], day: date) -> bytes:
    """A partner's file for ``day`` (UTF-8, LF, no BOM): what a partner uploads; for tests and simulators."""
    out = [HEADER]
    out.extend(partner_line(row, day) for row in rows)
    out.append("")
    return "\n".join(out).encode("utf-8")


# -- the bank's side --------------------------------------------------------------------------------


def disbursement_row(posting: Posting, partner_application_no: str, reversal: Posting | None = None) -> Row:
    """A disbursement as the ledger has it: SUCCESS, or FAILED when its reversal is given."""
    if posting.kind != "DISBURSEMENT" or posting.posting_id != accounting.disbursement_id(posting.loan_id):
        raise ValueError(f"{posting.posting_id} is not a disbursement posting")
    if reversal is not None and (reversal.kind != "REVERSAL" or reversal.reverses != posting.posting_id):
        raise ValueError(f"{reversal.posting_id} does not reverse {posting.posting_id}")
    if not _REF_TEXT.fullmatch(partner_application_no or ""):
        raise ValueError(f"loan {posting.loan_id}: no usable partner_application_no ({partner_application_no!r})")
    paid = sum(line.amount for line in posting.lines if line.account is Account.PAYMENT_CLEARING and line.side is Side.CREDIT)
    return Row(DISBURSEMENT, partner_application_no, posting.loan_id, _fen(paid), SUCCESS if reversal is None else FAILED)


def repayment_row(posting: Posting) -> Row:
    """A repayment as the ledger has it: what the partner collected (the partner clearing debit), SUCCESS."""
    prefix = accounting.repayment_id(posting.loan_id, "")
    if posting.kind != "REPAYMENT" or not posting.posting_id.startswith(prefix):
        raise ValueError(f"{posting.posting_id} is not a repayment posting")
    collected = sum(line.amount for line in posting.lines if line.account is Account.PARTNER_CLEARING and line.side is Side.DEBIT)
    return Row(REPAYMENT, posting.posting_id[len(prefix):], posting.loan_id, _fen(collected), SUCCESS)


def bank_rows(postings: Iterable[Posting], partner_application_nos: Mapping[str, str]) -> list[Row]:
    """The bank's rows from one partner's postings of the day, in posting-id order.

    Takes DISBURSEMENT and REPAYMENT postings, and the REVERSALs of the disbursements among them (a
    reversal of a disbursement that is not among them, an earlier day's, is left out; so are
    accruals). ``partner_application_nos`` maps each disbursed loan to the partner's application
    number (``Loan.partner_application_no``); a disbursed loan missing from it is a ``ValueError``.
    """
    postings = sorted(postings, key=lambda p: p.posting_id)
    reversals = {p.reverses: p for p in postings if p.kind == "REVERSAL"}
    rows = []
    for posting in postings:
        if posting.kind == "DISBURSEMENT":
            if posting.loan_id not in partner_application_nos:
                raise ValueError(f"loan {posting.loan_id}: its partner_application_no is not given")
            rows.append(disbursement_row(posting, partner_application_nos[posting.loan_id], reversals.get(posting.posting_id)))
        elif posting.kind == "REPAYMENT":
            rows.append(repayment_row(posting))
    return rows


# -- reconciliation ---------------------------------------------------------------------------------


class Break(NamedTuple):
    """One item that does not reconcile."""

    kind: str  # one of BREAK_KINDS
    side: str  # PARTNER, BANK, or BOTH (a mismatch)
    txn_type: str  # "" for an INVALID_ROW
    txn_ref: str  # "" for an INVALID_ROW
    line: int | None  # the partner's file line of the partner's row (None: bank only, or rows not from a file)
    partner: Row | None
    bank: Row | None
    fields: str  # what differs or is wrong, ";"-separated (e.g. "amount;status"); "" when nothing to name
    detail: str


@dataclass(frozen=True)
class Totals:
    """One side's count and amount (fen) per (txn_type, status), every pair present, zeros included."""

    by: Mapping[tuple[str, str], tuple[int, int]]

    def count(self, txn_type: str | None = None, status: str | None = None) -> int:
        return sum(c for (t, s), (c, _) in self.by.items() if txn_type in (None, t) and status in (None, s))

    def amount_fen(self, txn_type: str | None = None, status: str | None = None) -> int:
        return sum(f for (t, s), (_, f) in self.by.items() if txn_type in (None, t) and status in (None, s))


@dataclass(frozen=True)
class Report:
    partner_totals: Totals  # the partner's valid rows (duplicates included, invalid rows not)
    bank_totals: Totals  # every bank row (duplicates included)
    counts: Mapping[str, int]  # items per kind, in KINDS order, zeros included
    breaks: tuple[Break, ...]  # every break, in a deterministic order

    @property
    def balanced(self) -> bool:
        return not self.breaks


def _accumulator() -> dict[tuple[str, str], list[int]]:
    return {(t, s): [0, 0] for t in TXN_TYPES for s in STATUSES}


def _totals(accumulated: dict[tuple[str, str], list[int]]) -> Totals:
    return Totals({key: (count, fen) for key, (count, fen) in accumulated.items()})


def reconcile(partner_rows: ParsedFile | Iterable[Row], bank_rows: Iterable[Row]) -> Report:
    """Match the partner's rows with the bank's by (txn_type, txn_ref); every item is one of ``KINDS``.

    ``partner_rows`` is a ``ParsedFile`` (its errors become INVALID_ROW breaks, its lines are
    reported) or plain rows. On either side the first row of a key is the one matched; each
    further row of that key is a DUPLICATE. A matched pair is MATCHED when the rows are equal;
    else STATUS_MISMATCH when only the status differs; else AMOUNT_MISMATCH (the amount or the
    loan differs; every differing field is named).
    """
    if isinstance(partner_rows, ParsedFile):
        rows, lines, errors = partner_rows.rows, partner_rows.lines, partner_rows.errors
    else:
        rows, lines, errors = list(partner_rows), None, []
    breaks: list[tuple[tuple, Break]] = []  # (sort key, break)
    rank = {kind: index for index, kind in enumerate(KINDS)}

    def add(kind: str, side: str, txn_type: str, ref: str, line: int | None, partner: Row | None, bank: Row | None, fields: str, detail: str) -> None:
        breaks.append(((rank[kind], txn_type, ref, line or 0, len(breaks)), Break(kind, side, txn_type, ref, line, partner, bank, fields, detail)))

    by_line: dict[int, list[LineError]] = {}
    for error in errors:
        by_line.setdefault(error.line, []).append(error)
    for number, found in by_line.items():
        add(INVALID_ROW, PARTNER, "", "", number, None, None, ";".join(dict.fromkeys(e.field for e in found)), "; ".join(f"{e.field} {e.message}" for e in found))

    bank_totals = _accumulator()
    bank_index: dict[str, dict[str, Row | int]] = {t: {} for t in TXN_TYPES}
    for row in bank_rows:
        index = bank_index.get(row[0])
        if index is None:
            raise ValueError(f"a bank row with the txn_type {row[0]!r}")
        total = bank_totals[(row[0], row[4])]
        total[0] += 1
        total[1] += row[3]
        if row[1] in index:
            add(DUPLICATE, BANK, row[0], row[1], None, None, row, "", "the bank has this reference more than once")
        else:
            index[row[1]] = row

    # One index per side would cost a second dict of a million entries: instead, the bank's entry of
    # a key the partner has stated is replaced by the partner row's position (an int, never equal to
    # a row). What is left a Row at the end, the partner never stated; a key met again as an int is a
    # partner duplicate; keys the bank does not have are kept apart, in ``partner_only``.
    partner_totals = _accumulator()
    partner_only: dict[str, dict[str, int]] = {t: {} for t in TXN_TYPES}
    matched = 0
    for i, row in enumerate(rows):
        txn_type, ref = row[0], row[1]
        total = partner_totals[(txn_type, row[4])]
        total[0] += 1
        total[1] += row[3]
        index = bank_index[txn_type]
        bank = index.get(ref)
        if bank == row:
            index[ref] = i
            matched += 1
            continue
        line = lines[i] if lines is not None else None
        first = bank if type(bank) is int else partner_only[txn_type].get(ref) if bank is None else None
        if first is not None:  # the partner stated this key before, at rows[first]
            where = f" (first at line {lines[first]})" if lines is not None else ""
            add(DUPLICATE, PARTNER, txn_type, ref, line, row, None, "", f"the partner's file has this reference more than once{where}")
        elif bank is None:
            partner_only[txn_type][ref] = i
            note = " (FAILED at the partner: nothing for the bank to book)" if row[4] == FAILED else ""
            add(MISSING_AT_BANK, PARTNER, txn_type, ref, line, row, None, "", f"in the partner's file, not in the bank's ledger{note}")
        else:
            index[ref] = i
            _mismatch(add, row, bank, line)

    for txn_type in TXN_TYPES:
        for bank in [entry for entry in bank_index[txn_type].values() if type(entry) is not int]:
            add(MISSING_AT_PARTNER, BANK, txn_type, bank[1], None, None, bank, "", "in the bank's ledger, not in the partner's file")

    breaks.sort(key=lambda pair: pair[0])
    counts = dict.fromkeys(KINDS, 0)
    counts[MATCHED] = matched
    for _, found in breaks:
        counts[found.kind] += 1
    return Report(_totals(partner_totals), _totals(bank_totals), counts, tuple(found for _, found in breaks))


def _mismatch(add, partner: Row, bank: Row, line: int | None) -> None:  # noqa: ANN001 - reconcile's add
    differs = []
    if partner.amount_fen != bank.amount_fen:
        differs.append(("amount", amount_text(partner.amount_fen), amount_text(bank.amount_fen)))
    if partner.loan_id != bank.loan_id:
        differs.append(("loan_id", partner.loan_id, bank.loan_id))
    if partner.status != bank.status:
        differs.append(("status", partner.status, bank.status))
    kind = STATUS_MISMATCH if [name for name, _, _ in differs] == ["status"] else AMOUNT_MISMATCH
    detail = "; ".join(f"{name}: partner {p}, bank {b}" for name, p, b in differs)
    add(kind, BOTH, partner.txn_type, partner.txn_ref, line, partner, bank, ";".join(name for name, _, _ in differs), detail)


# -- the report as CSV -------------------------------------------------------------------------------

SUMMARY_HEADER = ("partner_id", "business_date", "result", "partner_rows", "invalid_rows", "bank_rows", "breaks")
TOTALS_HEADER = ("side", "txn_type", "status", "count", "amount")
COUNTS_HEADER = ("kind", "count")
BREAKS_HEADER = (
    "kind", "side", "txn_type", "txn_ref", "line", "fields",
    "partner_loan_id", "partner_amount", "partner_status", "bank_loan_id", "bank_amount", "bank_status", "detail",
)


def render_report(report: Report, partner_id: str, day: date) -> bytes:
    """The report as CSV (UTF-8, LF): four blocks, each a header line and its lines, separated by an empty line.

    1. the summary: partner, day, BALANCED or BREAKS, the rows of each side, the breaks;
    2. the totals of each side: per txn_type and status, per txn_type (status ALL), and ALL;
    3. the items per kind (MATCHED and each break kind);
    4. one line per break.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_HEADER)
    writer.writerow((
        partner_id, day.isoformat(), "BALANCED" if report.balanced else "BREAKS", report.partner_totals.count(),
        report.counts[INVALID_ROW], report.bank_totals.count(), len(report.breaks),
    ))
    writer.writerow(())
    writer.writerow(TOTALS_HEADER)
    for side, totals in ((PARTNER, report.partner_totals), (BANK, report.bank_totals)):
        for txn_type in TXN_TYPES:
            for status in STATUSES:
                writer.writerow((side, txn_type, status, totals.count(txn_type, status), amount_text(totals.amount_fen(txn_type, status))))
            writer.writerow((side, txn_type, "ALL", totals.count(txn_type), amount_text(totals.amount_fen(txn_type))))
        writer.writerow((side, "ALL", "ALL", totals.count(), amount_text(totals.amount_fen())))
    writer.writerow(())
    writer.writerow(COUNTS_HEADER)
    writer.writerows(report.counts.items())
    writer.writerow(())
    writer.writerow(BREAKS_HEADER)
    for found in report.breaks:
        p, b = found.partner, found.bank
        writer.writerow((
            found.kind, found.side, found.txn_type, found.txn_ref, "" if found.line is None else found.line, found.fields,
            p.loan_id if p else "", p.amount if p else "", p.status if p else "",
            b.loan_id if b else "", b.amount if b else "", b.status if b else "",
            found.detail,
        ))
    return out.getvalue().encode("utf-8")
