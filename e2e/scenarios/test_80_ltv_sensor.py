"""Scenario 8: the LTV sensor in the real triggerer. ``binance_ltv_wait`` is triggered for a risk unit
that owes money and holds SOL; its ``RiskUnitLtvSensor`` goes to ``deferred`` and its
``RiskUnitLtvTrigger`` reads ltv-details in the triggerer process without firing while the LTV is under
the level; after a price shock (``POST /sandbox/prices``, SOL 45000 → 5000) it fires, the task succeeds on
try 1, and the XCom carries the unit's LTV exactly as ltv-details reports it after the shock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from binance_loan_sandbox import demo_credentials
from stack_api import AirflowApi, Sandbox, StackInfo, wait_until

from airflow_binance_loan.client import connect
from airflow_binance_loan.client.encoding import format_decimal

WAIT_DAG = "binance_ltv_wait"
CALM, SHOCK = "45000", "5000"


def admin(stack: StackInfo, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{stack.sandbox_url}/sandbox/{path}", json=body, timeout=30)
    assert answer.status_code == 200, f"POST /sandbox/{path}: HTTP {answer.status_code} {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


def ltv_details_reads(stack: StackInfo) -> int:
    counts: dict[str, Any] = requests.get(f"{stack.sandbox_url}/sandbox/requests", timeout=30).json()
    return int(counts["byEndpoint"].get("ltv_details", 0))


@pytest.fixture
def unit(stack: StackInfo, sandbox: Sandbox, api: AirflowApi, connections: dict[str, dict[str, Any]]) -> Iterator[int]:
    """A unit that owes money (earlier scenarios repaid most), holding 10 SOL at 45000 in its credit SPOT wallet."""
    owing = sorted({g for (g, _), row in sandbox.liabilities().items()
                    if Decimal(row["principal"]) + Decimal(row["interest"]) > 0})
    assert owing, "no risk unit owes anything: nothing has an LTV to watch"
    group_id = owing[-1]
    admin(stack, "balance", {"groupId": group_id, "asset": "SOL", "amount": "10", "wallet": "SPOT"})
    admin(stack, "prices", {"prices": {"SOL": CALM}})
    wait_until(lambda: api.request("GET", f"/dags/{WAIT_DAG}", expect=None).status_code == 200, 120,
               f"the DAG processor to parse {WAIT_DAG}")
    api.set_paused(WAIT_DAG, False)
    yield group_id
    admin(stack, "prices", {"prices": {"SOL": CALM}})
    admin(stack, "balance", {"groupId": group_id, "asset": "SOL", "amount": "0", "wallet": "SPOT"})


def ltv_now(stack: StackInfo, group_id: int) -> Decimal:
    """The unit's LTV through the provider's client, as the sensor reads it."""
    creds = demo_credentials()["parent"]
    client = connect(creds["apiKey"], creds["secret"], base_url=stack.sandbox_url, key_type=creds["keyType"],
                     budget_store="process")
    try:
        (details,) = client.ltv_details(group_id)
        return details.ltv
    finally:
        client.session.close()


def test_sensor_defers_in_the_triggerer_and_fires_after_a_price_shock(api: AirflowApi, stack: StackInfo,
                                                                      unit: int) -> None:
    calm = ltv_now(stack, unit)
    admin(stack, "prices", {"prices": {"SOL": SHOCK}})
    shocked = ltv_now(stack, unit)
    admin(stack, "prices", {"prices": {"SOL": CALM}})
    level = ((calm + shocked) / 2).quantize(Decimal("0.0001"))
    assert calm < level < shocked, (calm, level, shocked)

    run_id = f"e2e_ltv_{uuid.uuid4().hex[:8]}"
    api.trigger(WAIT_DAG, {"group_id": unit, "direction": "at_least", "level": format_decimal(level)}, run_id)

    def deferred() -> dict[str, Any] | None:
        (ti,) = api.task_instances(WAIT_DAG, run_id, "wait_for_ltv") or [None]
        if ti and ti["state"] in ("success", "failed", "up_for_retry", "skipped"):
            raise AssertionError(f"the sensor finished before the shock: {ti}")
        return ti if ti and ti["state"] == "deferred" and ti.get("triggerer_job") else None

    ti = wait_until(deferred, 180, "the LTV sensor to be deferred and picked up by the triggerer")
    assert ti["try_number"] == 1 and "RiskUnitLtvTrigger" in ti["trigger"]["classpath"], ti
    # The trigger reads in the triggerer, and does not fire while the LTV is under the level.
    reads = ltv_details_reads(stack)
    wait_until(lambda: ltv_details_reads(stack) > reads, 90, "the trigger to read ltv-details again")
    assert api.task_instance(WAIT_DAG, run_id, "wait_for_ltv")["state"] == "deferred"

    admin(stack, "prices", {"prices": {"SOL": SHOCK}})
    run = api.wait_run(WAIT_DAG, run_id, 180)
    sensor = api.task_instance(WAIT_DAG, run_id, "wait_for_ltv")
    assert run["state"] == "success" and sensor["state"] == "success" and sensor["try_number"] == 1, (run, sensor)
    event = api.xcom(WAIT_DAG, run_id, "wait_for_ltv")
    assert event["status"] == "crossed" and event["unit"]["group_id"] == unit, event
    assert event["unit"]["ltv"] == format_decimal(shocked), (event, shocked)
    assert event["threshold"] == {"direction": "at_least", "level": format_decimal(level)}, event
    assert api.xcom(WAIT_DAG, run_id, "continue_workflow") == event["unit"]
