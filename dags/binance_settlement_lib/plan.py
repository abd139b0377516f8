"""The month-end settlement plan: which (risk unit, asset) to repay, with which connection and cap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_binance_loan.conventions import credit_connection_id
from airflow_binance_loan.money import check_decimal_text, parse_decimal

#: Airflow Variable (JSON object groupId → connection id) consulted when the DAG param has no entry.
CONNECTION_MAP_VARIABLE = "binance_loan_connection_map"
#: Connection id used for a risk unit that neither the param nor the Variable maps.


def units_to_json(units: Iterable[Any]) -> list[dict[str, Any]]:
    """``RiskUnitDetails`` objects → plain JSON (amounts as strings), sorted by group id."""
    return [unit.to_json() for unit in sorted(units, key=lambda u: u.group_id)]


def connection_for(
    group_id: int, param_map: Mapping[str, Any] | None, variable_map: Mapping[str, Any] | None
) -> tuple[str, str]:
    """``(conn_id, source)`` for a risk unit: the DAG param beats the Variable beats the naming convention."""
    key = str(group_id)
    for source, mapping in (("param connection_map", param_map), (f"Variable {CONNECTION_MAP_VARIABLE}", variable_map)):
        conn_id = (mapping or {}).get(key)
        if conn_id is not None:
            if not isinstance(conn_id, str) or not conn_id.strip():
                raise ValueError(f"{source}[{key!r}]={conn_id!r} must be a non-empty connection id")
            return conn_id.strip(), source
    return credit_connection_id(group_id), "convention"


def build_plan(
    units: list[dict[str, Any]],
    *,
    threshold: str,
    connection_map: Mapping[str, Any] | None = None,
    variable_map: Mapping[str, Any] | None = None,
    caps: Mapping[str, Any] | None = None,
    repay_from: str | None = None,
) -> list[dict[str, Any]]:
    """One ``expand_kwargs`` item per (unit, asset) whose outstanding exceeds ``threshold``.

    The amount stays ``"outstanding"``: the operator re-reads the liability just before repaying,
    so interest accrued since ``read_liabilities`` is included. ``max_amount`` is the unit's cap
    (``caps[str(group_id)]``) or None; a larger outstanding fails that repay before anything is sent.
    """
    minimum = parse_decimal(check_decimal_text(threshold, "threshold"), "threshold")
    caps = caps or {}
    plan = []
    for unit in units:
        group_id = int(unit["group_id"])
        cap = caps.get(str(group_id))
        if cap is not None:
            cap = check_decimal_text(cap, f"max_amount_per_unit[{group_id}]")
        conn_id, _source = connection_for(group_id, connection_map, variable_map)
        for item in unit["liabilities"]:
            if parse_decimal(item["outstanding"], "outstanding") <= minimum:
                continue
            plan.append(
                {
                    "group_id": group_id,
                    "asset": item["asset"],
                    "amount": "outstanding",
                    "binance_credit_conn_id": conn_id,
                    "max_amount": cap,
                    "repay_from": repay_from,
                }
            )
    return plan
