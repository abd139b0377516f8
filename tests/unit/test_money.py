"""The one home of money helpers: exact parsing, exact formatting, real decimal places."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_binance_loan.client.validation import validate_amount
from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.money import check_decimal_text, decimal_places, format_decimal, parse_decimal


@pytest.mark.parametrize(("value", "expected"), [
    ("1000.5", Decimal("1000.5")), (" 7 ", Decimal(7)), (12, Decimal(12)), (Decimal("0.00000001"), Decimal("1E-8")),
    ("1E+2", Decimal(100)),
])
def test_parse_decimal_reads_exact_values(value, expected):
    assert parse_decimal(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    (0.1, "price=0.1: money must be a Decimal, an int or a decimal string, not float"),
    (True, "price=True: money must be a Decimal, an int or a decimal string, not bool"),
    ("abc", "price='abc' is not a decimal number"),
    ("", "price='' is not a decimal number"),
    (None, "price=None is not a decimal number"),
    ("NaN", "price='NaN' is not a finite decimal number"),
    (Decimal("Infinity"), "is not a finite decimal number"),
])
def test_parse_decimal_names_the_field_and_the_value(value, message):
    with pytest.raises(ValueError) as info:
        parse_decimal(value, "price")
    assert message in str(info.value)


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("1.500"), "1.5"), (Decimal("1E+2"), "100"), (Decimal("-0.0"), "0"), (Decimal("0.00000001"), "0.00000001"),
    # 31 significant digits survive exactly (normalize() would round them to 28)
    (Decimal("1234567890123456789012.123456789"), "1234567890123456789012.123456789"),
])
def test_format_decimal_is_exact(value, text):
    assert format_decimal(value) == text


def test_decimal_places_counts_without_rounding():
    assert decimal_places(Decimal("1.10")) == 1
    assert decimal_places(Decimal("100")) == 0
    assert decimal_places(Decimal("1.000000000000000000000000000001")) == 30


def test_an_amount_with_more_digits_than_the_context_is_still_refused():
    """31 significant digits: Decimal.normalize() rounded this to 1 and let 30 decimals reach the wire."""
    with pytest.raises(InvalidParameterError, match="more than 8 decimal places"):
        validate_amount("1.000000000000000000000000000001")


def test_check_decimal_text():
    assert check_decimal_text(" 1000.5 ", "threshold") == "1000.5"
    with pytest.raises(ValueError, match=r"threshold='1e3' must be a decimal string such as '1000.5'"):
        check_decimal_text("1e3", "threshold")
