"""The standard application (the body of ``POST /v1/applications``, partner API v1).

Every field error comes out of pydantic with the field's path as its ``loc``
(``applicant.id_number``, ``account.account_name``, ...) and a message that
reads after it. Validators raise only ``ValueError``, whatever they are given,
so bad input is a ``ValidationError`` (400), never a 5xx.

``product_violations`` checks an application against a product's terms (422);
``fingerprint`` says whether two bodies mean the same application (idempotency).
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.domain.identity import ResidentId, age_on, parse_resident_id, validate_card_number, validate_mobile
from chalicelib.domain.money import format_amount
from chalicelib.domain.product import Product, Violation
from chalicelib.domain.schedule import MAX_TERM_MONTHS, RepaymentMethod
from chalicelib.domain.wire import Amount, Code


class IdType(str, Enum):
    RESIDENT_ID = "RESIDENT_ID"  # 居民身份证


class Occupation(str, Enum):
    ENGINEER = "ENGINEER"
    TEACHER = "TEACHER"
    CIVIL_SERVANT = "CIVIL_SERVANT"
    FARMER = "FARMER"
    WORKER = "WORKER"
    SELF_EMPLOYED = "SELF_EMPLOYED"
    MEDICAL = "MEDICAL"
    FINANCE = "FINANCE"
    STUDENT = "STUDENT"
    RETIRED = "RETIRED"
    OTHER = "OTHER"


class Education(str, Enum):
    PRIMARY = "PRIMARY"
    JUNIOR_HIGH = "JUNIOR_HIGH"
    SENIOR_HIGH = "SENIOR_HIGH"
    VOCATIONAL = "VOCATIONAL"
    ASSOCIATE = "ASSOCIATE"
    BACHELOR = "BACHELOR"
    MASTER = "MASTER"
    DOCTORATE = "DOCTORATE"
    OTHER = "OTHER"


class MaritalStatus(str, Enum):
    SINGLE = "SINGLE"
    MARRIED = "MARRIED"
    DIVORCED = "DIVORCED"
    WIDOWED = "WIDOWED"
    OTHER = "OTHER"


class Purpose(str, Enum):
    CONSUMPTION = "CONSUMPTION"
    EDUCATION = "EDUCATION"
    HOME_IMPROVEMENT = "HOME_IMPROVEMENT"
    TRAVEL = "TRAVEL"
    MEDICAL = "MEDICAL"
    BUSINESS = "BUSINESS"
    AGRICULTURE = "AGRICULTURE"
    OTHER = "OTHER"


NAME_MAX = 30
# Chinese characters (basic block, extensions A to G, compatibility ideographs, 〇) or Latin letters,
# in words joined by a single middle dot (少数民族姓名: 阿卜杜·艾尼) or a single space (Latin names).
_NAME_LETTER = "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0003134f\uf900-\ufaff\u3007A-Za-z"
_NAME_TEXT = re.compile(f"[{_NAME_LETTER}]+(?:[\u00b7 ][{_NAME_LETTER}]+)*")
_APPLICATION_NO_TEXT = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not 1 <= len(value) <= NAME_MAX:
        raise ValueError(f"must be 1 to {NAME_MAX} characters")
    if not _NAME_TEXT.fullmatch(value):
        raise ValueError("must be Chinese characters or Latin letters, words joined by a single \"·\" or space")
    return value


def _text(max_length: int):  # noqa: ANN202 - a validator
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if not 1 <= len(value) <= max_length:
            raise ValueError(f"must be 1 to {max_length} characters")
        if not value.isprintable():
            raise ValueError("must not contain control characters, line breaks or unusual spaces")
        if value != value.strip():
            raise ValueError("must not start or end with a space")
        return value

    return check


def _resident_id_number(value: Any) -> str:
    return parse_resident_id(value).number


def _application_no(value: Any) -> str:
    if not isinstance(value, str) or not _APPLICATION_NO_TEXT.fullmatch(value):
        raise ValueError("must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")
    return value


Name = Annotated[str, BeforeValidator(_name)]
ResidentIdNumber = Annotated[str, BeforeValidator(_resident_id_number)]
Mobile = Annotated[str, BeforeValidator(validate_mobile)]
CardNumber = Annotated[str, BeforeValidator(validate_card_number)]
TermMonths = Annotated[int, Field(strict=True, ge=1, le=MAX_TERM_MONTHS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Personal data is left out of the models' repr (tracebacks, debug logs); masking.scrub backs this up.
class Applicant(_Strict):
    name: Name = Field(repr=False)
    id_type: IdType
    id_number: ResidentIdNumber = Field(repr=False)  # normalised: an upper-case X
    mobile: Mobile = Field(repr=False)
    monthly_income: Amount
    employer: Annotated[str, BeforeValidator(_text(100))]
    occupation: Occupation
    education: Education
    marital_status: MaritalStatus

    @property
    def resident_id(self) -> ResidentId:
        return parse_resident_id(self.id_number)


class Account(_Strict):
    card_number: CardNumber = Field(repr=False)
    bank_name: Annotated[str, BeforeValidator(_text(50))]
    account_name: Name = Field(repr=False)


_CONSENT_TO = {
    "credit_inquiry": "the applicant must consent to the credit bureau inquiry",
    "data_sharing": "the applicant must consent to sharing their data with the bank",
}


class Consents(_Strict):
    credit_inquiry: Annotated[bool, Field(strict=True)]
    data_sharing: Annotated[bool, Field(strict=True)]

    @field_validator("credit_inquiry", "data_sharing")
    @classmethod
    def _given(cls, value: bool, info: Any) -> bool:
        if value is not True:
            raise ValueError(_CONSENT_TO[info.field_name])
        return value


class StandardApplication(_Strict):
    partner_application_no: Annotated[str, BeforeValidator(_application_no)]
    product_code: Code
    amount: Amount
    term_months: TermMonths
    repayment_method: RepaymentMethod
    purpose: Purpose
    applicant: Applicant
    account: Account
    consents: Consents

    @model_validator(mode="after")
    def _account_is_the_applicant_s(self) -> "StandardApplication":
        if self.account.account_name != self.applicant.name:
            # A ValidationError raised in a validator keeps its own locations, so the
            # error is reported at the field, not at the body.
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    {
                        "type": PydanticCustomError("value_error", "must be the applicant's name: the card must be the applicant's own"),
                        "loc": ("account", "account_name"),
                        "input": self.account.account_name,
                    }
                ],
            )
        return self


def product_violations(application: StandardApplication, product: Product, on: date) -> list[Violation]:
    """What the application asks for that the product does not offer, and the applicant's age on ``on``."""
    found = product.violations(application.amount, application.term_months, application.repayment_method, None)
    age = age_on(application.applicant.resident_id.birth_date, on)
    low, high = product.applicant_age_min, product.applicant_age_max
    if not low <= age <= high:
        found.append(Violation("applicant.id_number", f"the applicant must be {low} to {high} years old on {on.isoformat()}, and is {age}"))
    return found


def _canonical(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {name: _canonical(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format_amount(value)
    return value  # str, int, bool: already normalised by validation


def fingerprint(application: StandardApplication) -> str:
    """SHA-256 (hex) of the application's canonical JSON: equal for bodies that mean the same.

    Key order, whitespace, "50000" vs "50000.00" and "x" vs "X" in the ID number
    make no difference; any other change of a value does.
    """
    canonical = json.dumps(_canonical(application), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
