"""Percent-encoding and decimal formatting of signed payloads."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_binance_loan.client.encoding import (
    encode_params,
    format_decimal,
    param_text,
    percent_encode,
    signature_payload,
)

from ..fakes import fast_settings


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("１", "%EF%BC%91"),  # full-width digit one, Binance's documented example
        ("１２３４５６", "%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96"),
        ("a@b.com", "a%40b.com"),
        ("1+1", "1%2B1"),
        ("a/b", "a%2Fb"),
        ("two words", "two+words"),
        ("a&b", "a%26b"),
        ("k=v", "k%3Dv"),
        ("%", "%25"),
        ("美元", "%E7%BE%8E%E5%85%83"),
        ("safe-_.~AZaz09", "safe-_.~AZaz09"),
    ],
)
def test_percent_encode(raw, encoded):
    assert percent_encode(raw) == encoded


def test_hex_is_upper_case():
    assert percent_encode("\u00e9\n:") == "%C3%A9%0A%3A"
    assert not re.search(r"%[0-9A-F]?[a-f]", percent_encode("".join(chr(c) for c in range(1, 256))))


def test_delimiters_stay_literal_and_reserved_chars_inside_values_are_encoded():
    assert encode_params([("email", "a+b@x.com"), ("note", "x=1&y=2"), ("path", "/a b")]) == (
        "email=a%2Bb%40x.com&note=x%3D1%26y%3D2&path=%2Fa+b"
    )


def test_order_is_kept_and_none_dropped():
    assert encode_params([("b", 1), ("a", None), ("c", "x")]) == "b=1&c=x"
    assert encode_params({"z": "1", "skip": None, "a": "2"}) == "z=1&a=2"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+3"), "1000"),
        (Decimal("1e-7"), "0.0000001"),
        (Decimal("100.500"), "100.5"),
        (Decimal("100.00000000"), "100"),
        (Decimal("0.00000001"), "0.00000001"),
        (Decimal("-0"), "0"),
        (Decimal("0E-8"), "0"),
        (Decimal("1.2345678900E+25"), "12345678900000000000000000"),
        (Decimal("123456.78"), "123456.78"),
    ],
)
def test_decimal_formatting(value, text):
    assert format_decimal(value) == text
    assert param_text(value) == text


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_refused(value):
    with pytest.raises(ValueError, match="non-finite"):
        format_decimal(value)


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan")])
def test_floats_refused(value):
    with pytest.raises(TypeError, match=r"float parameter .* refused"):
        encode_params([("amount", value)])


def test_other_value_types():
    assert param_text(True) == "TRUE"
    assert param_text(False) == "FALSE"
    assert param_text(12317283617) == "12317283617"
    with pytest.raises(TypeError, match="unsupported parameter type list"):
        param_text([1])


def test_signature_payload_is_query_then_body_without_separator():
    assert signature_payload("symbol=LTCBTC&side=BUY", "quantity=1&price=0.1") == (
        b"symbol=LTCBTC&side=BUYquantity=1&price=0.1"
    )
    assert signature_payload("", "a=1") == b"a=1"
    assert signature_payload("a=1", "") == b"a=1"


def test_signature_payload_refuses_unencoded_text():
    with pytest.raises(UnicodeEncodeError):
        signature_payload("asset=美元", "")


@fast_settings()
@given(
    st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: len(d.as_tuple().digits) <= 28)
)
def test_format_decimal_never_uses_an_exponent(value):
    # Up to 28 significant digits (every validated amount); longer values: see the xfail test below.
    text = format_decimal(value)
    assert "e" not in text.lower()
    assert Decimal(text) == value
    if "." in text:
        assert not text.endswith("0")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),
        (Decimal("1234567890123456789012345678.9"), "1234567890123456789012345678.9"),
    ],
)
def test_format_decimal_is_exact_beyond_28_digits(value, text):
    assert format_decimal(value) == text


names = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12)
values = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@fast_settings(max_examples=300)
@given(st.lists(st.tuples(names, values), max_size=6))
def test_round_trip_through_parse_qsl(pairs):
    encoded = encode_params(pairs)
    assert encoded.isascii()
    assert re.fullmatch(r"[A-Za-z0-9_.~+%=&-]*", encoded)
    assert parse_qsl(encoded, keep_blank_values=True, strict_parsing=bool(pairs)) == pairs


@fast_settings()
@given(values)
def test_only_unreserved_characters_survive(value):
    encoded = percent_encode(value)
    assert re.fullmatch(r"(?:[A-Za-z0-9_.~+-]|%[0-9A-F]{2})*", encoded)
