"""LTV alerts without an alert storm: one notification per unit per crossing, with a cool-down.

The state is a small JSON document (the watch DAG keeps it in an Airflow Variable), one entry per
(risk unit, warning level)::

    {"version": 1, "entries": {"10001@0.75": {"group_id": 10001, "level": "0.75", "above": true,
     "since_ms": ..., "notified_ms": ..., "pending": false, "ltv": "0.8123"}}}

The rules, for each unit and level at every look:

* the unit goes **at or above** the level (it was under): a crossing. It is notified at once,
  unless the previous notification for this unit and level is younger than the cool-down: then it
  is *held* and notified at the first look after the cool-down if the unit is still above (a
  unit flapping around the level notifies at most once per cool-down, and a crossing is never lost
  while the unit stays above);
* it stays above: nothing more (it was notified, or is held);
* it goes back **under**: the crossing is over (logged, not notified); a held notification is
  dropped. The next crossing is new.

A notification counts as sent only once every notifier returned; a notifier that fails leaves it
pending, so the next look tries again (at least once: a crash between sending and saving the state
can repeat one notification). Units that ``ltv-details`` no longer lists (closed) are forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from airflow_binance_loan.client.models import RiskUnitDetails
from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.ltv.estimate import RepaymentEstimate, estimate_repayment
from airflow_binance_loan.ltv.thresholds import parse_level
from airflow_binance_loan.money import format_decimal

STATE_VERSION = 1
log = logging.getLogger(__name__)


def warning_levels(values: Iterable[object], field_name: str = "warning_levels") -> list[Decimal]:
    """Warning levels as exact decimals greater than 0, each once, lowest first.

    :param values: the levels (decimal strings, ints or Decimals; floats are refused).
    :param field_name: the parameter's name, for the error message.
    """
    given = list(values)
    levels = sorted({parse_level(value, field_name) for value in given})
    if not levels or levels[0] <= 0:
        raise InvalidParameterError(field_name, given, "needs at least one level, each greater than 0")
    return levels


def _key(group_id: int, level: Decimal) -> str:
    return f"{group_id}@{format_decimal(level)}"


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class LtvAlert:
    """One notification: a unit at or above a warning level, with what would bring it back under."""

    unit: RiskUnitDetails
    level: Decimal
    crossed_at_ms: int
    estimate: RepaymentEstimate
    notified_late: bool = False

    @property
    def key(self) -> str:
        """``<groupId>@<level>``: the state entry this alert belongs to."""
        return _key(self.unit.group_id, self.level)

    @property
    def subject(self) -> str:
        """One line, e.g. for an e-mail subject."""
        return (f"Binance risk unit {self.unit.group_id}: LTV {format_decimal(self.unit.ltv)} is at or above "
                f"{format_decimal(self.level)}")

    @property
    def text(self) -> str:
        """The message: unit, LTV, level, what would bring it back under, and the liabilities."""
        unit, est = self.unit, self.estimate
        lines = [
            f"{self.subject} (crossed at {_when(self.crossed_at_ms)}"
            + ("; notified late: held by the cool-down or an earlier send failed)." if self.notified_late
               else ")."),
        ]
        if est.repay_from_unit is None:
            lines.append("Repaying from the unit's own wallets cannot bring it under: its net equity after "
                         "maintenance margin is not positive. Add collateral worth at least "
                         f"{format_decimal(est.collateral_to_add)}.")
        else:
            lines.append(
                f"Repaying {format_decimal(est.repay_from_unit)} from the credit account's wallet would bring it "
                f"under {format_decimal(self.level)} ({format_decimal(est.repay_with_new_funds or Decimal(0))} if "
                f"the funds are first transferred into the unit; or add collateral worth "
                f"{format_decimal(est.collateral_to_add)}). Amounts in the unit's valuation currency (USDT/USDC 1:1).")
        lines.append("Estimate inferred from Binance's docs: LTV = totalLiability / (totalNetEquity - "
                     "totalMaintenanceMargin); a repay from the unit's own wallet leaves its net equity unchanged.")
        if not est.fits_reported_ltv:
            lines.append(f"CAUTION: the reported LTV does not fit that formula (it gives {est.implied_ltv}); "
                         "treat the amounts as a rough guide.")
        lines.append(f"Figures: totalLiability {format_decimal(unit.total_liability)}, totalNetEquity "
                     f"{format_decimal(unit.total_net_equity)}, totalMaintenanceMargin "
                     f"{format_decimal(unit.total_maintenance_margin)}.")
        for item in sorted(unit.liabilities, key=lambda i: i.asset):
            lines.append(f"Owes {format_decimal(item.outstanding)} {item.asset} (principal "
                         f"{format_decimal(item.principal)} + interest {format_decimal(item.interest)}).")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """Plain form for XCom and notifier templates (``subject``, ``text``, decimal strings)."""
        return {"group_id": self.unit.group_id, "ltv": format_decimal(self.unit.ltv),
                "level": format_decimal(self.level), "crossed_at_ms": self.crossed_at_ms,
                "subject": self.subject, "text": self.text, "estimate": self.estimate.to_json(),
                "unit": self.unit.to_json()}


@dataclass
class AlertPlan:
    """What one look decided: ``alerts`` to send now, ``held`` / ``cleared`` keys, the state to keep."""

    alerts: list[LtvAlert] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=lambda: {"version": STATE_VERSION, "entries": {}})
    warnings: list[str] = field(default_factory=list)

    def mark_sent(self, alert: LtvAlert, now_ms: int) -> None:
        """Record that every notifier delivered ``alert`` (its cool-down starts now).

        :param alert: the alert that was sent.
        :param now_ms: when.
        """
        entry = self.state["entries"][alert.key]
        entry.update(pending=False, notified_ms=now_ms)


def _entries(state: Any, warnings: list[str]) -> dict[str, dict[str, Any]]:
    if state is None:
        return {}
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or not isinstance(
            state.get("entries"), dict):
        warnings.append(f"the alert state is not a version-{STATE_VERSION} document; starting afresh "
                        "(an alert may repeat once)")
        return {}
    return {k: dict(v) for k, v in state["entries"].items() if isinstance(v, dict)}


def plan_alerts(
    state: Any, units: Iterable[RiskUnitDetails], levels: Sequence[Decimal], now_ms: int, cooldown_ms: int
) -> AlertPlan:
    """Apply the rules of the module docstring to one look at every unit.

    :param state: the stored state (None the first time; a malformed one starts afresh, with a warning).
    :param units: every risk unit from one ``ltv-details`` read.
    :param levels: the warning levels (ratios > 0).
    :param now_ms: the time of the look.
    :param cooldown_ms: the minimum time between two notifications for one unit and level.
    """
    plan = AlertPlan()
    old = _entries(state, plan.warnings)
    new: dict[str, dict[str, Any]] = {}
    for unit in units:
        for level in levels:
            key = _key(unit.group_id, level)
            entry = old.get(key) or {"group_id": unit.group_id, "level": format_decimal(level), "above": False,
                                     "since_ms": None, "notified_ms": None, "pending": False}
            entry["ltv"] = format_decimal(unit.ltv)
            new[key] = entry
            if unit.ltv < level:
                if entry["above"]:
                    plan.cleared.append(key)
                entry.update(above=False, since_ms=None, pending=False)
                continue
            if not entry["above"]:
                entry.update(above=True, since_ms=now_ms, pending=True)
            if not entry["pending"]:
                continue
            last = entry.get("notified_ms")
            if last is not None and now_ms - int(last) < cooldown_ms:
                plan.held.append(key)
                continue
            plan.alerts.append(LtvAlert(unit, level, int(entry["since_ms"]), estimate_repayment(unit, level),
                                        notified_late=int(entry["since_ms"]) < now_ms))
    plan.state = {"version": STATE_VERSION, "entries": new}
    return plan


def notify_crossings(
    *,
    units: Sequence[RiskUnitDetails],
    levels: Sequence[Decimal],
    state: Any,
    save_state: Callable[[dict[str, Any]], None],
    send: Callable[[LtvAlert], None],
    now_ms: int,
    cooldown_ms: int,
) -> dict[str, Any]:
    """One look: plan, send each alert through ``send``, save the state, report what happened.

    Every alert is attempted; the state is saved even when some failed (those stay pending), and then
    the first failure is raised.

    :param units: every unit from one ``ltv-details`` read.
    :param levels: warning levels.
    :param state: the stored state.
    :param save_state: stores the new state.
    :param send: delivers one alert through every notifier (raises if any failed).
    :param now_ms: the time of the look.
    :param cooldown_ms: the cool-down.
    """
    plan = plan_alerts(state, units, levels, now_ms, cooldown_ms)
    for warning in plan.warnings:
        log.warning("LTV watch: %s", warning)
    sent: list[dict[str, Any]] = []
    failures: list[tuple[str, Exception]] = []
    for alert in plan.alerts:
        try:
            send(alert)
        except Exception as exc:  # the others are still sent; this one stays pending
            log.error("LTV watch: notifying %s failed (%s); it stays pending for the next look", alert.key, exc)
            failures.append((alert.key, exc))
            continue
        plan.mark_sent(alert, now_ms)
        sent.append(alert.to_json())
    for key in plan.cleared:
        log.info("LTV watch: %s is back under its level", key)
    for key in plan.held:
        log.info("LTV watch: %s crossed again within the cool-down; notification held", key)
    save_state(plan.state)
    if failures:
        first_key, first_error = failures[0]
        raise RuntimeError(f"{len(failures)} LTV alert(s) could not be sent (first: {first_key}: {first_error}); "
                           "they stay pending and are retried at the next look") from first_error
    return {
        "checked": sorted({u.group_id for u in units}),
        "levels": [format_decimal(level) for level in levels],
        "above": sorted(k for k, e in plan.state["entries"].items() if e["above"]),
        "notified": sent,
        "held": plan.held,
        "cleared": plan.cleared,
    }
