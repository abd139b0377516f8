"""Airflow triggers of the Binance Institutional Loan provider (imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_binance_loan.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_binance_loan.triggers.ltv import RiskUnitLtvTrigger
    from airflow_binance_loan.triggers.repay_evidence import RepayEvidenceTrigger

__all__ = ["RepayEvidenceTrigger", "RiskUnitLtvTrigger"]
_HOMES = {
    "RepayEvidenceTrigger": "airflow_binance_loan.triggers.repay_evidence",
    "RiskUnitLtvTrigger": "airflow_binance_loan.triggers.ltv",
}
__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
