"""Alert de-duplication: one notification per unit per crossing, a cool-down, nothing lost, nothing stormed."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from airflow_binance_loan.ltv.alerts import LtvAlert, notify_crossings, plan_alerts

from .units import unit

MIN = 60_000
COOLDOWN = 60 * MIN
LEVEL = [Decimal("0.75")]


def at(ltv: str, group_id: int = 10001) -> Any:
    # LTV = L / E with no maintenance margin: equity 1000, liability 1000 x ltv.
    return unit(group_id, ltv, liability=str(Decimal(ltv) * 1000), equity="1000",
                owes=(("USDT", str(Decimal(ltv) * 1000 - 1), "1"),))


class Watch:
    """Looks through notify_crossings with a stored state (JSON round trip, like the Variable) and a sender."""

    def __init__(self, levels: list[Decimal] = LEVEL) -> None:
        self.state: Any = None
        self.sent: list[LtvAlert] = []
        self.fail_next = False
        self.levels = levels

    def send(self, alert: LtvAlert) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("SMTP server unreachable")
        self.sent.append(alert)

    def save(self, state: dict[str, Any]) -> None:
        self.state = json.loads(json.dumps(state))

    def look(self, minute: int, *units: Any) -> list[tuple[int, str]]:
        before = len(self.sent)
        notify_crossings(units=units, levels=self.levels, state=self.state, save_state=self.save, send=self.send,
                         now_ms=minute * MIN, cooldown_ms=COOLDOWN)
        return [(a.unit.group_id, str(a.level)) for a in self.sent[before:]]


def test_one_notification_per_crossing_and_a_cool_down_against_flapping():
    watch = Watch()
    assert watch.look(0, at("0.7")) == []
    assert watch.look(5, at("0.8")) == [(10001, "0.75")]          # crossed: notified at once
    assert watch.look(10, at("0.81")) == []                        # still above: nothing more
    assert watch.look(15, at("0.7")) == []                         # back under: cleared, not notified
    assert watch.look(20, at("0.76")) == []                        # crossed again within the cool-down: held
    assert watch.look(60, at("0.77")) == []                        # still within (notified at minute 5)
    assert watch.look(65, at("0.77")) == [(10001, "0.75")]         # cool-down over and still above: notified
    assert watch.sent[-1].notified_late and watch.sent[-1].crossed_at_ms == 20 * MIN
    assert watch.look(70, at("0.5")) == []
    assert watch.look(200, at("0.9")) == [(10001, "0.75")]         # a new crossing after the cool-down


def test_a_held_crossing_that_clears_in_time_is_dropped():
    watch = Watch()
    watch.look(0, at("0.8"))
    assert watch.look(10, at("0.7")) == [] and watch.look(20, at("0.8")) == [] and watch.look(30, at("0.7")) == []
    assert watch.look(90, at("0.7")) == []


def test_each_unit_and_level_has_its_own_crossing():
    watch = Watch([Decimal("0.7"), Decimal("0.8")])
    assert watch.look(0, at("0.75", 1), at("0.5", 2)) == [(1, "0.7")]
    assert watch.look(5, at("0.85", 1), at("0.72", 2)) == [(1, "0.8"), (2, "0.7")]
    assert sorted(watch.state["entries"]) == ["1@0.7", "1@0.8", "2@0.7", "2@0.8"]
    assert watch.look(10, at("0.85", 1)) == []                     # unit 2 no longer listed (closed): forgotten
    assert sorted(watch.state["entries"]) == ["1@0.7", "1@0.8"]


def test_a_failed_send_stays_pending_and_is_retried_at_the_next_look():
    watch = Watch()
    watch.fail_next = True
    with pytest.raises(RuntimeError, match=r"1 LTV alert.*could not be sent .*SMTP server unreachable"):
        watch.look(0, at("0.8"))
    assert watch.state["entries"]["10001@0.75"]["pending"] is True  # the state was saved anyway
    assert watch.look(5, at("0.8")) == [(10001, "0.75")]
    assert watch.look(10, at("0.8")) == []


def test_a_malformed_state_starts_afresh_with_a_warning(caplog):
    plan = plan_alerts({"entries": "?"}, [at("0.8")], LEVEL, 0, COOLDOWN)
    assert len(plan.alerts) == 1 and "starting afresh" in plan.warnings[0]


def test_the_message_names_unit_ltv_level_and_the_repayment():
    watch = Watch()
    watch.look(0, unit(10001, "0.8", liability="800", equity="1000", owes=(("USDT", "799", "1"),)))
    (alert,) = watch.sent
    assert alert.subject == "Binance risk unit 10001: LTV 0.8 is at or above 0.75"
    # R = 800 - 0.75 x 1000 = 50 lands exactly on 0.75, which still counts: 50.00000001.
    assert "Repaying 50.00000001 from the credit account's wallet would bring it under 0.75" in alert.text
    assert "Owes 800 USDT (principal 799 + interest 1)." in alert.text
    assert "inferred from Binance's docs" in alert.text and "CAUTION" not in alert.text
    data = alert.to_json()
    assert (data["group_id"], data["ltv"], data["level"]) == (10001, "0.8", "0.75")
    assert data["estimate"]["repay_from_unit"] == "50.00000001"
    assert json.loads(json.dumps(data)) == data


def test_warning_levels_are_exact_positive_and_each_once():
    from airflow_binance_loan.exceptions import InvalidParameterError
    from airflow_binance_loan.ltv.alerts import warning_levels

    assert warning_levels(["0.8", "0.7", "0.80"]) == [Decimal("0.7"), Decimal("0.8")]
    for bad in ([], ["0"], [0.7], ["70"]):
        with pytest.raises(InvalidParameterError, match="warning_levels"):
            warning_levels(bad)
