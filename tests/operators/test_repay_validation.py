"""RiskUnitRepayOperator input validation: bad input fails with field + value, before any request."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.operators import RiskUnitRepayOperator

BASE = "http://127.0.0.1:9"


class RecordingTI:
    dag_id, run_id, task_id, map_index, try_number = "d", "r", "t", -1, 1

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture(autouse=True)
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "binance_credit", "host": BASE, "login": "k", "password": "validation-secret-xyz"}
    monkeypatch.setenv("AIRFLOW_CONN_BINANCE_CREDIT_DEFAULT", json.dumps(conn))


def make(**overrides: Any) -> RiskUnitRepayOperator:
    kwargs: dict[str, Any] = {"task_id": "repay", "group_id": 1001, "asset": "USDT", "amount": "10"}
    kwargs.update(overrides)
    return RiskUnitRepayOperator(**kwargs)


def run_execute(op: RiskUnitRepayOperator) -> RecordingTI:
    ti = RecordingTI()
    op.execute({"ti": ti})  # type: ignore[arg-type]
    return ti


@pytest.mark.parametrize(
    ("overrides", "field", "shown"),
    [
        ({"group_id": 0}, "group_id", "0"),
        ({"group_id": "12a"}, "group_id", "'12a'"),
        ({"group_id": -5}, "group_id", "-5"),
        ({"asset": "usdt"}, "asset", "'usdt'"),
        ({"asset": ""}, "asset", "''"),
        ({"amount": "0"}, "amount", "'0'"),
        ({"amount": "-1"}, "amount", "'-1'"),
        ({"amount": "1e3"}, "amount", "'1e3'"),
        ({"amount": "1.123456789"}, "amount", "'1.123456789'"),
        ({"amount": "NaN"}, "amount", "'NaN'"),
        ({"amount": "everything"}, "amount", "'everything'"),
        ({"repay_from": "FUTURES"}, "repay_from", "'FUTURES'"),
        ({"max_amount": "abc"}, "max_amount", "'abc'"),
        ({"amount": "100", "max_amount": "99.99"}, "amount", "'100'"),
    ],
)
def test_bad_input_fails_before_any_request(
    requests_mock: Any, overrides: dict[str, Any], field: str, shown: str
) -> None:
    # Bad input can never succeed on a retry: the task fails at once (no Airflow retries).
    with pytest.raises(AirflowFailException) as info:
        run_execute(make(**overrides))
    message = str(info.value)
    assert message.startswith(f"invalid {field}={shown}")
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("field", ["amount", "max_amount"])
def test_float_is_refused_at_parse_time(field: str) -> None:
    with pytest.raises(InvalidParameterError, match="floats are refused"):
        make(**{field: 10.5})


def test_templated_strings_are_accepted_and_normalised() -> None:
    request = make(group_id="1001", amount="100.50", repay_from="None", max_amount="").validated_request()
    assert request.group_id == 1001
    assert request.amount == Decimal("100.50")
    assert request.repay_from is None and request.max_amount is None
    assert make(amount="Outstanding").validated_request().amount is None


def _acceptable(text: str) -> bool:
    """Reference rule, written independently: plain digits, optional fraction of 1-8 digits, > 0."""
    text = text.strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or not whole.isascii() or (_ and not (frac.isdigit() and frac.isascii())):
        return False
    return len(frac) <= 8 and Decimal(text) > 0


_bad_amounts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(max_value=0, allow_nan=False, allow_infinity=False).map(str),
    st.decimals(min_value=Decimal("0.000000000001"), max_value=Decimal("0.00000000099"), places=12).map(str),
    st.text(alphabet="0123456789.eE+-, xX_", min_size=1, max_size=12),
).filter(lambda s: not _acceptable(s))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=_bad_amounts,
    group=st.one_of(st.integers(max_value=0), st.text(max_size=5).filter(lambda s: not s.strip().isdigit())),
)
def test_generated_bad_inputs_never_send(requests_mock: Any, amount: str, group: Any) -> None:
    for overrides in ({"amount": amount}, {"group_id": group}):
        with pytest.raises(InvalidParameterError):
            make(**overrides).validated_request()
    assert requests_mock.call_count == 0
