"""RiskUnitLtvSensor: input checked before any network call, deferral to the LTV trigger with plain
kwargs, what each trigger event does to the task, and poke mode against the sandbox over real HTTP."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)
from ltv_sandbox import UNIT, conn_env, hold_coin, ltv_of, set_prices

from airflow_binance_loan.client.encoding import format_decimal
from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.sensors.ltv import RiskUnitLtvSensor
from airflow_binance_loan.triggers.ltv import RiskUnitLtvTrigger

CROSSED = {"status": "crossed", "unit": {"group_id": UNIT, "ltv": "0.8"}, "units": [], "detail": "risk unit ..."}


def sensor(**kwargs: Any) -> RiskUnitLtvSensor:
    kwargs.setdefault("task_id", "wait_ltv")
    kwargs.setdefault("binance_credit_conn_id", "binance_credit_nowhere")  # never looked up before validation
    return RiskUnitLtvSensor(**kwargs)


def test_floats_and_hot_polling_are_refused_when_the_dag_is_parsed() -> None:
    with pytest.raises(InvalidParameterError, match=r"ltv_at_least=0\.75"):
        sensor(ltv_at_least=0.75)
    with pytest.raises(InvalidParameterError, match=r"poke_interval=0\.5: must be at least 1 second"):
        sensor(ltv_at_most="0.5", poke_interval=0.5)


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"ltv_at_least": "0.7.5"}, "invalid ltv_at_least='0.7.5': must be a decimal ratio"),
    ({"ltv_at_least": "75"}, "not a percentage"),
    ({"ltv_at_least": "0.7", "ltv_at_most": "0.5"}, "give exactly one of ltv_at_least"),
    ({}, "give exactly one of ltv_at_least"),
    ({"ltv_at_most": "0.5", "group_id": "None"}, "invalid group_id='None': must be a positive integer"),
    ({"ltv_at_most": "0.5", "group_id": -3}, "invalid group_id=-3"),
])
def test_bad_input_after_templating_fails_the_task_before_any_network_call(kwargs: dict[str, Any],
                                                                           says: str) -> None:
    with pytest.raises(AirflowFailException) as info:
        sensor(**kwargs).execute(context={})  # type: ignore[arg-type]
    assert says in str(info.value)


def test_defers_to_the_ltv_trigger_with_plain_kwargs_and_a_deadline() -> None:
    task = sensor(ltv_at_least="0.75", group_id=" ", poke_interval=30, timeout=600)
    before = time.time()
    with pytest.raises(TaskDeferred) as info:
        task.execute(context={})  # type: ignore[arg-type]
    deferred = info.value
    assert isinstance(deferred.trigger, RiskUnitLtvTrigger) and deferred.method_name == "execute_complete"
    _, kwargs = deferred.trigger.serialize()
    assert kwargs["threshold"] == {"direction": "at_least", "level": "0.75"} and kwargs["group_id"] is None
    assert kwargs["poll_interval"] == 30 and before + 600 <= kwargs["deadline"] <= time.time() + 600
    assert deferred.timeout == timedelta(seconds=600) + timedelta(minutes=5)


def test_each_trigger_event_decides_the_task() -> None:
    task = sensor(ltv_at_least="0.75")
    assert task.execute_complete({}, CROSSED) == CROSSED  # type: ignore[arg-type]
    with pytest.raises(AirflowSensorTimeout, match="timed out: no crossing"):
        task.execute_complete({}, {"status": "timeout", "detail": "no crossing"})  # type: ignore[arg-type]
    with pytest.raises(AirflowFailException, match="stopped: AuthenticationError"):
        task.execute_complete({}, {"status": "error", "detail": "AuthenticationError: -2015"})  # type: ignore[arg-type]
    with pytest.raises(AirflowException, match="could not read ltv-details") as info:
        task.execute_complete({}, {"status": "unreadable", "detail": "503"})  # type: ignore[arg-type]
    assert not isinstance(info.value, AirflowFailException)  # a retry may help here


def test_soft_fail_skips_on_timeout() -> None:
    task = sensor(ltv_at_least="0.75", soft_fail=True)
    with pytest.raises(AirflowSkipException):
        task.resume_execution("execute_complete", {"event": {"status": "timeout", "detail": "x"}}, {})  # type: ignore[arg-type]


@pytest.mark.integration
def test_poke_mode_reads_the_sandbox_and_fires_after_a_shock(sandbox: Any, demo_creds: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BINANCE_CREDIT_PARENT", conn_env(sandbox, demo_creds["parent"],
                                                                      weight_budget="process"))
    hold_coin(sandbox)
    calm = ltv_of(sandbox)
    task = RiskUnitLtvSensor(task_id="wait", ltv_at_least=format_decimal(calm + Decimal("0.05")), group_id=UNIT,
                             deferrable=False, poke_interval=1)
    assert task.poke({}) is False  # type: ignore[arg-type]
    set_prices(sandbox, SOL="5000")
    result = task.poke({})  # type: ignore[arg-type]
    assert isinstance(result, PokeReturnValue) and result.is_done
    event = result.xcom_value
    assert event["status"] == "crossed" and event["unit"]["ltv"] == format_decimal(ltv_of(sandbox))
    assert sandbox.endpoint_counts["ltv_details"] == 2
    # Non-deferrable execute: the first poke already sees the crossing; nothing sleeps.
    assert task.execute({})["unit"]["group_id"] == UNIT  # type: ignore[arg-type]
