"""Who the applicant is: resident ID numbers, mobile numbers and bank cards.

A resident ID number (GB 11643-1999) has 18 characters: a 6-digit division code
(GB/T 2260; its first 2 digits are the province), the birth date as YYYYMMDD, a
3-digit sequence (the last digit odd for men, even for women) and a check
character (ISO 7064 MOD 11-2, ``X`` for 10). Bank card numbers carry a Luhn
check digit. Mobile numbers are 11 digits starting with 1.

Every check raises ``ValueError`` with a message that reads after the field's
name ("applicant.id_number: has a wrong check character ..."), whatever it is
given. Digits are ASCII only: ``str.isdigit`` would also accept "١" or "１".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.domain.masking import mask_id_number

# The weight of position i (1-based from the left) is 2^(18 - i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARACTERS = "10X98765432"  # indexed by (weighted sum mod 11)

# GB/T 2260: the 34 province-level divisions (incl. Taiwan, Hong Kong, Macao).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
EARLIEST_BIRTH = date(1900, 1, 1)

_SEVENTEEN_DIGITS = re.compile(r"[0-9]{17}")
_RESIDENT_ID_TEXT = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE_TEXT = re.compile(r"1[3-9][0-9]{9}")
_CARD_TEXT = re.compile(r"[0-9]{13,19}")


def check_character(first17: str) -> str:
    """The check character of the first 17 digits of a resident ID number ("0"-"9" or "X")."""
    if not isinstance(first17, str) or not _SEVENTEEN_DIGITS.fullmatch(first17):
        raise ValueError("the check character is computed from exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS))
    return _CHECK_CHARACTERS[total % 11]


@dataclass(frozen=True, repr=False)
class ResidentId:
    number: str  # normalised: 18 characters, an upper-case X if any
    division_code: str  # digits 1-6: the county-level division where it was issued
    province_code: str  # digits 1-2
    birth_date: date
    sex: str  # "M" or "F"

    def __repr__(self) -> str:  # never the whole number in a log or a traceback
        return f"ResidentId({mask_id_number(self.number)!r})"


def parse_resident_id(text: Any, today: date | None = None) -> ResidentId:
    """Check a resident ID number and read what it says; a lower-case x is accepted as X.

    ``today`` (default: the system date) bounds the birth date: none after it.
    """
    if not isinstance(text, str):
        raise ValueError("must be a string of 18 characters")
    number = text.upper() if len(text) == 18 else text  # upper() of a huge string is wasted work
    if not _RESIDENT_ID_TEXT.fullmatch(number):
        raise ValueError("must be 18 characters: 17 digits, then a digit or X")
    if check_character(number[:17]) != number[17]:
        raise ValueError("has a wrong check character: a digit is probably mistyped")
    province = number[:2]
    if province not in PROVINCE_CODES:
        raise ValueError(f"starts with {province}, which is not a province code")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError(f"has {number[6:14]} as its birth date, which is not a real date") from None
    if born < EARLIEST_BIRTH:
        raise ValueError("has a birth date before 1900")
    if born > (today or date.today()):
        raise ValueError("has a birth date in the future")
    sex = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number, number[:6], province, born, sex)


def age_on(birth: date, on: date) -> int:
    """Age in whole years on a day. Born on 29 Feb: a year older on 1 Mar in common years.

    Negative when ``on`` is before the birth date (then no age range is met).
    """
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def validate_mobile(text: Any) -> str:
    """A mainland mobile number: 11 digits, 1 then 3-9 then nine more."""
    if not isinstance(text, str) or not _MOBILE_TEXT.fullmatch(text):
        raise ValueError("must be a mobile number: 11 digits starting with 13 to 19")
    return text


def luhn_valid(digits: Any) -> bool:
    """Whether a string of ASCII digits passes the Luhn check (False for anything else)."""
    if not isinstance(digits, str) or not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def validate_card_number(text: Any) -> str:
    """A bank card number: 13 to 19 digits with a valid Luhn check digit."""
    if not isinstance(text, str) or not _CARD_TEXT.fullmatch(text):
        raise ValueError("must be a card number of 13 to 19 digits")
    if not luhn_valid(text):
        raise ValueError("has a wrong check digit (Luhn): a digit is probably mistyped")
    return text
