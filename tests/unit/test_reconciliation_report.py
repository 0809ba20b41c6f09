"""A reconciliation report read back: its head and its breaks are what ``render_report`` wrote."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.reconciliation import (
    DISBURSEMENT,
    FAILED,
    REPAYMENT,
    SUCCESS,
    Row,
    parse_partner_file,
    reconcile,
    render_report,
)
from chalicelib.domain.reconciliation_report import (
    BREAKS,
    break_of,
    head_summary,
    invalid_file_summary,
    rank,
    read_head,
    summary_of,
)
from tests.unit.test_reconciliation import DAY, documented_examples


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8").split("\n")


def test_the_documented_report_reads_back():
    partner_file, report_bytes = documented_examples()
    lines = iter(_lines(report_bytes))
    head = read_head(lines)
    assert (head.partner_id, head.business_date, head.result) == ("P_DEMO", DAY, BREAKS)
    assert (head.partner_rows, head.invalid_rows, head.bank_rows, head.breaks) == (3, 0, 4, 2)
    assert (head.total("partner"), head.total("bank")) == ("63034.57", "63534.57")
    assert head.totals["partner"][1] == {"txn_type": DISBURSEMENT, "status": FAILED, "count": 1, "amount": "50000.00"}
    assert head.counts == {"MATCHED": 2, "INVALID_ROW": 0, "MISSING_AT_BANK": 0, "MISSING_AT_PARTNER": 1,
                           "AMOUNT_MISMATCH": 0, "STATUS_MISMATCH": 1, "DUPLICATE": 0}
    missing, status = (break_of(line) for line in lines if line)  # the same iterator goes on with the breaks
    assert missing == {
        "kind": "MISSING_AT_PARTNER", "side": "BANK", "txn_type": REPAYMENT, "txn_ref": "RP-7781-0002", "line": None, "fields": [],
        "partner": None, "bank": {"loan_id": "LN20260915-142233-0c9e11d7f3", "amount": "500.00", "status": SUCCESS},
        "detail": "in the bank's ledger, not in the partner's file",
    }
    assert status["kind"] == "STATUS_MISMATCH" and status["line"] == 3 and status["fields"] == ["status"]
    assert status["partner"]["status"] == FAILED and status["bank"]["status"] == SUCCESS


def test_the_stored_summary_and_the_one_read_from_the_report_agree():
    partner_file, _ = documented_examples()
    parsed = parse_partner_file(partner_file + b"bad line\n", DAY)
    report = reconcile(parsed, [Row(DISBURSEMENT, "PA20261123000117", "LN20261123-093015-a3f9c0d2e1", 1200000, SUCCESS)])
    rendered = render_report(report, "P_DEMO", DAY)
    stored = summary_of(report, "P_DEMO", DAY, "reconciliation/reports/P_DEMO/2026-11-23.csv", "v1")
    assert stored == head_summary(read_head(iter(_lines(rendered))), "reconciliation/reports/P_DEMO/2026-11-23.csv", "v1")
    assert (stored["status"], stored["invalid_rows"], stored["breaks"], stored["bank_total"]) == ("BREAKS", 1, 3, "12000.00")
    invalid = invalid_file_summary("P_DEMO", DAY, "x" * 500)
    assert invalid["status"] == "INVALID_FILE" and len(invalid["reason"]) == 200


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["partner_id,business_date,result"],
        ["partner_id,business_date,result,partner_rows,invalid_rows,bank_rows,breaks", "P_DEMO,2026-11-23,MAYBE,1,0,1,0"],
        _lines(documented_examples()[1])[:20],
    ],
)
def test_anything_but_a_report_is_refused(lines):
    with pytest.raises(ValueError):
        read_head(iter(lines))


def test_a_line_that_is_no_break_is_refused():
    for line in ("", "MATCHED,,,,,,,,,,,,", "INVALID_ROW,PARTNER", "kind,side,txn_type"):
        with pytest.raises(ValueError):
            break_of(line)
    assert rank("INVALID_ROW") < rank("MISSING_AT_BANK") < rank("DUPLICATE")


refs = st.text(alphabet="AB-_1", min_size=1, max_size=6)
rows = st.builds(Row, st.sampled_from([DISBURSEMENT, REPAYMENT]), refs, refs, st.integers(1, 10**9), st.sampled_from([SUCCESS, FAILED]))


@settings(max_examples=150, deadline=None)
@given(st.lists(rows, max_size=12), st.lists(rows, max_size=12), st.lists(st.sampled_from(["x", "", "a,b", "2026-11-23,R,REPAYMENT,L,0.00,SUCCESS"]), max_size=3))
def test_every_report_reads_back_as_written(partner, bank, junk):
    from chalicelib.domain.reconciliation import render_partner_file

    data = render_partner_file(partner, DAY) + "\n".join(junk).encode() + (b"\n" if junk else b"")
    report = reconcile(parse_partner_file(data, DAY), bank)
    lines = iter(_lines(render_report(report, "P_X", date(2026, 11, 23))))
    head = read_head(lines)
    assert head.counts == dict(report.counts) and head.breaks == len(report.breaks)
    found = [break_of(line) for line in lines if line]
    assert [(b["kind"], b["side"], b["txn_ref"] or "", b["line"]) for b in found] == [(b.kind, b.side, b.txn_ref, b.line) for b in report.breaks]
    assert [b["detail"] for b in found] == [b.detail for b in report.breaks]
