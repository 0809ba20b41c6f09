"""The electronic loan contract's data and its template. Pure: no I/O.

A contract (借款合同) is generated once the borrower has accepted an offer:
``ContractTerms`` holds everything the document states (the parties, the
funders and their shares for a joint loan, amount, rate, term, method, dates)
and ``ContractTemplate`` the product's (or a branch's) legal text, kept as data
(``config/sample/contract_templates``). Clause texts may use placeholders
(``{amount}``, ``{annual_rate}``, ``{branch_name}`` ...; see ``PLACEHOLDERS``)
that are filled from the terms; a template naming any other placeholder does
not validate, so a typo never reaches a borrower.

Three kinds of contract:

- ``LOAN``: one loan approved on its own (单笔单批), with its full schedule;
- ``CREDIT_LINE``: a revolving line agreement (授信): the limit and its validity,
  no schedule (each drawdown gets its own);
- ``DRAWDOWN``: a drawdown on a line (用信), with its full schedule.

Personal data: the borrower's ID number, mobile and card number appear in the
document itself, never in an exception message or a ``repr``.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.masking import mask_card, mask_id_number, mask_mobile, mask_name
from chalicelib.domain.money import FEN, ZERO, precise, to_fen
from chalicelib.domain.schedule import RepaymentMethod, Schedule, add_months, build_schedule

KINDS = ("LOAN", "CREDIT_LINE", "DRAWDOWN")
RATIO_TOLERANCE = Decimal("0.0001")  # how far a funder's printed ratio may be rounded
CHINA = timezone(timedelta(hours=8))

KIND_NAMES = {"LOAN": "个人借款合同", "CREDIT_LINE": "个人循环授信额度合同", "DRAWDOWN": "个人借款(用信)合同"}

METHOD_NAMES = {
    RepaymentMethod.EQUAL_INSTALLMENT: "等额本息",
    RepaymentMethod.EQUAL_PRINCIPAL: "等额本金",
    RepaymentMethod.INTEREST_FIRST: "按月付息、到期还本(先息后本)",
    RepaymentMethod.BULLET: "到期一次还本付息",
}


# -- the terms --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Borrower:
    name: str
    id_number: str
    mobile: str
    card_number: str
    bank_name: str

    def __repr__(self) -> str:  # never the whole ID, mobile or card number in a log or a traceback
        return (
            f"Borrower(name={mask_name(self.name)!r}, id_number={mask_id_number(self.id_number)!r}, "
            f"mobile={mask_mobile(self.mobile)!r}, card_number={mask_card(self.card_number)!r}, bank_name={self.bank_name!r})"
        )


@dataclass(frozen=True)
class FunderShare:
    code: str
    name: str
    amount: Decimal
    ratio: Decimal  # of the whole, e.g. Decimal("0.7")
    lead: bool


@dataclass(frozen=True)
class ContractTerms:
    contract_no: str
    kind: str  # "LOAN" (单笔单批), "CREDIT_LINE" (授信: a line agreement), "DRAWDOWN" (用信 on a line)
    application_id: str
    credit_line_id: str | None
    product_code: str
    product_name: str
    branch_code: str
    branch_name: str
    borrower: Borrower
    funders: tuple[FunderShare, ...]  # one, or a joint loan's funders with their shares (lead first)
    amount: Decimal  # the loan, or the line's limit
    annual_rate: Decimal
    term_months: int
    repayment_method: RepaymentMethod
    start_date: date  # the value date; the schedule starts here
    accepted_at: datetime  # when the borrower accepted (aware)
    line_expires_on: date | None = None  # CREDIT_LINE only

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: must be one of {', '.join(KINDS)}")
        if self.kind == "DRAWDOWN" and not self.credit_line_id:
            raise ValueError("credit_line_id: required for a DRAWDOWN")
        if self.kind == "CREDIT_LINE":
            if self.line_expires_on is None:
                raise ValueError("line_expires_on: required for a CREDIT_LINE")
            if self.line_expires_on <= self.start_date:
                raise ValueError("line_expires_on: must be after start_date")
        elif self.line_expires_on is not None:
            raise ValueError("line_expires_on: only for a CREDIT_LINE")
        for name in ("contract_no", "application_id", "product_code", "product_name", "branch_code", "branch_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name}: must be a non-empty string")
        if not isinstance(self.borrower, Borrower):
            raise ValueError("borrower: must be a Borrower")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount <= 0 or self.amount != to_fen(self.amount):
            raise ValueError("amount: must be a Decimal more than 0, exact to the fen")
        if not isinstance(self.annual_rate, Decimal) or not self.annual_rate.is_finite() or not 0 <= self.annual_rate < 1:
            raise ValueError("annual_rate: must be a Decimal from 0 to under 1")
        if isinstance(self.term_months, bool) or not isinstance(self.term_months, int) or self.term_months < 1:
            raise ValueError("term_months: must be a positive whole number")
        object.__setattr__(self, "repayment_method", RepaymentMethod(self.repayment_method))
        if not isinstance(self.accepted_at, datetime) or self.accepted_at.utcoffset() is None:
            raise ValueError("accepted_at: must be an aware datetime")
        self._check_funders()

    def _check_funders(self) -> None:
        if not self.funders:
            raise ValueError("funders: at least one")
        if len({f.code for f in self.funders}) != len(self.funders):
            raise ValueError("funders: a funder is listed twice")
        if sum(1 for f in self.funders if f.lead) != 1 or not self.funders[0].lead:
            raise ValueError("funders: exactly one lead, listed first")
        for funder in self.funders:
            if not isinstance(funder.amount, Decimal) or funder.amount <= 0 or funder.amount != to_fen(funder.amount):
                raise ValueError(f"funders: {funder.code}: amount must be more than 0, exact to the fen")
            if not isinstance(funder.ratio, Decimal) or not 0 < funder.ratio <= 1:
                raise ValueError(f"funders: {funder.code}: ratio must be more than 0 and at most 1")
        if sum((f.amount for f in self.funders), ZERO) != self.amount:
            raise ValueError("funders: the shares' amounts must add up to the amount")
        # The amounts are exact; a ratio may be rounded for the document (each by at most RATIO_TOLERANCE).
        if abs(sum((f.ratio for f in self.funders), Decimal(0)) - 1) > RATIO_TOLERANCE * len(self.funders):
            raise ValueError("funders: the ratios must add up to 1")

    @property
    def joint(self) -> bool:
        """A joint loan (联合贷): more than one funder."""
        return len(self.funders) > 1

    @property
    def has_schedule(self) -> bool:
        return self.kind != "CREDIT_LINE"

    def schedule(self) -> Schedule:
        """The full repayment schedule of a LOAN or a DRAWDOWN (a CREDIT_LINE has none: ``ValueError``)."""
        if not self.has_schedule:
            raise ValueError("a CREDIT_LINE contract has no schedule")
        return build_schedule(self.amount, self.annual_rate, self.term_months, self.repayment_method, self.start_date)

    @property
    def maturity_date(self) -> date:
        """The last due date (a LOAN or a DRAWDOWN); the line's expiry (a CREDIT_LINE)."""
        if self.kind == "CREDIT_LINE":
            assert self.line_expires_on is not None
            return self.line_expires_on
        return add_months(self.start_date, self.term_months)


def contract_no(application_id: str) -> str:
    """The contract number of an application: ``HT`` + its id without ``AP``
    (``AP20261123-143501-a3f9c0d2e1`` -> ``HT20261123-143501-a3f9c0d2e1``)."""
    if not isinstance(application_id, str) or not application_id.startswith("AP") or len(application_id) < 3:
        raise ValueError("application_id: must start with AP")
    return "HT" + application_id[2:]


# -- wording ----------------------------------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("仟", "佰", "拾", "")  # within a group of four digits, highest first
_GROUPS = ("", "万", "亿", "万亿")  # of each group of four, lowest first
MAX_AMOUNT_IN_WORDS = Decimal("9999999999999999.99")


def amount_in_words(amount: Decimal) -> str:
    """The Chinese uppercase amount (大写金额) written on contracts and vouchers, to the fen.

    Per the People's Bank rules for writing amounts: ``整`` after 元 (and after 角
    when there are no fen), never after 分; one ``零`` for any run of zero digits
    between non-zero ones, and ``零`` between 元 and the fen when the jiao is zero.
    ``12000`` -> 壹万贰仟元整, ``10.10`` -> 壹拾元壹角整, ``1000000.05`` -> 壹佰万元零伍分,
    ``0.01`` -> 壹分, ``0`` -> 零元整.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError("amount: must be a finite Decimal")
    if amount < 0:
        raise ValueError("amount: must not be negative")
    if amount != to_fen(amount):
        raise ValueError("amount: must be exact to the fen")
    if amount > MAX_AMOUNT_IN_WORDS:
        raise ValueError("amount: too large to write in words")
    fen_total = int(amount.quantize(FEN) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    words = _integer_in_words(yuan)
    if yuan:
        words += "元"
        if jiao == 0 and fen == 0:
            return words + "整"
        if jiao == 0:
            return words + "零" + _DIGITS[fen] + "分"
    if jiao:
        words += _DIGITS[jiao] + "角"
    return words + (_DIGITS[fen] + "分" if fen else "整")


def _integer_in_words(value: int) -> str:
    groups = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    words, zero_pending = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(words)
            continue
        for place, digit in zip(_PLACES, f"{group:04d}"):
            if digit == "0":
                zero_pending = zero_pending or bool(words)
                continue
            if zero_pending:
                words += "零"
                zero_pending = False
            words += _DIGITS[int(digit)] + place
        # 10^12 and up: 伍万亿 alone, but 伍万贰仟亿 (not 伍万亿贰仟亿) when the 亿 group follows
        words += "万" if index == 3 and groups[2] else _GROUPS[index]
    return words


def format_money(amount: Decimal) -> str:
    """``12000`` -> ``12,000.00``: as the contract prints amounts."""
    return f"{to_fen(amount):,.2f}"


def format_percent(rate: Decimal) -> str:
    """An annual rate as a percentage with at least two decimals: ``0.072`` -> ``7.20%``, ``0.07125`` -> ``7.125%``."""
    with precise():
        percent = (rate * 100).normalize()
    if percent == percent.quantize(Decimal("0.01")):
        return f"{percent.quantize(Decimal('0.01')):f}%"
    return f"{percent:f}%"


def format_ratio(ratio: Decimal) -> str:
    """A funder's share: ``0.7`` -> ``70%``, ``0.333`` -> ``33.3%``."""
    with precise():
        percent = (ratio * 100).normalize()
    return f"{percent:f}%"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def china_time(moment: datetime) -> str:
    """An aware moment in Beijing time: ``2026-11-23 14:35:01``."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def penalty_rate(terms: ContractTerms, multiplier: Decimal) -> Decimal:
    with precise():
        return terms.annual_rate * multiplier


def penalty_uplift(multiplier: Decimal) -> str:
    """``1.5`` -> ``50%``: how much the penalty rate is above the contract rate."""
    with precise():
        return format_ratio(multiplier - 1)


# -- the template -----------------------------------------------------------------------------------

# Each placeholder a template may use, and what it stands for. Only these: a template naming
# anything else is refused when it is loaded. No ID, mobile or card number: the parties'
# section states them, a clause never needs them.
PLACEHOLDERS: dict[str, str] = {
    "contract_no": "the contract number",
    "application_id": "the application id",
    "credit_line_id": "the credit line (DRAWDOWN, CREDIT_LINE), else empty",
    "kind_name": "the kind of contract in Chinese (个人借款合同 ...)",
    "product_code": "the product's code",
    "product_name": "the product's name",
    "branch_code": "the branch's code",
    "branch_name": "the branch (the lender; the querying institution)",
    "borrower_name": "the borrower's name",
    "funder_names": "every funder, lead first, joined with 、",
    "lead_funder_name": "the lead funder",
    "amount_label": "what the amount is: 借款金额 (LOAN, DRAWDOWN) or 授信额度 (CREDIT_LINE)",
    "amount": "the amount (or the line's limit) in figures: 12,000.00",
    "amount_in_words": "the amount in Chinese uppercase: 壹万贰仟元整",
    "annual_rate": "the annual rate as a percentage: 7.20%",
    "daily_rate": "the daily rate (annual / 360) as a percentage",
    "penalty_rate": "the penalty (罚息) annual rate: the rate x the template's multiplier",
    "penalty_uplift": "how much the penalty rate is above the rate: 50%",
    "term_months": "the term in months (a line: the longest drawdown)",
    "repayment_method": "the repayment method in Chinese",
    "start_date": "the value date: 2026年11月23日",
    "maturity_date": "the last due date (a line: its expiry)",
    "line_expires_on": "the line's expiry (CREDIT_LINE), else empty",
    "accepted_date": "the day the borrower accepted, Beijing time",
    "accepted_at": "when the borrower accepted, Beijing time",
}

_FORMATTER = string.Formatter()
_NAME = re.compile(r"[a-z_]+")


def _check_placeholders(text: str, where: str) -> None:
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:  # a lone { or }
        raise ValueError(f"{where}: {exc} (write {{{{ and }}}} for literal braces)") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _NAME.fullmatch(name) or name not in PLACEHOLDERS:
            raise ValueError(f"{where}: unknown placeholder {{{name}}}; known: {', '.join(sorted(PLACEHOLDERS))}")
        if spec or conversion:
            raise ValueError(f"{where}: placeholder {{{name}}} takes no format spec or conversion")


def placeholders(terms: ContractTerms, penalty_rate_multiplier: Decimal) -> dict[str, str]:
    """The value of each placeholder for ``terms``."""
    with precise():
        daily = terms.annual_rate / 360
    return {
        "contract_no": terms.contract_no,
        "application_id": terms.application_id,
        "credit_line_id": terms.credit_line_id or "",
        "kind_name": KIND_NAMES[terms.kind],
        "product_code": terms.product_code,
        "product_name": terms.product_name,
        "branch_code": terms.branch_code,
        "branch_name": terms.branch_name,
        "borrower_name": terms.borrower.name,
        "funder_names": "、".join(f.name for f in terms.funders),
        "lead_funder_name": terms.funders[0].name,
        "amount_label": "授信额度" if terms.kind == "CREDIT_LINE" else "借款金额",
        "amount": format_money(terms.amount),
        "amount_in_words": amount_in_words(terms.amount),
        "annual_rate": format_percent(terms.annual_rate),
        "daily_rate": format_percent(daily.quantize(Decimal("0.0000001"))),
        "penalty_rate": format_percent(penalty_rate(terms, penalty_rate_multiplier)),
        "penalty_uplift": penalty_uplift(penalty_rate_multiplier),
        "term_months": str(terms.term_months),
        "repayment_method": METHOD_NAMES[terms.repayment_method],
        "start_date": chinese_date(terms.start_date),
        "maturity_date": chinese_date(terms.maturity_date),
        "line_expires_on": chinese_date(terms.line_expires_on) if terms.line_expires_on else "",
        "accepted_date": chinese_date(terms.accepted_at.astimezone(CHINA).date()),
        "accepted_at": china_time(terms.accepted_at),
    }


class Clause(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    heading: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)


class ContractTemplate(BaseModel):
    """A product's (or a branch's) contract text and its credit-inquiry authorisation letter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template_id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")
    version: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=64)
    penalty_rate_multiplier: Decimal = Field(ge=1, le=3)  # 罚息 = the rate x this (1.5: the rate plus 50%)
    clauses: tuple[Clause, ...] = Field(min_length=1)
    authorisation_title: str = Field(min_length=1, max_length=64)
    authorisation_text: str = Field(min_length=1, max_length=8000)

    @model_validator(mode="after")
    def _known_placeholders(self) -> "ContractTemplate":
        _check_placeholders(self.title, "title")
        for index, clause in enumerate(self.clauses, start=1):
            _check_placeholders(clause.heading, f"clauses[{index}].heading")
            _check_placeholders(clause.text, f"clauses[{index}].text")
        _check_placeholders(self.authorisation_title, "authorisation_title")
        _check_placeholders(self.authorisation_text, "authorisation_text")
        return self

    def values(self, terms: ContractTerms) -> dict[str, str]:
        return placeholders(terms, self.penalty_rate_multiplier)

    def fill(self, text: str, terms: ContractTerms, values: dict[str, Any] | None = None) -> str:
        return text.format_map(values if values is not None else self.values(terms))

    def rendered_title(self, terms: ContractTerms) -> str:
        return self.fill(self.title, terms)

    def rendered_clauses(self, terms: ContractTerms) -> tuple[tuple[str, str], ...]:
        """Each clause's heading and text with the terms filled in."""
        values = self.values(terms)
        return tuple((c.heading.format_map(values), c.text.format_map(values)) for c in self.clauses)

    def rendered_authorisation(self, terms: ContractTerms) -> tuple[str, str]:
        """The authorisation letter's title and text with the terms filled in."""
        values = self.values(terms)
        return self.authorisation_title.format_map(values), self.authorisation_text.format_map(values)
