"""RiskUnitLtvTrigger against the sandbox over real HTTP, in virtual time (nothing sleeps): it fires on the
read after a price shock and not before, times out saying what it saw, fails at once on a rejected key,
and takes every read's weight from the connection's shared budget."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_loan_sandbox import SandboxClock, SandboxServer
from ltv_sandbox import UNIT, ScriptedClock, conn_env, hold_coin, ltv_of, set_prices

from airflow_binance_loan.client.encoding import format_decimal
from airflow_binance_loan.triggers.ltv import RiskUnitLtvTrigger

pytestmark = pytest.mark.integration
CONN = "binance_credit_ltv_parent"


def collect(trigger: RiskUnitLtvTrigger) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(run())


@pytest.fixture
def world(sandbox_factory: Any, demo_creds: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path) -> Any:
    """A sandbox on a scripted virtual clock, unit 10002 holding 10 SOL at 45000, the parent's connection
    sharing its weight budget through files under ``tmp_path``; ``shock_after(n)`` drops SOL to 5000 after
    the trigger's n-th wait."""

    class World:
        def __init__(self) -> None:
            self.clock = ScriptedClock({})
            self.server: SandboxServer = sandbox_factory(clock=SandboxClock(source=self.clock.time))
            hold_coin(self.server)
            self.budget_dir = tmp_path / "budgets"
            self.budget_dir.mkdir()
            monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}",
                               conn_env(self.server, demo_creds["parent"], weight_budget=f"host:{self.budget_dir}"))

        def shock_after(self, waits: int) -> None:
            self.clock.on_wait[waits] = lambda: set_prices(self.server, SOL="5000")

        def trigger(self, level: Decimal, **kwargs: Any) -> RiskUnitLtvTrigger:
            kwargs.setdefault("deadline", self.clock.time() + 3600)
            return RiskUnitLtvTrigger(CONN, {"direction": "at_least", "level": format_decimal(level)}, UNIT,
                                      poll_interval=60, clock=self.clock, **kwargs)

    return World()


def between(low: Decimal, high: Decimal) -> Decimal:
    return ((low + high) / 2).quantize(Decimal("0.0001"))


def test_fires_on_the_read_after_the_shock_and_not_before(world: Any) -> None:
    calm = ltv_of(world.server)
    set_prices(world.server, SOL="5000")
    shocked = ltv_of(world.server)
    set_prices(world.server, SOL="45000")
    level = between(calm, shocked)
    assert calm < level < shocked

    world.shock_after(3)  # SOL falls between the 3rd and the 4th read
    (event,) = collect(world.trigger(level))

    assert event["status"] == "crossed" and event["polls"] == 4
    assert world.server.endpoint_counts["ltv_details"] == 4  # three reads without firing, then the crossing
    assert world.clock.slept >= 180
    unit = event["unit"]
    assert unit["group_id"] == UNIT and unit["ltv"] == format_decimal(shocked) == event["last_seen"][str(UNIT)]
    state = world.server.state.unit(UNIT)
    assert unit["liabilities"] == [
        {"asset": a, "principal": format_decimal(x.principal), "interest": format_decimal(x.interest),
         "outstanding": format_decimal(x.outstanding)}
        for a, x in sorted(state.liabilities.items()) if x.outstanding > 0]
    assert event["threshold"] == {"direction": "at_least", "level": format_decimal(level)}
    assert json.loads(json.dumps(event)) == event  # plain JSON: exact decimal strings, no floats
    # Every read took its weight from the connection's shared budget (one file per limit key).
    assert any(world.budget_dir.iterdir())


def test_times_out_at_its_deadline_without_firing(world: Any) -> None:
    calm = ltv_of(world.server)
    (event,) = collect(world.trigger(calm + Decimal("0.01"), deadline=world.clock.time() + 150))
    assert event["status"] == "timeout" and event["polls"] == 4 and event["unit"] is None
    assert f"last LTV seen: {UNIT}: {format_decimal(calm)}" in event["detail"]


def test_any_unit_mode_names_every_unit_that_crossed(world: Any) -> None:
    trigger = RiskUnitLtvTrigger(CONN, {"direction": "at_least", "level": "0"}, None, poll_interval=60,
                                 deadline=None, clock=world.clock)
    (event,) = collect(trigger)
    assert event["status"] == "crossed" and event["polls"] == 1 and event["group_id"] is None
    assert sorted(u["group_id"] for u in event["units"]) == [10001, 10002, 10003, 10004]


def test_a_rejected_key_fires_error_at_once_without_its_secret(world: Any, demo_creds: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = {**demo_creds["parent"], "secret": "s3cr3t" * 10}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", conn_env(world.server, wrong))
    (event,) = collect(world.trigger(Decimal("0.5")))
    assert event["status"] == "error" and event["polls"] == 1
    assert "InvalidSignatureError" in event["detail"] and "-1022" in event["detail"]
    assert "s3cr3t" not in json.dumps(event)


def test_a_missing_connection_fires_error(world: Any) -> None:
    trigger = RiskUnitLtvTrigger("no_such_connection", {"direction": "at_most", "level": "0.5"}, UNIT)
    (event,) = collect(trigger)
    assert event["status"] == "error" and "no_such_connection" in event["detail"]


def test_serializes_plain_values_only(world: Any) -> None:
    path, kwargs = world.trigger(Decimal("0.8")).serialize()
    assert path == "airflow_binance_loan.triggers.ltv.RiskUnitLtvTrigger"
    assert "clock" not in kwargs and json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs["threshold"] == {"direction": "at_least", "level": "0.8"}
    assert RiskUnitLtvTrigger(**kwargs).serialize() == (path, kwargs)
