from decimal import Decimal as D

import pytest

from chalicelib.domain.money import format_amount, format_rate, parse_amount, parse_rate, to_fen


@pytest.mark.parametrize("value, expected", [("0.005", "0.01"), ("0.0049", "0.00"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("1.115", "1.12")])
def test_to_fen_rounds_half_up(value, expected):
    assert to_fen(D(value)) == D(expected)


@pytest.mark.parametrize("text", ["12000", "12000.5", "12000.50", "0.01"])
def test_parse_amount_accepts_up_to_two_decimals(text):
    assert parse_amount(text) == D(text)


@pytest.mark.parametrize("text", ["１２０００.00", "12000.00\n", "12000.001", "1e5", "NaN", "Infinity", "", " 1.00", "1,000.00", "0x10", "1.", ".5", 12000, None])
def test_parse_amount_refuses_everything_else(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_format_amount_always_has_two_decimals():
    assert format_amount(D("12000")) == "12000.00"
    assert format_amount(D("1E+3")) == "1000.00"


@pytest.mark.parametrize("rate, text", [(D("0.06"), "0.0600"), (D("0.072"), "0.0720"), (D("0.07125"), "0.07125"), (D("0"), "0.0000")])
def test_format_rate(rate, text):
    assert format_rate(rate) == text


def test_parse_rate():
    assert parse_rate("0.0720") == D("0.0720")
    for bad in ["-0.1", "1e-2", "0.123456789", "abc", 0.07]:
        with pytest.raises(ValueError):
            parse_rate(bad)
