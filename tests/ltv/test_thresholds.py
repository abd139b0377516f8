"""Thresholds: exact parsing with clear errors, both directions, and which units crossed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.ltv.thresholds import LtvThreshold, crossings, parse_level, threshold_from

from .units import unit


@pytest.mark.parametrize(("value", "expected"), [("0.75", "0.75"), (" 0.5 ", "0.5"), (1, "1"),
                                                 (Decimal("0.123456789"), "0.123456789"), ("0", "0"), ("10", "10")])
def test_levels_are_exact_decimals(value, expected):
    assert parse_level(value, "ltv_at_least") == Decimal(expected)


@pytest.mark.parametrize(("value", "says"), [
    (0.75, "floats are refused"), (True, "floats are refused"), ("0,75", "decimal ratio such as '0.75'"),
    ("1e-1", "decimal ratio"), ("-0.1", "decimal ratio"), ("", "decimal ratio"), ("75", "not a percentage"),
    (Decimal("NaN"), "ratio between 0 and 10"), (None, "Decimal, an int or a decimal string"),
])
def test_bad_levels_name_the_field_and_the_value(value, says):
    with pytest.raises(InvalidParameterError) as info:
        parse_level(value, "ltv_at_most")
    assert info.value.field == "ltv_at_most" and says in str(info.value)
    assert f"ltv_at_most={value!r}" in str(info.value)


def test_exactly_one_threshold_is_given():
    assert threshold_from("0.75", None) == LtvThreshold("at_least", Decimal("0.75"))
    assert threshold_from("", "0.5") == LtvThreshold("at_most", Decimal("0.5"))
    for both in (("0.7", "0.5"), (None, None), ("", " ")):
        with pytest.raises(InvalidParameterError, match="give exactly one of ltv_at_least"):
            threshold_from(*both)


def test_both_directions_include_the_level_itself():
    up, down = LtvThreshold("at_least", Decimal("0.75")), LtvThreshold("at_most", Decimal("0.5"))
    assert [up.crossed(Decimal(x)) for x in ("0.74999999", "0.75", "0.9")] == [False, True, True]
    assert [down.crossed(Decimal(x)) for x in ("0.50000001", "0.5", "0")] == [False, True, True]
    assert (up.describe(), down.describe()) == ("LTV ≥ 0.75", "LTV ≤ 0.5")
    assert LtvThreshold.from_json(up.to_json()) == up and up.to_json() == {"direction": "at_least", "level": "0.75"}
    with pytest.raises(InvalidParameterError):
        LtvThreshold.from_json({"direction": "sideways", "level": "0.5"})


def test_crossings_list_the_units_beyond_the_level_furthest_first():
    units = [unit(1, "0.6"), unit(2, "0.9"), unit(3, "0.75"), unit(4, "0.3")]
    assert [u.group_id for u in crossings(units, LtvThreshold("at_least", Decimal("0.75")))] == [2, 3]
    assert [u.group_id for u in crossings(units, LtvThreshold("at_most", Decimal("0.6")))] == [4, 1]
    assert crossings(units, LtvThreshold("at_least", Decimal("0.95"))) == []


def test_unit_json_is_exact_strings():
    data = (unit(7, "0.80000000", liability="1000.10", equity="1250.125", maintenance="0",
                             owes=(("USDT", "1000", "0.10"),))).to_json()
    assert data == {"group_id": 7, "ltv": "0.8", "total_liability": "1000.1", "total_net_equity": "1250.125",
                    "total_maintenance_margin": "0", "update_time": 0,
                    "liabilities": [{"asset": "USDT", "principal": "1000", "interest": "0.1", "outstanding": "1000.1"}]}
