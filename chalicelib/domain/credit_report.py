"""The daily credit-report file (征信报送) of a branch: each loan's account state on day T.

Modelled on the PBoC personal credit data submission, personal lending account
record (个人借贷账户信息记录), simplified to one flat record per loan and day.
The format is documented, with an example, in ``docs/credit-report-format.md``:
pipe-delimited UTF-8 text, LF line ends; a header line (``H``), one account
line per loan (``D``), a trailer line (``T``) with the record count, control
totals (outstanding principal, overdue amounts) and the SHA-256 of the body
(the ``D`` lines, each with its LF).

- ``CreditRecord.from_loan(loan, day, repaid_on_day, loan_class, personal)``:
  a loan's record for day T (``reportable`` says which loans a day's file
  holds: active ones, and those settled on T);
- ``render(branch_code, institution_code, day, records) -> bytes``: the file,
  records sorted by account id, so the same records always give the same bytes;
- ``assemble(branch_code, institution_code, day, parts) -> bytes``: the same
  file from parts of sorted lines (the day end's segments each write one);
- ``parse(bytes) -> CreditReport``: the file read back and checked (count,
  totals, hash); ``parse(render(...)).records`` equals the records rendered.

**Personal data.** Each record holds the borrower's name and ID number in
clear: the bureau needs them. They come from the caller (unsealed only for
rendering) and the file therefore holds raw personal data: the use case must
seal it (envelope-encrypt, as every stored personal datum) before it is
stored anywhere, must never log the file, a line or a field of it, and should
drop the unsealed bytes as soon as they are sealed. ``Personal``,
``CreditRecord`` and ``CreditReport`` mask the name and ID number in
``repr``/``str``, so a record in a log line or a traceback shows no raw number.

Pure: no I/O.
"""
from __future__ import annotations

import functools
import hashlib
import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import get_type_hints

from chalicelib.domain.classification import LoanClass
from chalicelib.domain.loan import Loan, LoanStatus
from chalicelib.domain.masking import mask_id_number, mask_name
from chalicelib.domain.money import ZERO, format_amount
from chalicelib.domain.schedule import add_months

FILE_TYPE = "LOANACCT"  # 个人借贷账户信息
FORMAT_VERSION = "1.0"
HEADER, DETAIL, TRAILER = "H", "D", "T"
SEPARATOR = "|"
CURRENCY = "CNY"


class CreditReportError(ValueError):
    """A record or a file that breaks the format."""


class ReportEvent(str, Enum):
    """What happened to the account on day T (报告时点), one per record, by precedence."""

    SETTLED = "SETTLED"  # settled (结清) on T; wins over NEW for a loan disbursed and settled on T
    NEW = "NEW"  # disbursed on T (新开户)
    REPAID = "REPAID"  # a repayment on T (实际还款)
    OVERDUE = "OVERDUE"  # an installment fell overdue on T (its due date was T-1, unpaid)
    UPDATE = "UPDATE"  # none of these: the daily state (账户状态更新)


class AccountStatus(str, Enum):
    NORMAL = "NORMAL"  # 正常
    OVERDUE = "OVERDUE"  # 逾期
    SETTLED = "SETTLED"  # 结清


_FORBIDDEN = re.compile(r"[|\r\n]")
_INSTITUTION = re.compile(r"[0-9A-Za-z]{1,32}")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_AMOUNT = re.compile(r"-?[0-9]+\.[0-9]{2}")
_COUNT = re.compile(r"0|[1-9][0-9]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value or _FORBIDDEN.search(value) or value != value.strip():
        raise CreditReportError(f"{name}: must be non-empty text without '|', line breaks or edge spaces")
    return value


@dataclass(frozen=True, repr=False)
class Personal:
    """The borrower's data the bureau needs, unsealed by the caller for rendering only."""

    name: str
    id_number: str
    id_type: str = "RESIDENT_ID"  # 居民身份证 (PBoC code 10)

    def __repr__(self) -> str:
        return f"Personal(name={mask_name(self.name)!r}, id_type={self.id_type!r}, id_number={mask_id_number(self.id_number)!r})"


@dataclass(frozen=True, repr=False)
class CreditRecord:
    """One loan's account line (``D``): its fields in file order."""

    account_id: str  # the loan id
    event: ReportEvent
    open_date: date
    maturity_date: date
    currency: str
    credit_amount: Decimal  # the amount lent
    outstanding_principal: Decimal
    amount_due: Decimal  # this period's scheduled principal + interest (本期应还)
    amount_repaid: Decimal  # repaid on T (本日实还)
    overdue_periods: int  # installments overdue (当前逾期期数)
    overdue_amount: Decimal  # unpaid principal, interest, penalty of them (当前逾期总额)
    overdue_principal: Decimal
    overdue_principal_31_60: Decimal  # by the age of each overdue installment (days since its due date)
    overdue_principal_61_90: Decimal
    overdue_principal_91_180: Decimal
    overdue_principal_over_180: Decimal
    days_past_due: int
    loan_class: LoanClass  # 五级分类
    account_status: AccountStatus
    borrower_name: str
    id_type: str
    id_number: str

    def __repr__(self) -> str:
        return (
            f"CreditRecord(account_id={self.account_id!r}, event={self.event.value}, status={self.account_status.value}, "
            f"outstanding_principal={format_amount(self.outstanding_principal)}, overdue_amount={format_amount(self.overdue_amount)}, "
            f"days_past_due={self.days_past_due}, class={self.loan_class.value}, borrower={mask_name(self.borrower_name)!r}, "
            f"id_type={self.id_type!r}, id_number={mask_id_number(self.id_number)!r})"
        )

    @classmethod
    def from_loan(
        cls, loan: Loan, day: date, repaid_on_day: Decimal, loan_class: LoanClass, personal: Personal
    ) -> "CreditRecord":
        """The record of ``loan`` as it is after the close of ``day``; ``repaid_on_day``: what was
        repaid on it that day (from the ledger), ``loan_class``: the day end's classification."""
        if loan.status not in (LoanStatus.ACTIVE, LoanStatus.SETTLED):
            raise CreditReportError(f"a {loan.status.value} loan is not reported")
        if day < loan.start_date:
            raise CreditReportError("the loan was not yet disbursed on that day")
        if repaid_on_day < 0:
            raise CreditReportError("the amount repaid cannot be negative")
        settled = loan.status is LoanStatus.SETTLED
        overdue = loan.overdue(day)
        buckets = {key: ZERO for key in ("31_60", "61_90", "91_180", "over_180")}
        for i in overdue:
            age = (day - i.due_date).days
            key = None if age <= 30 else "31_60" if age <= 60 else "61_90" if age <= 90 else "91_180" if age <= 180 else "over_180"
            if key:
                buckets[key] += i.unpaid_principal
        current = None if settled else loan.current(day)
        dpd = loan.days_past_due(day)
        if settled and loan.settled_on == day:
            event = ReportEvent.SETTLED
        elif loan.start_date == day:
            event = ReportEvent.NEW
        elif repaid_on_day > 0:
            event = ReportEvent.REPAID
        elif any(i.due_date == day - timedelta(days=1) for i in overdue):
            event = ReportEvent.OVERDUE
        else:
            event = ReportEvent.UPDATE
        maturity = add_months(loan.start_date, loan.term_months) if loan.term_months else max(i.due_date for i in loan.installments)
        return cls(
            account_id=loan.loan_id,
            event=event,
            open_date=loan.start_date,
            maturity_date=maturity,
            currency=CURRENCY,
            credit_amount=loan.amount,
            outstanding_principal=loan.outstanding_principal,
            amount_due=current.principal + current.interest if current is not None else ZERO,
            amount_repaid=repaid_on_day,
            overdue_periods=len(overdue),
            overdue_amount=sum((i.unpaid for i in overdue), ZERO),
            overdue_principal=sum((i.unpaid_principal for i in overdue), ZERO),
            overdue_principal_31_60=buckets["31_60"],
            overdue_principal_61_90=buckets["61_90"],
            overdue_principal_91_180=buckets["91_180"],
            overdue_principal_over_180=buckets["over_180"],
            days_past_due=dpd,
            loan_class=loan_class,
            account_status=AccountStatus.SETTLED if settled else AccountStatus.OVERDUE if dpd > 0 else AccountStatus.NORMAL,
            borrower_name=personal.name,
            id_type=personal.id_type,
            id_number=personal.id_number,
        )

    # -- the line --------------------------------------------------------------------------------

    def line(self) -> str:
        values = [DETAIL]
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Enum):
                text = value.value
            elif isinstance(value, Decimal):
                if value != value.quantize(Decimal("0.01")):
                    raise CreditReportError(f"{f.name}: not in whole fen")
                text = format_amount(value)
            elif isinstance(value, date):
                text = value.isoformat()
            elif isinstance(value, int):
                if value < 0:
                    raise CreditReportError(f"{f.name}: cannot be negative")
                text = str(value)
            else:
                text = value
            values.append(_text(f.name, text))
        return SEPARATOR.join(values)

    @classmethod
    def from_line(cls, line: str) -> "CreditRecord":
        parts = line.split(SEPARATOR)
        specs = fields(cls)
        if len(parts) != len(specs) + 1 or parts[0] != DETAIL:
            raise CreditReportError(f"an account line has {len(specs) + 1} fields, the first {DETAIL}")
        values = {}
        types = _field_types()
        for f, text in zip(specs, parts[1:]):
            kind = types[f.name]
            try:
                if isinstance(kind, type) and issubclass(kind, Enum):
                    value = kind(text)
                elif kind is Decimal:
                    if not _AMOUNT.fullmatch(text):
                        raise ValueError("not an amount with 2 decimals")
                    value = Decimal(text)
                elif kind is date:
                    value = date.fromisoformat(text)
                    if value.isoformat() != text:
                        raise ValueError("not a YYYY-MM-DD date")
                elif kind is int:
                    if not _COUNT.fullmatch(text):
                        raise ValueError("not a count")
                    value = int(text)
                else:
                    value = _text(f.name, text)
            except ValueError as exc:
                raise CreditReportError(f"{f.name}: {exc}") from None
            values[f.name] = value
        return cls(**values)


@functools.cache
def _field_types() -> dict[str, type]:
    return get_type_hints(CreditRecord)


@dataclass(frozen=True)
class CreditReport:
    """A file read back by ``parse``; its records mask personal data in ``repr``."""

    file_type: str
    version: str
    institution_code: str
    branch_code: str
    report_date: date
    records: tuple[CreditRecord, ...]
    total_outstanding_principal: Decimal
    total_overdue_amount: Decimal
    body_sha256: str


def reportable(loan: Loan, day: date) -> bool:
    """Whether the file of ``day`` holds the loan: disbursed by then and active, or settled that day."""
    if loan.start_date > day:
        return False
    return loan.status is LoanStatus.ACTIVE or (loan.status is LoanStatus.SETTLED and loan.settled_on == day)


def render(branch_code: str, institution_code: str, day: date, records: Iterable[CreditRecord]) -> bytes:
    """The file of ``branch_code`` for ``day``: header, the records by account id, trailer."""
    return assemble(branch_code, institution_code, day, ["".join(r.line() + "\n" for r in sorted(records, key=lambda r: r.account_id))])


def _account(line: str) -> str:
    return line.split(SEPARATOR, 2)[1]


def assemble(branch_code: str, institution_code: str, day: date, parts: Iterable[str]) -> bytes:
    """The file of ``branch_code`` for ``day`` from parts: each part account lines (``D``, LF-ended)
    sorted by account id, as the day end's segments write them. The parts are merged in account
    order, every line is read back and checked (``CreditReportError`` on a malformed line or an
    account in two parts), and the header and trailer (count, control totals, hash) made."""
    if not isinstance(institution_code, str) or not _INSTITUTION.fullmatch(institution_code):
        raise CreditReportError("institution_code: 1 to 32 letters and digits")
    if not isinstance(branch_code, str) or not _CODE.fullmatch(branch_code):
        raise CreditReportError("branch_code: a code")
    runs = []
    for part in parts:
        if part and not part.endswith("\n"):
            raise CreditReportError("a part's lines end with LF")
        lines = part.split("\n")[:-1] if part else []
        if any(_account(a) > _account(b) for a, b in zip(lines, lines[1:])):
            raise CreditReportError("a part's lines are not sorted by account id")
        runs.append(lines)
    digest, body, count = hashlib.sha256(), [], 0
    outstanding = overdue = ZERO
    previous = None
    for line in heapq.merge(*runs, key=_account):
        record = CreditRecord.from_line(line)
        if record.account_id == previous:
            raise CreditReportError("an account appears more than once")
        previous = record.account_id
        count += 1
        outstanding += record.outstanding_principal
        overdue += record.overdue_amount
        encoded = (line + "\n").encode("utf-8")
        digest.update(encoded)
        body.append(encoded)
    header = SEPARATOR.join([HEADER, FILE_TYPE, FORMAT_VERSION, institution_code, branch_code, day.isoformat(), str(count)])
    trailer = SEPARATOR.join([TRAILER, str(count), format_amount(outstanding), format_amount(overdue), digest.hexdigest()])
    return b"".join([(header + "\n").encode("utf-8"), *body, (trailer + "\n").encode("utf-8")])


def parse(data: bytes) -> CreditReport:
    """Read a file and check it: its header, every line, the counts, the control totals and the
    body's hash; ``CreditReportError`` on the first thing wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CreditReportError("not UTF-8") from None
    if "\r" in text or not text.endswith("\n"):
        raise CreditReportError("lines end with LF, the last one too")
    lines = text[:-1].split("\n")
    if len(lines) < 2:
        raise CreditReportError("a file has at least a header and a trailer")
    head, body_lines, tail = lines[0].split(SEPARATOR), lines[1:-1], lines[-1].split(SEPARATOR)
    if len(head) != 7 or head[0] != HEADER:
        raise CreditReportError("the first line is the header: H|type|version|institution|branch|date|count")
    _, file_type, version, institution_code, branch_code, report_day, header_count = head
    if file_type != FILE_TYPE or version != FORMAT_VERSION:
        raise CreditReportError(f"not a {FILE_TYPE} {FORMAT_VERSION} file")
    if len(tail) != 5 or tail[0] != TRAILER:
        raise CreditReportError("the last line is the trailer: T|count|outstanding principal|overdue amount|sha256")
    _, trailer_count, outstanding, overdue, digest = tail
    try:
        report_date = date.fromisoformat(report_day)
    except ValueError:
        report_date = None
    if report_date is None or report_date.isoformat() != report_day:
        raise CreditReportError("the report date is not YYYY-MM-DD")
    if not (_COUNT.fullmatch(header_count) and _COUNT.fullmatch(trailer_count)):
        raise CreditReportError("the record counts are not counts")
    if not (_AMOUNT.fullmatch(outstanding) and _AMOUNT.fullmatch(overdue)) or not _HEX64.fullmatch(digest):
        raise CreditReportError("the trailer's totals or hash are malformed")
    body = "".join(line + "\n" for line in body_lines).encode("utf-8")
    if hashlib.sha256(body).hexdigest() != digest:
        raise CreditReportError("the body does not match its SHA-256")
    if not int(header_count) == int(trailer_count) == len(body_lines):
        raise CreditReportError(f"{len(body_lines)} records, the header says {header_count}, the trailer {trailer_count}")
    records = tuple(CreditRecord.from_line(line) for line in body_lines)
    if len({r.account_id for r in records}) != len(records):
        raise CreditReportError("an account appears more than once")
    total_outstanding = sum((r.outstanding_principal for r in records), ZERO)
    total_overdue = sum((r.overdue_amount for r in records), ZERO)
    if total_outstanding != Decimal(outstanding) or total_overdue != Decimal(overdue):
        raise CreditReportError("the control totals do not match the records")
    return CreditReport(
        file_type, version, institution_code, branch_code, report_date, records, Decimal(outstanding), Decimal(overdue), digest
    )
