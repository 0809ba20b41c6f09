from datetime import date

import pytest

from chalicelib.domain.identity import (
    PROVINCE_CODES,
    age_on,
    check_character,
    luhn_valid,
    parse_resident_id,
    validate_card_number,
    validate_mobile,
)

SAMPLE_ID = "110101199003074514"  # the partner API's example
SAMPLE_CARD = "6222020200112233446"


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def test_the_contract_s_sample_id_is_valid():
    rid = parse_resident_id(SAMPLE_ID)
    assert rid.number == SAMPLE_ID
    assert (rid.division_code, rid.province_code) == ("110101", "11")
    assert rid.birth_date == date(1990, 3, 7)
    assert rid.sex == "M"  # 17th digit 1: odd


def test_check_characters_of_published_examples():
    assert check_character("11010119900307451") == "4"
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"


def test_check_character_needs_17_ascii_digits():
    for bad in ("1101011990030745", "110101199003074514", "1101011990030745a", "１１０１０１１９９００３０７４５１", None, 11010119900307451):
        with pytest.raises(ValueError):
            check_character(bad)


def test_an_even_17th_digit_is_a_woman_and_a_lower_case_x_is_normalised():
    rid = parse_resident_id("11010519491231002x")
    assert rid.number == "11010519491231002X"
    assert rid.sex == "F"
    assert rid.birth_date == date(1949, 12, 31)


def test_the_repr_does_not_show_the_whole_number():
    assert SAMPLE_ID not in repr(parse_resident_id(SAMPLE_ID))
    assert "110101********4514" in repr(parse_resident_id(SAMPLE_ID))


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "18 characters"),
        ("11010119900307451", "18 characters"),
        ("1101011990030745144", "18 characters"),
        ("11010119900307451A", "18 characters"),
        (" 11010119900307451", "18 characters"),
        ("１１０１０１１９９００３０７４５１４", "18 characters"),  # full-width digits
        ("١١٠١٠١١٩٩٠٠٣٠٧٤٥١٤", "18 characters"),  # Arabic-Indic digits pass str.isdigit()
        ("X10101199003074514", "18 characters"),
        ("1" * 10_000_000, "18 characters"),
        (None, "string"),
        (110101199003074514, "string"),
        ("110101199003074515", "check character"),
        ("110101199003074541", "check character"),  # two digits swapped
        (with_check("00010119900307451"), "province"),
        (with_check("99010119900307451"), "province"),
        (with_check("10010119900307451"), "province"),
        (with_check("83000019900307451"), "province"),  # a Taiwan residents' residence permit, no resident ID
        (with_check("11010119900230451"), "not a real date"),
        (with_check("11010119901301451"), "not a real date"),
        (with_check("11010100000101451"), "not a real date"),
        (with_check("11010118991231451"), "before 1900"),
        (with_check("11010121000101451"), "future"),
    ],
)
def test_bad_numbers_say_what_is_wrong(text, words):
    with pytest.raises(ValueError, match=words):
        parse_resident_id(text)


def test_birth_dates_are_bounded_by_today():
    born_today = with_check("11010120261123451")
    assert parse_resident_id(born_today, today=date(2026, 11, 23)).birth_date == date(2026, 11, 23)
    with pytest.raises(ValueError, match="future"):
        parse_resident_id(born_today, today=date(2026, 11, 22))
    assert parse_resident_id(with_check("11010119000101451")).birth_date == date(1900, 1, 1)


def test_all_34_province_codes_are_known_and_only_they():
    assert len(PROVINCE_CODES) == 34
    for code in (f"{n:02d}" for n in range(100)):
        number = with_check(code + "010119900307451")
        if code in PROVINCE_CODES:
            assert parse_resident_id(number).province_code == code
        else:
            with pytest.raises(ValueError, match="province"):
                parse_resident_id(number)


def test_age_in_whole_years():
    born = date(1990, 3, 7)
    assert age_on(born, date(2026, 3, 6)) == 35
    assert age_on(born, date(2026, 3, 7)) == 36
    assert age_on(born, date(1990, 3, 7)) == 0
    assert age_on(born, date(1990, 3, 6)) == -1


def test_a_leap_day_birthday_turns_a_year_older_on_1_march_in_common_years():
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18
    assert age_on(born, date(2028, 2, 28)) == 19
    assert age_on(born, date(2028, 2, 29)) == 20


def test_mobiles():
    for good in ("13800138000", "19912345678", "16612345678"):
        assert validate_mobile(good) == good
    for bad in ("12800138000", "10800138000", "23800138000", "1380013800", "138001380000", "+8613800138000", "138 0013 8000", "１３８００１３８０００", 13800138000, None, "1" * 100_000):
        with pytest.raises(ValueError, match="mobile"):
            validate_mobile(bad)


def test_luhn():
    assert luhn_valid("79927398713")
    assert luhn_valid(SAMPLE_CARD)
    assert not luhn_valid("79927398710")
    assert not luhn_valid("79927398731")  # two digits swapped
    for bad in ("", "abc", "7992739871x", "٧٩٩٢٧٣٩٨٧١٣", None, 79927398713):
        assert not luhn_valid(bad)


def test_the_contract_s_sample_card_is_valid():
    assert validate_card_number(SAMPLE_CARD) == SAMPLE_CARD


@pytest.mark.parametrize(
    "text, words",
    [
        ("6222020200112233447", "Luhn"),
        ("4111111111111111", None),
        ("411111111111", "13 to 19"),  # 12 digits
        ("62220202001122334460", "13 to 19"),  # 20 digits
        ("6222 0202 0011 2233 446", "13 to 19"),
        ("6222-0202-0011-2233-446", "13 to 19"),
        (6222020200112233446, "13 to 19"),
        (None, "13 to 19"),
        ("9" * 1_000_000, "13 to 19"),
    ],
)
def test_card_numbers(text, words):
    if words is None:
        assert validate_card_number(text) == text
    else:
        with pytest.raises(ValueError, match=words):
            validate_card_number(text)
