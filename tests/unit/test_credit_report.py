"""The daily credit-report file (征信报送): records from loans, the file, its checks, masking."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.classification import LoanClass
from chalicelib.domain.credit_report import (
    FILE_TYPE,
    FORMAT_VERSION,
    AccountStatus,
    CreditRecord,
    CreditReportError,
    Personal,
    ReportEvent,
    assemble,
    parse,
    render,
    reportable,
)
from chalicelib.domain.loan import Loan, LoanStatus, book
from chalicelib.domain.repayment import allocate
from chalicelib.domain.schedule import RepaymentMethod, build_schedule

JAN15 = date(2026, 1, 15)
ONE_DAY = timedelta(days=1)
Z = D("0.00")
# synthetic people: valid check characters, not real persons
ZHANG = Personal("张三", "110101199003074514")
OUYANG = Personal("欧阳娜娜", "11010519851231007X")
INSTITUTION = "B1234H211010001"
E, S = ReportEvent, AccountStatus


def loan(amount="12000.00", term=3, method=RepaymentMethod.EQUAL_INSTALLMENT, start=JAN15, loan_id="LN20260115-090000-aaaa000001") -> Loan:
    # 12000.00 at 6%, 3 months, equal installments: 3980.07+60.00, 3999.97+40.10, 4019.96+20.10
    schedule = build_schedule(D(amount), D("0.06"), term, method, start)
    booked = book(loan_id=loan_id, application_id="AP" + loan_id[2:], branch_code="BR_DONGCHENG", partner_id="P1",
                  product_code="CONSUMER_STD", customer_id="CU1", schedule=schedule, funders=[("BR_DONGCHENG", D(amount))])
    return replace(booked, status=LoanStatus.ACTIVE)


def record(l: Loan, day: date, repaid=Z, cls=LoanClass.NORMAL, who=ZHANG) -> CreditRecord:
    return CreditRecord.from_loan(l, day, repaid, cls, who)


# -- records from loans --------------------------------------------------------------------------


def test_a_loan_disbursed_on_the_day():
    r = record(loan(), JAN15)
    assert (r.event, r.account_status, r.open_date, r.maturity_date, r.currency) == (E.NEW, S.NORMAL, JAN15, date(2026, 4, 15), "CNY")
    assert (r.credit_amount, r.outstanding_principal, r.amount_due, r.amount_repaid) == (D("12000.00"), D("12000.00"), D("4040.07"), Z)
    assert (r.overdue_periods, r.overdue_amount, r.overdue_principal, r.days_past_due) == (0, Z, Z, 0)
    assert (r.borrower_name, r.id_type, r.id_number) == ("张三", "RESIDENT_ID", "110101199003074514")


def test_a_loan_disbursed_and_repaid_in_part_on_the_same_day():
    l = loan()
    paid = allocate(l, D("1000.00"), JAN15).loan  # the first installment's interest 60.00, then 940.00 of its principal
    r = record(paid, JAN15, repaid=D("1000.00"))
    assert (r.event, r.account_status, r.amount_repaid, r.outstanding_principal) == (E.NEW, S.NORMAL, D("1000.00"), D("11060.00"))


def test_a_loan_disbursed_and_settled_on_the_same_day():
    l = loan()
    quote = l.settlement(JAN15)
    assert quote.total == D("12000.00")  # no interest yet on the day it is lent
    settled = allocate(l, quote.total, JAN15).loan
    assert reportable(settled, JAN15) and not reportable(settled, JAN15 + ONE_DAY)
    r = record(settled, JAN15, repaid=quote.total)
    assert (r.event, r.account_status, r.outstanding_principal, r.amount_due, r.amount_repaid) == (E.SETTLED, S.SETTLED, Z, Z, D("12000.00"))
    assert r.maturity_date == date(2026, 4, 15)  # as contracted, though the schedule ends today
    report = parse(render("BR_DONGCHENG", INSTITUTION, JAN15, [r]))
    assert report.records == (r,)


def test_a_repayment_on_a_later_day():
    l = loan()
    day = date(2026, 2, 15)
    paid = allocate(l, D("4040.07"), day).loan
    r = record(paid, day, repaid=D("4040.07"))
    assert (r.event, r.account_status, r.outstanding_principal, r.amount_due) == (E.REPAID, S.NORMAL, D("8019.93"), D("4040.07"))
    # the day after: nothing happened, this period is the second installment's
    r = record(paid, day + ONE_DAY)
    assert (r.event, r.amount_due, r.amount_repaid) == (E.UPDATE, D("4040.07"), Z)


def test_an_installment_falling_overdue():
    l = loan()
    assert record(l, date(2026, 2, 15)).event is E.UPDATE  # due today: not yet overdue
    r = record(l, date(2026, 2, 16), cls=LoanClass.SPECIAL_MENTION)
    assert (r.event, r.account_status, r.days_past_due, r.overdue_periods) == (E.OVERDUE, S.OVERDUE, 1, 1)
    assert (r.overdue_amount, r.overdue_principal, r.loan_class) == (D("4040.07"), D("3980.07"), LoanClass.SPECIAL_MENTION)
    r = record(l, date(2026, 2, 17), cls=LoanClass.SPECIAL_MENTION)
    assert (r.event, r.account_status) == (E.UPDATE, S.OVERDUE)  # still overdue, nothing new
    r = record(l, date(2026, 3, 16))  # the second installment falls overdue too
    assert (r.event, r.overdue_periods, r.days_past_due) == (E.OVERDUE, 2, 29)


def test_the_overdue_amount_holds_the_accrued_penalty():
    l = loan()
    day = date(2026, 2, 20)  # five days of penalty on 3980.07 at 6% x 1.5 / 360 = 0.99501... -> 1.00 a day
    accrued = l.accrued(l.accrual(day))
    r = record(accrued, day)
    assert r.overdue_amount == D("4040.07") + D("5.00")
    assert r.overdue_principal == D("3980.07")


@pytest.mark.parametrize(
    "age, bucket",
    [(1, None), (30, None), (31, "31_60"), (60, "31_60"), (61, "61_90"), (90, "61_90"), (91, "91_180"), (180, "91_180"),
     (181, "over_180"), (700, "over_180")],
)
def test_overdue_principal_by_age_bucket(age, bucket):
    l = loan(amount="5000.00", term=1, method=RepaymentMethod.BULLET)  # one installment, due 15 Feb
    r = record(l, date(2026, 2, 15) + age * ONE_DAY)
    buckets = {
        "31_60": r.overdue_principal_31_60, "61_90": r.overdue_principal_61_90,
        "91_180": r.overdue_principal_91_180, "over_180": r.overdue_principal_over_180,
    }
    assert buckets == {k: (D("5000.00") if k == bucket else Z) for k in buckets}
    assert r.days_past_due == age and r.overdue_principal == D("5000.00")


def test_buckets_age_each_installment_on_its_own():
    l = loan(amount="12000.00", term=12, method=RepaymentMethod.EQUAL_PRINCIPAL)  # 1000.00 principal a month
    day = date(2026, 10, 20)
    # due 15th of Feb..Oct; ages 247, 219, 188 (over 180), 158, 127, 97 (91-180), 66 (61-90), 35 (31-60), 5
    r = record(l, day)
    assert r.overdue_periods == 9 and r.days_past_due == 247
    assert (r.overdue_principal_over_180, r.overdue_principal_91_180, r.overdue_principal_61_90, r.overdue_principal_31_60) == (
        D("3000.00"), D("3000.00"), D("1000.00"), D("1000.00"))
    assert r.overdue_principal == D("9000.00")  # the buckets and the 1-30 days' 1000.00


def test_loans_not_reported():
    l = loan()
    with pytest.raises(CreditReportError, match="DISBURSING"):
        record(replace(l, status=LoanStatus.DISBURSING), JAN15)
    with pytest.raises(CreditReportError, match="VOID"):
        record(replace(l, status=LoanStatus.VOID), JAN15)
    with pytest.raises(CreditReportError, match="not yet disbursed"):
        record(l, JAN15 - ONE_DAY)
    with pytest.raises(CreditReportError, match="negative"):
        record(l, JAN15, repaid=D("-1.00"))
    assert not reportable(l, JAN15 - ONE_DAY) and reportable(l, JAN15)
    assert not reportable(replace(l, status=LoanStatus.VOID), JAN15)


# -- the file ------------------------------------------------------------------------------------


def sample_records() -> list[CreditRecord]:
    day = date(2026, 3, 20)
    a = loan(loan_id="LN20260115-090000-aaaa000002")  # first installment 33 days overdue
    b = allocate(loan(loan_id="LN20260115-090000-aaaa000001"), D("4040.07"), date(2026, 2, 15)).loan  # 1st paid, 2nd 5 days overdue
    return [record(a, day, cls=LoanClass.SPECIAL_MENTION, who=ZHANG), record(b, day, cls=LoanClass.SPECIAL_MENTION, who=OUYANG)]


DAY = date(2026, 3, 20)


def test_the_file_s_lines():
    data = render("BR_DONGCHENG", INSTITUTION, DAY, sample_records())
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == f"H|{FILE_TYPE}|{FORMAT_VERSION}|{INSTITUTION}|BR_DONGCHENG|2026-03-20|2"
    assert lines[1] == (
        "D|LN20260115-090000-aaaa000001|UPDATE|2026-01-15|2026-04-15|CNY|12000.00|8019.93|4040.06|0.00|1|4040.07|3999.97"
        "|0.00|0.00|0.00|0.00|5|SPECIAL_MENTION|OVERDUE|欧阳娜娜|RESIDENT_ID|11010519851231007X"
    )
    assert lines[2] == (
        "D|LN20260115-090000-aaaa000002|UPDATE|2026-01-15|2026-04-15|CNY|12000.00|12000.00|4040.06|0.00|2|8080.14|7980.04"
        "|3980.07|0.00|0.00|0.00|33|SPECIAL_MENTION|OVERDUE|张三|RESIDENT_ID|110101199003074514"
    )
    body = (lines[1] + "\n" + lines[2] + "\n").encode("utf-8")
    # this period: the third installment, 4019.96 + 20.10; overdue: 3980.07 + 60.00 (+ 3999.97 + 40.10)
    # control totals: 8019.93 + 12000.00; 4040.07 + 8080.14
    assert lines[3] == f"T|2|20019.93|12120.21|{hashlib.sha256(body).hexdigest()}"
    assert lines[4] == "" and data.endswith(b"\n") and b"\r" not in data


def test_render_then_parse_gives_the_records_back():
    records = sample_records()
    data = render("BR_DONGCHENG", INSTITUTION, DAY, records)
    report = parse(data)
    assert report.records == tuple(sorted(records, key=lambda r: r.account_id))
    assert (report.file_type, report.version, report.institution_code, report.branch_code, report.report_date) == (
        FILE_TYPE, FORMAT_VERSION, INSTITUTION, "BR_DONGCHENG", DAY)
    assert (report.total_outstanding_principal, report.total_overdue_amount) == (D("20019.93"), D("12120.21"))
    assert report.body_sha256 == data.decode().split("\n")[-2].split("|")[-1]


def test_the_same_records_in_any_order_give_the_same_bytes():
    records = sample_records()
    assert render("BR_DONGCHENG", INSTITUTION, DAY, records) == render("BR_DONGCHENG", INSTITUTION, DAY, records[::-1])


def test_an_empty_day():
    data = render("BR_DONGCHENG", INSTITUTION, DAY, [])
    assert data.decode() == (
        f"H|{FILE_TYPE}|{FORMAT_VERSION}|{INSTITUTION}|BR_DONGCHENG|2026-03-20|0\n"
        f"T|0|0.00|0.00|{hashlib.sha256(b'').hexdigest()}\n"
    )
    assert parse(data).records == ()


def test_render_refuses_what_the_format_cannot_carry():
    (r, other) = sample_records()
    with pytest.raises(CreditReportError, match="more than once"):
        render("BR_DONGCHENG", INSTITUTION, DAY, [r, r])
    with pytest.raises(CreditReportError, match="borrower_name"):
        render("BR_DONGCHENG", INSTITUTION, DAY, [replace(r, borrower_name="张|三")])
    with pytest.raises(CreditReportError, match="borrower_name"):
        render("BR_DONGCHENG", INSTITUTION, DAY, [replace(r, borrower_name="张三\n")])
    with pytest.raises(CreditReportError, match="id_number"):
        render("BR_DONGCHENG", INSTITUTION, DAY, [replace(r, id_number="")])
    with pytest.raises(CreditReportError, match="whole fen"):
        render("BR_DONGCHENG", INSTITUTION, DAY, [replace(r, amount_repaid=D("0.001"))])
    with pytest.raises(CreditReportError, match="negative"):
        render("BR_DONGCHENG", INSTITUTION, DAY, [replace(r, days_past_due=-1)])
    with pytest.raises(CreditReportError, match="institution_code"):
        render("BR_DONGCHENG", "B1|X", DAY, [r])
    with pytest.raises(CreditReportError, match="branch_code"):
        render("BR|X", INSTITUTION, DAY, [r])


# -- parse checks everything ---------------------------------------------------------------------


def good() -> bytes:
    return render("BR_DONGCHENG", INSTITUTION, DAY, sample_records())


def rehash(text: str) -> bytes:
    """``text`` with its trailer's hash made right again, to test the other checks alone."""
    lines = text.split("\n")
    body = "".join(line + "\n" for line in lines[1:-2]).encode()
    trailer = lines[-2].split("|")
    trailer[-1] = hashlib.sha256(body).hexdigest()
    lines[-2] = "|".join(trailer)
    return "\n".join(lines).encode()


def test_a_changed_body_breaks_the_hash():
    with pytest.raises(CreditReportError, match="SHA-256"):
        parse(good().replace(b"|33|", b"|34|"))


def test_the_header_count_must_match():
    with pytest.raises(CreditReportError, match="the header says 3"):
        parse(good().replace(b"|2026-03-20|2\n", b"|2026-03-20|3\n"))


def test_the_trailer_count_must_match():
    with pytest.raises(CreditReportError, match="the trailer 1"):
        parse(good().replace(b"\nT|2|", b"\nT|1|"))


def test_a_dropped_record_is_caught():
    lines = good().decode().split("\n")
    with pytest.raises(CreditReportError, match="1 records"):
        parse(rehash("\n".join(lines[:1] + lines[2:])))


def test_the_control_totals_must_match():
    with pytest.raises(CreditReportError, match="control totals"):
        parse(good().replace(b"T|2|20019.93|", b"T|2|20019.94|"))
    with pytest.raises(CreditReportError, match="control totals"):
        parse(good().replace(b"|12120.21|", b"|12120.22|"))
    # a record's amount changed and re-hashed: the totals still catch it
    with pytest.raises(CreditReportError, match="control totals"):
        parse(rehash(good().decode().replace("|8019.93|", "|8019.94|")))


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda b: b.replace(b"\n", b"\r\n"), "LF"),
        (lambda b: b[:-1], "LF"),
        (lambda b: b"\xff" + b, "UTF-8"),
        (lambda b: b"T|0|0.00|0.00|" + b"0" * 64 + b"\n", "at least a header"),
        (lambda b: b.replace(b"H|LOANACCT|1.0", b"H|LOANACCT|2.0"), "not a LOANACCT 1.0"),
        (lambda b: b.replace(b"H|", b"X|", 1), "the first line is the header"),
        (lambda b: b.replace(b"\nT|", b"\nX|"), "the last line is the trailer"),
        (lambda b: b.replace(b"|2026-03-20|2\n", b"|20260320|2\n"), "YYYY-MM-DD"),
        (lambda b: b.replace(b"|2026-03-20|2\n", b"|2026-03-20|two\n"), "not counts"),
        (lambda b: b.replace(b"T|2|20019.93|", b"T|2|20019.9|"), "malformed"),
        (lambda b: rehash(b.decode().replace("|33|", "|033|")), "days_past_due"),
        (lambda b: rehash(b.decode().replace("|8019.93|", "|8019.930|")), "outstanding_principal"),
        (lambda b: rehash(b.decode().replace("|UPDATE|", "|CHANGED|", 1)), "event"),
        (lambda b: rehash(b.decode().replace("|2026-04-15|", "|2026-4-15|", 1)), "maturity_date"),
        (lambda b: rehash(b.decode().replace("|RESIDENT_ID|", "||", 1)), "id_type"),
        (lambda b: rehash(b.decode().replace("|CNY|", "|CNY|X|", 1)), "fields"),
    ],
)
def test_a_malformed_file_is_refused(mangle, message):
    with pytest.raises(CreditReportError, match=message):
        parse(mangle(good()))


def test_a_duplicate_account_is_refused_on_parse():
    header, first, second, trailer, end = good().decode().split("\n")
    # the first account twice, the counts and totals made right, so only the duplicate is wrong
    trailer = trailer.replace("T|2|20019.93|12120.21|", "T|3|28039.86|16160.28|")
    doubled = "\n".join([header.replace("|2026-03-20|2", "|2026-03-20|3"), first, second, first, trailer, end])
    with pytest.raises(CreditReportError, match="more than once"):
        parse(rehash(doubled))


# -- personal data -------------------------------------------------------------------------------


def test_records_never_show_raw_personal_data():
    records = sample_records()
    report = parse(render("BR_DONGCHENG", INSTITUTION, DAY, records))
    for shown in [repr(records[0]), str(records[0]), repr(records), repr(report), str(report), repr(ZHANG), str(OUYANG)]:
        for raw in ("110101199003074514", "11010519851231007X", "张三", "欧阳娜娜"):
            assert raw not in shown
    assert "110101********4514" in repr(records[0]) and "'张*'" in repr(records[0])
    assert repr(OUYANG) == "Personal(name='欧***', id_type='RESIDENT_ID', id_number='110105********007X')"


def test_errors_never_echo_personal_data():
    (r, _) = sample_records()
    with pytest.raises(CreditReportError) as caught:
        render("BR_DONGCHENG", INSTITUTION, DAY, [replace(r, borrower_name="张三|110101199003074514")])
    assert "110101199003074514" not in str(caught.value) and "张三" not in str(caught.value)


# -- any records round-trip ----------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=D("99999999.99"), places=2).map(lambda d: d.quantize(D("0.01")))
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="|"), min_size=1, max_size=20
).filter(lambda s: s == s.strip())
records_strategy = st.builds(
    CreditRecord,
    account_id=st.from_regex(r"LN[0-9]{8}-[0-9]{6}-[0-9a-f]{10}", fullmatch=True),
    event=st.sampled_from(ReportEvent),
    open_date=st.dates(),
    maturity_date=st.dates(),
    currency=st.just("CNY"),
    credit_amount=amounts,
    outstanding_principal=amounts,
    amount_due=amounts,
    amount_repaid=amounts,
    overdue_periods=st.integers(0, 360),
    overdue_amount=amounts,
    overdue_principal=amounts,
    overdue_principal_31_60=amounts,
    overdue_principal_61_90=amounts,
    overdue_principal_91_180=amounts,
    overdue_principal_over_180=amounts,
    days_past_due=st.integers(0, 10000),
    loan_class=st.sampled_from(LoanClass),
    account_status=st.sampled_from(AccountStatus),
    borrower_name=texts,
    id_type=st.just("RESIDENT_ID"),
    id_number=st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
)


@settings(max_examples=100, deadline=None)
@given(records=st.lists(records_strategy, max_size=8, unique_by=lambda r: r.account_id), day=st.dates())
def test_any_records_round_trip(records, day):
    report = parse(render("BR_DONGCHENG", INSTITUTION, day, records))
    assert report.records == tuple(sorted(records, key=lambda r: r.account_id))
    assert report.report_date == day
    assert report.total_outstanding_principal == sum((r.outstanding_principal for r in records), Z)
    assert report.total_overdue_amount == sum((r.overdue_amount for r in records), Z)


# -- assembled from the segments' parts ----------------------------------------------------------


def part(records) -> str:
    return "".join(r.line() + "\n" for r in sorted(records, key=lambda r: r.account_id))


@settings(max_examples=100, deadline=None)
@given(records=st.lists(records_strategy, max_size=12, unique_by=lambda r: r.account_id), cuts=st.lists(st.integers(0, 3), max_size=12))
def test_parts_in_any_split_assemble_into_the_file_render_writes(records, cuts):
    """However the loans fall into segments and chunks (parts, some empty), the file is the same bytes."""
    groups: dict[int, list] = {i: [] for i in range(4)}
    for r, i in zip(records, cuts + [0] * len(records)):
        groups[i].append(r)
    parts = [part(g) for g in groups.values()]
    assert assemble("BR_DONGCHENG", INSTITUTION, DAY, parts) == render("BR_DONGCHENG", INSTITUTION, DAY, records)


def test_an_account_in_two_parts_is_refused():
    (a, b) = sample_records()
    with pytest.raises(CreditReportError, match="more than once"):
        assemble("BR_DONGCHENG", INSTITUTION, DAY, [part([a, b]), part([b])])


def test_a_part_out_of_order_or_cut_is_refused():
    (a, b) = sample_records()
    lines = part([a, b]).splitlines(keepends=True)
    with pytest.raises(CreditReportError, match="not sorted"):
        assemble("BR_DONGCHENG", INSTITUTION, DAY, ["".join(reversed(lines))])
    with pytest.raises(CreditReportError, match="end with LF"):
        assemble("BR_DONGCHENG", INSTITUTION, DAY, [part([a, b])[:-1]])
    with pytest.raises(CreditReportError, match="an account line"):
        assemble("BR_DONGCHENG", INSTITUTION, DAY, [lines[0][:40] + "\n"])


# -- the documented example ----------------------------------------------------------------------


def test_the_documented_example_is_a_valid_file_and_what_the_code_writes():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "credit-report-format.md").read_text(encoding="utf-8")
    example = doc.split("```text\n", 1)[1].split("```", 1)[0].encode("utf-8")
    report = parse(example)
    assert report.branch_code == "BR_DONGCHENG" and len(report.records) == 3
    day = date(2026, 3, 20)
    overdue = loan(loan_id="LN20260115-093012-5be0c4d1a7")
    new = loan(amount="5000.00", term=6, method=RepaymentMethod.EQUAL_PRINCIPAL, start=day, loan_id="LN20260320-101500-0f3a9e2c11")
    early = loan(amount="3000.00", start=date(2026, 2, 20), loan_id="LN20260220-142233-9d81b07e3f")
    settled = allocate(early, early.settlement(day).total, day)
    records = [
        record(overdue, day, cls=LoanClass.SPECIAL_MENTION, who=ZHANG),
        record(new, day, who=Personal("李小红", "110102199206150026")),
        record(settled.loan, day, repaid=settled.amount, who=Personal("王五", "11010519851231007X")),
    ]
    assert render("BR_DONGCHENG", "TEST0000000001", day, records) == example


def test_the_loan_keeps_what_was_repaid_on_its_last_day_of_repayments():
    """The credit record's amount repaid on T comes from the loan itself (no ledger read per loan)."""
    day = date(2026, 2, 15)
    once = allocate(loan(), D("100.00"), day).loan
    twice = allocate(once, D("50.50"), day).loan
    assert (once.repaid_on(day), twice.repaid_on(day), twice.repaid_on(day + ONE_DAY)) == (D("100.00"), D("150.50"), Z)
    later = allocate(twice, D("10.00"), day + ONE_DAY).loan
    assert (later.repaid_on(day), later.repaid_on(day + ONE_DAY)) == (Z, D("10.00"))
    assert record(twice, day, repaid=twice.repaid_on(day)).amount_repaid == D("150.50")
