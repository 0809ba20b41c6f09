"""T+1 reconciliation: the partner's file, the bank's rows from postings, reconcile, the report.

Expected figures are worked out here by hand or, in the property, from the breaks the test itself
injected; amounts in the files are written with ``money.format_amount`` of a Decimal, not with the
module's own fen formatting.
"""
from __future__ import annotations

import codecs
import csv
import gc
import io
import re
from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain import accounting, reconciliation
from chalicelib.domain.loan import LoanStatus, book
from chalicelib.domain.money import format_amount
from chalicelib.domain.reconciliation import (
    AMOUNT_MISMATCH,
    BANK,
    BOTH,
    DISBURSEMENT,
    DUPLICATE,
    FAILED,
    HEADER,
    INVALID_ROW,
    KINDS,
    MATCHED,
    MISSING_AT_BANK,
    MISSING_AT_PARTNER,
    PARTNER,
    REPAYMENT,
    STATUS_MISMATCH,
    STATUSES,
    SUCCESS,
    TXN_TYPES,
    LineError,
    ParsedFile,
    Row,
    amount_text,
    bank_rows,
    disbursement_row,
    parse_partner_file,
    partner_line,
    reconcile,
    render_partner_file,
    render_report,
    repayment_row,
)
from chalicelib.domain.repayment import allocate
from chalicelib.domain.schedule import RepaymentMethod, build_schedule

DAY = date(2026, 11, 23)
D1 = Row(DISBURSEMENT, "PA-0001", "LN20261123-0001", 12_000_00, SUCCESS)
D2 = Row(DISBURSEMENT, "PA-0002", "LN20261123-0002", 5_000_00, FAILED)
R1 = Row(REPAYMENT, "RP_1", "LN20261001-0009", 1_234_56, SUCCESS)
R2 = Row(REPAYMENT, "RP_2", "LN20261001-0009", 1, SUCCESS)


def text_line(row: Row, day: date = DAY) -> str:
    """A row as a partner writes it, formatted independently of the module."""
    return ",".join([day.isoformat(), row.txn_ref, row.txn_type, row.loan_id, format_amount(D(row.amount_fen) / 100), row.status])


def file_of(*lines: str | Row, header: str = HEADER, bom: bool = False, eol: str = "\n", final_eol: bool = True) -> bytes:
    texts = [header] + [text_line(x) if isinstance(x, Row) else x for x in lines]
    body = eol.join(texts) + (eol if final_eol else "")
    return (codecs.BOM_UTF8 if bom else b"") + body.encode("utf-8", "surrogateescape")


def keyed(report) -> list[tuple]:
    return [(b.kind, b.side, b.txn_type, b.txn_ref, b.line, b.fields) for b in report.breaks]


# -- the partner's file ---------------------------------------------------------------------------


def test_a_valid_file_gives_its_rows_in_order_with_their_lines():
    parsed = parse_partner_file(file_of(D1, D2, R1, R2), DAY)
    assert parsed.rows == [D1, D2, R1, R2]
    assert list(parsed.lines) == [2, 3, 4, 5]
    assert parsed.errors == []


def documented_examples() -> tuple[bytes, bytes]:
    """The two CSV examples of docs/reconciliation.md: a partner's file and the report of it."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "reconciliation.md").read_text(encoding="utf-8")
    partner_file, report = re.findall(r"```csv\n(.*?)```", text, re.S)
    return partner_file.encode(), report.encode()


def test_the_examples_of_the_documentation_are_what_the_code_does():
    partner_file, expected_report = documented_examples()
    parsed = parse_partner_file(partner_file, DAY)
    assert parsed.errors == []
    assert parsed.rows[2] == Row(REPAYMENT, "RP-7781-0001", "LN20260915-142233-0c9e11d7f3", 103457, SUCCESS)
    bank = [
        parsed.rows[0],
        parsed.rows[1]._replace(status=SUCCESS),  # paid out after all
        parsed.rows[2],
        Row(REPAYMENT, "RP-7781-0002", "LN20260915-142233-0c9e11d7f3", 500_00, SUCCESS),
    ]
    assert render_report(reconcile(parsed, bank), "P_DEMO", DAY) == expected_report


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("final_eol", [False, True])
def test_a_bom_crlf_and_a_missing_final_line_end_are_all_tolerated(bom, eol, final_eol):
    parsed = parse_partner_file(file_of(D1, R1, bom=bom, eol=eol, final_eol=final_eol), DAY)
    assert (parsed.rows, list(parsed.lines), parsed.errors) == ([D1, R1], [2, 3], [])


@pytest.mark.parametrize("data", [file_of(), file_of(final_eol=False), file_of(bom=True, eol="\r\n")])
def test_a_file_with_the_header_only_has_no_rows(data):
    assert parse_partner_file(data, DAY) == ParsedFile([], reconciliation.array("L"), [])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        codecs.BOM_UTF8,
        file_of(D1, header="business_date,txn_ref,txn_type,loan_id,amount"),  # a column short
        file_of(D1, header=HEADER + ",memo"),  # a column more
        file_of(D1, header="txn_ref,business_date,txn_type,loan_id,amount,status"),  # another order
        file_of(D1, header=HEADER.upper()),
        file_of(D1, header=HEADER.replace(",", ", ")),
        file_of(D1, header=HEADER.replace(",", ";")),
        file_of(D1, header=HEADER.replace(",", "\t")),
        file_of(D1, header='"business_date","txn_ref","txn_type","loan_id","amount","status"'),
        file_of(D1, header=" " + HEADER),
        file_of(D1, header=HEADER + " "),
        file_of(D1, header="\ufeff" + HEADER, bom=True),  # two BOMs
        file_of(D1, header=HEADER + "\udcff"),  # not UTF-8
        text_line(D1).encode() + b"\n",  # no header at all
        (HEADER + "\r" + text_line(D1)).encode(),  # CR alone ends no line
        HEADER.encode("utf-16"),
    ],
)
def test_a_file_that_is_not_this_layout_is_refused(data):
    with pytest.raises(ValueError, match="not a partner reconciliation file"):
        parse_partner_file(data, DAY)


GOOD = text_line(R1).split(",")


def with_field(index: int, value: str) -> str:
    fields = list(GOOD)
    fields[index] = value
    return ",".join(fields)


BAD_ROWS = [
    (with_field(0, "2026-11-22"), "business_date", "is 2026-11-22, not the file's day 2026-11-23"),
    (with_field(0, "2026/11/23"), "business_date", "must be a date YYYY-MM-DD"),
    (with_field(0, "20261123"), "business_date", "must be a date YYYY-MM-DD"),
    (with_field(0, ""), "business_date", "must be a date YYYY-MM-DD"),
    (with_field(1, ""), "txn_ref", "must be 1 to 64 of A-Z a-z 0-9 _ -"),
    (with_field(1, "R" * 65), "txn_ref", "must be 1 to 64"),
    (with_field(1, "RP 1"), "txn_ref", "must be 1 to 64"),
    (with_field(1, "RP#1"), "txn_ref", "must be 1 to 64"),
    (with_field(1, "还款1"), "txn_ref", "must be 1 to 64"),
    (with_field(1, '"RP_1"'), "txn_ref", "must be 1 to 64"),
    (with_field(2, "repayment"), "txn_type", "must be DISBURSEMENT or REPAYMENT"),
    (with_field(2, "REFUND"), "txn_type", "must be DISBURSEMENT or REPAYMENT"),
    (with_field(2, ""), "txn_type", "must be DISBURSEMENT or REPAYMENT"),
    (with_field(3, ""), "loan_id", "must be 1 to 64"),
    (with_field(3, "LN 1"), "loan_id", "must be 1 to 64"),
    (with_field(3, "L" * 65), "loan_id", "must be 1 to 64"),
    (with_field(4, "1234.5"), "amount", "exactly 2 decimals"),
    (with_field(4, "1234"), "amount", "exactly 2 decimals"),
    (with_field(4, "1234.567"), "amount", "exactly 2 decimals"),
    (with_field(4, "01234.56"), "amount", "no leading zero"),
    (with_field(4, "-1234.56"), "amount", "exactly 2 decimals"),
    (with_field(4, "+1234.56"), "amount", "exactly 2 decimals"),
    (with_field(4, ".56"), "amount", "exactly 2 decimals"),
    (with_field(4, "1e3"), "amount", "exactly 2 decimals"),
    (with_field(4, "１234.56"), "amount", "exactly 2 decimals"),
    (with_field(4, " 1234.56"), "amount", "exactly 2 decimals"),
    (with_field(4, "1000000000000000.00"), "amount", "exactly 2 decimals"),  # 16 digits of yuan
    (with_field(4, "0.00"), "amount", "must be more than 0.00"),
    (with_field(5, "success"), "status", "must be SUCCESS or FAILED"),
    (with_field(5, "PENDING"), "status", "must be SUCCESS or FAILED"),
    (with_field(5, "SUCCESS "), "status", "must be SUCCESS or FAILED"),
    (with_field(5, "SUCCESS\r\r"), "status", "must be SUCCESS or FAILED"),
    ("", "line", "is empty"),
    ("\r", "line", "is empty"),
    (",".join(GOOD[:5]), "line", "has 5 fields, not 6"),
    (",".join(GOOD) + ",", "line", "has 7 fields, not 6"),
    ("2026-11-23,RP_1,REPAYMENT,LN1,\"1,234.56\",SUCCESS", "line", "has 7 fields, not 6"),
    (with_field(1, "RP\udcff1"), "line", "is not valid UTF-8"),
]


@pytest.mark.parametrize("line, field, message", BAD_ROWS)
def test_a_bad_row_is_collected_with_its_line_and_field_and_reported_as_an_invalid_row(line, field, message):
    parsed = parse_partner_file(file_of(D1, line, R2), DAY)
    assert parsed.rows == [D1, R2]
    assert list(parsed.lines) == [2, 4]
    assert [(e.line, e.field) for e in parsed.errors] == [(3, field)]
    assert message in parsed.errors[0].message
    report = reconcile(parsed, [D1, R2])
    assert keyed(report) == [(INVALID_ROW, PARTNER, "", "", 3, field)]
    assert report.counts[INVALID_ROW] == 1 and report.counts[MATCHED] == 2


@pytest.mark.parametrize(
    "line",
    [
        with_field(1, "R" * 64),
        with_field(3, "L" * 64),
        with_field(1, "a-Z_9"),
        with_field(4, "0.01"),
        with_field(4, "999999999999999.99"),
        with_field(4, "10.00"),
    ],
)
def test_the_limits_of_a_valid_row(line):
    parsed = parse_partner_file(file_of(line), DAY)
    assert parsed.errors == [] and len(parsed.rows) == 1


def test_every_bad_field_of_a_row_is_named_but_the_row_is_one_invalid_row():
    line = "2026-11-22,RP 1,REFUND,LN 1,1.5,OK"
    parsed = parse_partner_file(file_of(line), DAY)
    assert [e.field for e in parsed.errors] == ["business_date", "txn_ref", "txn_type", "loan_id", "amount", "status"]
    assert all(e.line == 2 for e in parsed.errors)
    (found,) = reconcile(parsed, []).breaks
    assert (found.kind, found.line, found.fields) == (INVALID_ROW, 2, "business_date;txn_ref;txn_type;loan_id;amount;status")
    assert "status must be SUCCESS or FAILED, not 'OK'" in found.detail


def test_an_empty_line_between_rows_is_an_invalid_row_but_one_final_line_end_is_not():
    parsed = parse_partner_file(file_of(D1, "", R1), DAY)
    assert parsed.errors == [LineError(3, "line", "is empty")]
    assert parse_partner_file(file_of(D1, R1) + b"\n", DAY).errors == [LineError(4, "line", "is empty")]


def test_a_long_bad_value_is_cut_short_in_the_message():
    parsed = parse_partner_file(file_of(with_field(5, "X" * 500)), DAY)
    assert len(parsed.errors[0].message) < 120


def test_a_corrupted_row_of_a_transaction_the_bank_has_is_an_invalid_row_and_the_item_missing_at_the_partner():
    parsed = parse_partner_file(file_of(D1, with_field(4, "1234.5")), DAY)
    report = reconcile(parsed, [D1, R1])
    assert keyed(report) == [(INVALID_ROW, PARTNER, "", "", 3, "amount"), (MISSING_AT_PARTNER, BANK, REPAYMENT, "RP_1", None, "")]


def test_chunk_boundaries_do_not_change_the_result():
    lines = [D1, D2, "", with_field(4, "1.5"), R1, R2, with_field(1, "x\udcffy")] * 7
    for data in (file_of(*lines), file_of(*lines, bom=True, eol="\r\n", final_eol=False), file_of(*lines) + b"\n\n"):
        whole = parse_partner_file(data, DAY)
        for chunk in (1, 2, 3, 7, 50, 51, 52, 100):
            with mock.patch.object(reconciliation, "_CHUNK", chunk):
                assert parse_partner_file(data, DAY) == whole


@pytest.mark.parametrize("enabled", [True, False])
def test_parsing_leaves_the_garbage_collector_as_it_found_it(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        parse_partner_file(file_of(D1, "bad"), DAY)
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError):
            parse_partner_file(b"no header", DAY)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_render_partner_file_round_trips():
    rows = [D1, D2, R1, R2, Row(REPAYMENT, "r", "l", 99_999_999_999_999_999, FAILED)]
    assert parse_partner_file(render_partner_file(rows, DAY), DAY).rows == rows
    assert partner_line(R1, DAY) == text_line(R1)


@pytest.mark.parametrize("fen", [1, 9, 10, 99, 100, 101, 123456, 10**17 - 1])
def test_amount_text_is_format_amount_of_the_yuan(fen):
    assert amount_text(fen) == format_amount(D(fen) / 100)


# -- reconcile -------------------------------------------------------------------------------------


def test_identical_sides_are_balanced():
    report = reconcile([D1, D2, R1, R2], [R2, R1, D2, D1])
    assert report.balanced and report.breaks == ()
    assert report.counts == {MATCHED: 4, INVALID_ROW: 0, MISSING_AT_BANK: 0, MISSING_AT_PARTNER: 0, AMOUNT_MISMATCH: 0, STATUS_MISMATCH: 0, DUPLICATE: 0}
    assert list(report.counts) == list(KINDS)


def test_missing_at_bank_and_at_partner():
    report = reconcile([D1, R1], [D1, R2])
    assert keyed(report) == [(MISSING_AT_BANK, PARTNER, REPAYMENT, "RP_1", None, ""), (MISSING_AT_PARTNER, BANK, REPAYMENT, "RP_2", None, "")]
    missing_at_bank, missing_at_partner = report.breaks
    assert (missing_at_bank.partner, missing_at_bank.bank) == (R1, None)
    assert (missing_at_partner.partner, missing_at_partner.bank) == (None, R2)


def test_a_failed_row_missing_at_the_bank_says_so():
    (found,) = reconcile([R1._replace(status=FAILED)], []).breaks
    assert found.kind == MISSING_AT_BANK and "FAILED at the partner" in found.detail


def test_the_same_reference_in_both_types_is_two_items():
    disbursement = Row(DISBURSEMENT, "X1", "LN1", 100, SUCCESS)
    repayment = Row(REPAYMENT, "X1", "LN1", 100, SUCCESS)
    assert reconcile([disbursement], [disbursement, repayment]).counts[MISSING_AT_PARTNER] == 1
    assert reconcile([disbursement, repayment], [repayment, disbursement]).counts[MATCHED] == 2


@pytest.mark.parametrize(
    "partner, kind, fields, detail",
    [
        (R1._replace(amount_fen=1_234_55), AMOUNT_MISMATCH, "amount", "amount: partner 1234.55, bank 1234.56"),
        (R1._replace(status=FAILED), STATUS_MISMATCH, "status", "status: partner FAILED, bank SUCCESS"),
        (R1._replace(amount_fen=1, status=FAILED), AMOUNT_MISMATCH, "amount;status", "amount: partner 0.01, bank 1234.56; status: partner FAILED, bank SUCCESS"),
        (R1._replace(loan_id="LN-OTHER"), AMOUNT_MISMATCH, "loan_id", "loan_id: partner LN-OTHER, bank LN20261001-0009"),
        (R1._replace(loan_id="LN-OTHER", status=FAILED), AMOUNT_MISMATCH, "loan_id;status", None),
        (R1._replace(loan_id="LN-OTHER", amount_fen=2, status=FAILED), AMOUNT_MISMATCH, "amount;loan_id;status", None),
    ],
)
def test_mismatches(partner, kind, fields, detail):
    (found,) = reconcile(parse_partner_file(file_of(D1, partner), DAY), [R1, D1]).breaks
    assert (found.kind, found.side, found.txn_type, found.txn_ref, found.line, found.fields) == (kind, BOTH, REPAYMENT, "RP_1", 3, fields)
    assert (found.partner, found.bank) == (partner, R1)
    if detail:
        assert found.detail == detail


def test_a_duplicate_in_the_partner_file_the_first_occurrence_is_matched_each_extra_one_is_a_break():
    parsed = parse_partner_file(file_of(R1, D1, R1._replace(amount_fen=5), R1), DAY)
    report = reconcile(parsed, [D1, R1])
    assert report.counts[MATCHED] == 2
    assert keyed(report) == [(DUPLICATE, PARTNER, REPAYMENT, "RP_1", 4, ""), (DUPLICATE, PARTNER, REPAYMENT, "RP_1", 5, "")]
    assert "first at line 2" in report.breaks[0].detail
    assert report.breaks[0].partner == R1._replace(amount_fen=5)


def test_a_duplicate_in_the_partner_file_of_a_mismatched_or_unknown_key():
    parsed = parse_partner_file(file_of(R1._replace(status=FAILED), R1, R2, R2), DAY)
    assert keyed(reconcile(parsed, [R1])) == [
        (MISSING_AT_BANK, PARTNER, REPAYMENT, "RP_2", 4, ""),
        (STATUS_MISMATCH, BOTH, REPAYMENT, "RP_1", 2, "status"),
        (DUPLICATE, PARTNER, REPAYMENT, "RP_1", 3, ""),
        (DUPLICATE, PARTNER, REPAYMENT, "RP_2", 5, ""),
    ]


def test_a_duplicate_in_the_ledger_the_first_occurrence_is_matched_each_extra_one_is_a_break():
    other = R1._replace(amount_fen=7)
    report = reconcile([R1], [R1, other, R1])
    assert report.counts[MATCHED] == 1
    assert keyed(report) == [(DUPLICATE, BANK, REPAYMENT, "RP_1", None, "")] * 2
    assert [b.bank for b in report.breaks] == [other, R1]  # in the ledger's order
    # the first is the one compared: here it differs
    assert [b.kind for b in reconcile([R1], [other, R1]).breaks] == [AMOUNT_MISMATCH, DUPLICATE]


def test_duplicates_on_both_sides():
    report = reconcile([R1, R1], [R1, R1])
    assert report.counts[MATCHED] == 1
    assert sorted(b.side for b in report.breaks) == [BANK, PARTNER]


def test_plain_rows_have_no_lines():
    (found,) = reconcile([R1, R1], [R1]).breaks
    assert found.line is None and "first at" not in found.detail


def test_totals_and_counts():
    partner_file = file_of(D1, D2, R1, R1, R2._replace(amount_fen=3), "junk")
    report = reconcile(parse_partner_file(partner_file, DAY), [D1, D2._replace(status=SUCCESS), R1])
    p, b = report.partner_totals, report.bank_totals
    # partner: D1 12000.00 SUCCESS, D2 5000.00 FAILED, R1 1234.56 twice, R2 0.03; the junk line is not counted
    assert (p.count(), p.amount_fen()) == (5, 12_000_00 + 5_000_00 + 2 * 1_234_56 + 3)
    assert (p.count(DISBURSEMENT), p.amount_fen(DISBURSEMENT)) == (2, 17_000_00)
    assert (p.count(DISBURSEMENT, FAILED), p.amount_fen(DISBURSEMENT, FAILED)) == (1, 5_000_00)
    assert (p.count(REPAYMENT, SUCCESS), p.amount_fen(REPAYMENT, SUCCESS)) == (3, 2_469_15)
    assert (p.count(status=FAILED), p.count(REPAYMENT, FAILED)) == (1, 0)
    assert (b.count(), b.amount_fen(), b.count(DISBURSEMENT, SUCCESS), b.amount_fen(DISBURSEMENT, SUCCESS)) == (3, 18_234_56, 2, 17_000_00)
    assert set(p.by) == {(t, s) for t in TXN_TYPES for s in STATUSES}
    assert report.counts == {MATCHED: 2, INVALID_ROW: 1, MISSING_AT_BANK: 1, MISSING_AT_PARTNER: 0, AMOUNT_MISMATCH: 0, STATUS_MISMATCH: 1, DUPLICATE: 1}


def test_the_order_of_the_breaks_is_by_kind_then_key_and_does_not_depend_on_the_inputs_order():
    partner = [R2._replace(amount_fen=9), Row(REPAYMENT, "A", "L", 1, SUCCESS), D2._replace(status=SUCCESS), Row(DISBURSEMENT, "Z", "L", 1, SUCCESS)]
    bank = [D1, R1, R2, D2, Row(REPAYMENT, "B", "L", 1, SUCCESS)]
    report = reconcile(partner, bank)
    assert [(b.kind, b.txn_type, b.txn_ref) for b in report.breaks] == [
        (MISSING_AT_BANK, DISBURSEMENT, "Z"),
        (MISSING_AT_BANK, REPAYMENT, "A"),
        (MISSING_AT_PARTNER, DISBURSEMENT, "PA-0001"),
        (MISSING_AT_PARTNER, REPAYMENT, "B"),
        (MISSING_AT_PARTNER, REPAYMENT, "RP_1"),
        (AMOUNT_MISMATCH, REPAYMENT, "RP_2"),
        (STATUS_MISMATCH, DISBURSEMENT, "PA-0002"),
    ]
    assert reconcile(partner[::-1], bank[::-1]) == report


def test_a_bank_row_of_an_unknown_type_is_refused():
    with pytest.raises(ValueError):
        reconcile([], [Row("REFUND", "X", "L", 1, SUCCESS)])


# -- the report as CSV -----------------------------------------------------------------------------


def blocks(rendered: bytes) -> list[list[list[str]]]:
    text = rendered.decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    return [list(csv.reader(io.StringIO(block))) for block in text.rstrip("\n").split("\n\n")]


def test_the_report_csv():
    parsed = parse_partner_file(file_of(D1, R1._replace(amount_fen=1, status=FAILED), R2, R2, "2026-11-23,x"), DAY)
    report = reconcile(parsed, [D1, R1, D2, R2])
    summary, totals, counts, breaks = blocks(render_report(report, "P_DEMO", DAY))
    assert summary == [
        ["partner_id", "business_date", "result", "partner_rows", "invalid_rows", "bank_rows", "breaks"],
        ["P_DEMO", "2026-11-23", "BREAKS", "4", "1", "4", "4"],
    ]
    assert totals[0] == ["side", "txn_type", "status", "count", "amount"]
    assert len(totals) == 1 + 2 * 7
    assert ["PARTNER", "DISBURSEMENT", "SUCCESS", "1", "12000.00"] in totals
    assert ["PARTNER", "REPAYMENT", "ALL", "3", "0.03"] in totals
    assert ["PARTNER", "ALL", "ALL", "4", "12000.03"] in totals
    assert ["BANK", "DISBURSEMENT", "FAILED", "1", "5000.00"] in totals
    assert ["BANK", "ALL", "ALL", "4", "18234.57"] in totals
    assert counts == [["kind", "count"], ["MATCHED", "2"], ["INVALID_ROW", "1"], ["MISSING_AT_BANK", "0"], ["MISSING_AT_PARTNER", "1"],
                      ["AMOUNT_MISMATCH", "1"], ["STATUS_MISMATCH", "0"], ["DUPLICATE", "1"]]
    assert breaks[0] == list(reconciliation.BREAKS_HEADER)
    assert [row[:6] for row in breaks[1:]] == [
        ["INVALID_ROW", "PARTNER", "", "", "6", "line"],
        ["MISSING_AT_PARTNER", "BANK", "DISBURSEMENT", "PA-0002", "", ""],
        ["AMOUNT_MISMATCH", "BOTH", "REPAYMENT", "RP_1", "3", "amount;status"],
        ["DUPLICATE", "PARTNER", "REPAYMENT", "RP_2", "5", ""],
    ]
    assert breaks[3][6:12] == ["LN20261001-0009", "0.01", "FAILED", "LN20261001-0009", "1234.56", "SUCCESS"]
    assert breaks[2][6:12] == ["", "", "", "LN20261123-0002", "5000.00", "FAILED"]
    assert breaks[1][12] == "line has 2 fields, not 6 (business_date,txn_ref,txn_type,loan_id,amount,status)"


def test_a_balanced_report_has_an_empty_break_block():
    rendered = render_report(reconcile([D1], [D1]), "P1", DAY)
    summary, _, _, breaks = blocks(rendered)
    assert summary[1][2] == "BALANCED"
    assert breaks == [list(reconciliation.BREAKS_HEADER)]
    assert render_report(reconcile([D1], [D1]), "P1", DAY) == rendered


# -- the bank's side -------------------------------------------------------------------------------


def a_loan(loan_id: str = "LN20261123-0001"):
    loan = book(
        loan_id=loan_id, application_id="AP" + loan_id[2:], branch_code="B1", partner_id="P1", product_code="CONSUMER_STD", customer_id="C1",
        schedule=build_schedule(D("12000.00"), D("0.06"), 3, RepaymentMethod.EQUAL_INSTALLMENT, date(2026, 10, 15)),
        funders=[("B1", D("8400.00")), ("F2", D("3600.00"))], partner_application_no="PA-0001",
    )
    return replace(loan, status=LoanStatus.ACTIVE)


def test_bank_rows_from_postings():
    loan = a_loan()
    failed = a_loan("LN20261123-0002")
    disbursed = accounting.disbursement(loan, DAY)
    failed_disbursement = accounting.disbursement(failed, DAY)
    reversal = failed_disbursement.reversal(DAY)
    allocation = allocate(loan, D("4040.07"), DAY)
    repaid = accounting.repayment(loan, allocation, "RP-77")
    accrual = accounting.accrual(loan, loan.accrual(DAY))
    assert accrual is not None
    postings = [repaid, reversal, accrual, failed_disbursement, disbursed]
    rows = bank_rows(postings, {loan.loan_id: "PA-0001", failed.loan_id: "PA-0002"})
    assert rows == [
        Row(DISBURSEMENT, "PA-0001", loan.loan_id, 12_000_00, SUCCESS),
        Row(DISBURSEMENT, "PA-0002", failed.loan_id, 12_000_00, FAILED),
        Row(REPAYMENT, "RP-77", loan.loan_id, 4_040_07, SUCCESS),
    ]
    assert repayment_row(repaid).amount_fen == 4_040_07  # what the partner collected: the partner clearing debit
    assert disbursement_row(disbursed, "PA-0001") == rows[0]


def test_a_reversal_of_an_earlier_day_s_disbursement_is_left_out():
    earlier = accounting.disbursement(a_loan(), date(2026, 11, 22))
    assert bank_rows([earlier.reversal(DAY)], {}) == []


def test_bank_rows_refuse_what_they_cannot_build():
    loan = a_loan()
    disbursed = accounting.disbursement(loan, DAY)
    other = accounting.disbursement(a_loan("LN2"), DAY)
    with pytest.raises(ValueError, match="partner_application_no"):
        bank_rows([disbursed], {})
    with pytest.raises(ValueError, match="partner_application_no"):
        disbursement_row(disbursed, "")
    with pytest.raises(ValueError, match="does not reverse"):
        disbursement_row(disbursed, "PA-0001", other.reversal(DAY))
    with pytest.raises(ValueError, match="not a disbursement"):
        disbursement_row(disbursed.reversal(DAY), "PA-0001")
    with pytest.raises(ValueError, match="not a repayment"):
        repayment_row(disbursed)


# -- the property: exactly the injected breaks, and the totals ------------------------------------

REF = st.text("abcXYZ019_-", min_size=1, max_size=12)
FEN = st.one_of(st.integers(1, 10**6), st.integers(1, 10**17 - 1))
BANK_ROW = st.builds(Row, st.sampled_from(TXN_TYPES), REF, st.sampled_from(["LN1", "LN2", "LN-3"]), FEN, st.sampled_from(STATUSES))
FATES = ["match", "missing_at_partner", "amount", "status", "amount_status", "loan", "loan_status", "partner_dup", "bank_dup"]
CORRUPTIONS = [
    (0, "2026-11-24", "business_date"), (0, "2026-1-23", "business_date"), (1, "a b", "txn_ref"), (1, "", "txn_ref"),
    (2, "Repayment", "txn_type"), (3, "LN#", "loan_id"), (4, "1.0", "amount"), (4, "0.00", "amount"), (4, "00.10", "amount"),
    (5, "OK", "status"), (None, "", "line"), (None, "a,b", "line"), (None, "\udcff", "line"),
]


def other_status(status: str) -> str:
    return FAILED if status == SUCCESS else SUCCESS


def other_fen(fen: int) -> int:
    """Another valid amount (within 1 fen to 15 digits of yuan)."""
    return fen - 1 if fen > 1 else fen + 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    bank=st.lists(BANK_ROW, max_size=30, unique_by=lambda r: (r.txn_type, r.txn_ref)),
    data=st.data(),
)
def test_exactly_the_injected_breaks_are_found_and_the_totals_add_up(bank, data):
    rng = data.draw(st.randoms(use_true_random=False))
    fates = data.draw(st.lists(st.sampled_from(FATES), min_size=len(bank), max_size=len(bank)))
    partner: list[tuple[int, Row | str]] = []  # the file's entries (a token, then a row or the text of a bad line)
    tokens = iter(range(10**6))
    extra_bank: list[Row] = []
    expected = []  # (kind, side, txn_type, txn_ref, the token of the partner entry it is about or None, fields)
    later: list[tuple[int, tuple[int, Row]]] = []  # (the first's token, the extra entry): partner duplicates, placed after the first

    def entry(value: Row | str) -> int:
        token = next(tokens)
        partner.append((token, value))
        return token

    for row, fate in zip(bank, fates):
        changed = {
            "amount": (row._replace(amount_fen=other_fen(row.amount_fen)), AMOUNT_MISMATCH, "amount"),
            "status": (row._replace(status=other_status(row.status)), STATUS_MISMATCH, "status"),
            "amount_status": (row._replace(amount_fen=other_fen(row.amount_fen), status=other_status(row.status)), AMOUNT_MISMATCH, "amount;status"),
            "loan": (row._replace(loan_id=row.loan_id + "X"), AMOUNT_MISMATCH, "loan_id"),
            "loan_status": (row._replace(loan_id="LN9", status=other_status(row.status)), AMOUNT_MISMATCH, "loan_id;status"),
        }
        if fate == "missing_at_partner":
            expected.append((MISSING_AT_PARTNER, BANK, row.txn_type, row.txn_ref, None, ""))
        elif fate in changed:
            stated, kind, fields = changed[fate]
            expected.append((kind, BOTH, row.txn_type, row.txn_ref, entry(stated), fields))
        else:
            first = entry(row)
            if fate == "partner_dup":
                extra = data.draw(st.sampled_from([row, row._replace(amount_fen=other_fen(row.amount_fen)), row._replace(status=other_status(row.status))]))
                token = next(tokens)
                later.append((first, (token, extra)))
                expected.append((DUPLICATE, PARTNER, row.txn_type, row.txn_ref, token, ""))
            if fate == "bank_dup":
                extra_bank.append(row._replace(amount_fen=data.draw(FEN)))
                expected.append((DUPLICATE, BANK, row.txn_type, row.txn_ref, None, ""))
    known = {(r.txn_type, r.txn_ref) for r in bank}
    for row in data.draw(st.lists(BANK_ROW, max_size=5, unique_by=lambda r: (r.txn_type, r.txn_ref))):
        if (row.txn_type, row.txn_ref) not in known:
            expected.append((MISSING_AT_BANK, PARTNER, row.txn_type, row.txn_ref, entry(row), ""))
    for index, value, field in data.draw(st.lists(st.sampled_from(CORRUPTIONS), max_size=5)):
        fields = text_line(rng.choice(bank) if bank else D1).split(",")
        if index is not None:
            fields[index] = value
        expected.append((INVALID_ROW, PARTNER, "", "", entry(value if index is None else ",".join(fields)), field))
    rng.shuffle(partner)
    for first, extra in later:
        position = next(n for n, (token, _) in enumerate(partner) if token == first)
        partner.insert(rng.randint(position + 1, len(partner)), extra)
    bank_side = bank + extra_bank  # each extra after its first
    line_of = {token: line for line, (token, _) in enumerate(partner, start=2)}
    line_of[None] = None

    want = Counter((kind, side, t, ref, line_of[token], fields) for kind, side, t, ref, token, fields in expected)
    # an empty last line without its line end would be the final line end of the line before it
    final_eol = data.draw(st.booleans()) or (bool(partner) and partner[-1][1] == "")
    payload = file_of(*(value for _, value in partner), bom=data.draw(st.booleans()), eol=data.draw(st.sampled_from(["\n", "\r\n"])), final_eol=final_eol)
    parsed = parse_partner_file(payload, DAY)
    with mock.patch.object(reconciliation, "_CHUNK", data.draw(st.integers(1, 200))):
        assert parse_partner_file(payload, DAY) == parsed

    report = reconcile(parsed, bank_side)

    assert Counter(keyed(report)) == want
    valid = [value for _, value in partner if isinstance(value, Row)]
    for side, rows, totals in ((PARTNER, valid, report.partner_totals), (BANK, bank_side, report.bank_totals)):
        for t in (None, *TXN_TYPES):
            for s in (None, *STATUSES):
                chosen = [r for r in rows if t in (None, r.txn_type) and s in (None, r.status)]
                assert (totals.count(t, s), totals.amount_fen(t, s)) == (len(chosen), sum(r.amount_fen for r in chosen)), (side, t, s)
    assert report.counts[MATCHED] == sum(1 for fate in fates if fate in ("match", "partner_dup", "bank_dup"))
    assert sum(report.counts.values()) == report.counts[MATCHED] + len(report.breaks)
    # every valid partner row and every bank row is accounted for exactly once
    by_side = Counter(b.side for b in report.breaks if b.kind != INVALID_ROW)
    assert len(valid) == report.counts[MATCHED] + by_side[BOTH] + by_side[PARTNER]
    assert len(bank_side) == report.counts[MATCHED] + by_side[BOTH] + by_side[BANK]
    summary = blocks(render_report(report, "P1", DAY))[0][1]
    invalid = sum(1 for key in want.elements() if key[0] == INVALID_ROW)
    assert summary == ["P1", "2026-11-23", "BREAKS" if want else "BALANCED", str(len(valid)), str(invalid), str(len(bank_side)), str(sum(want.values()))]
