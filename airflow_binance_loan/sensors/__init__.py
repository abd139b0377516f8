"""Airflow sensors of the Binance Institutional Loan provider (imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_binance_loan.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_binance_loan.sensors.ltv import RiskUnitLtvSensor

__all__ = ["RiskUnitLtvSensor"]
_HOMES = {
    "RiskUnitLtvSensor": "airflow_binance_loan.sensors.ltv",
}
__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
