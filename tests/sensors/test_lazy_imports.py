"""The sensor, trigger and operator modules DAG files import stay light: no requests, no cryptography
loaded by this provider, no client, until a task runs (DAG parse time is measured)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("requests", "airflow_binance_loan.client", "airflow_binance_loan.hooks.credit")


@pytest.mark.parametrize("module", ["airflow_binance_loan.sensors.ltv", "airflow_binance_loan.triggers.ltv",
                                    "airflow_binance_loan.sensors", "airflow_binance_loan.triggers",
                                    "airflow_binance_loan.operators.books", "airflow_binance_loan.notifications.log"])
def test_importing_does_not_load_the_client(module: str) -> None:
    code = (f"import sys, {module}; "
            f"loaded = [m for m in sys.modules if m in {HEAVY!r} or m.startswith('airflow_binance_loan.client.')]; "
            "assert not loaded, loaded")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_package_names_still_resolve() -> None:
    from airflow_binance_loan.operators import RiskUnitRepayOperator
    from airflow_binance_loan.sensors import RiskUnitLtvSensor
    from airflow_binance_loan.triggers import RepayEvidenceTrigger, RiskUnitLtvTrigger

    assert RiskUnitRepayOperator.__name__ == "RiskUnitRepayOperator" and RiskUnitLtvSensor and RiskUnitLtvTrigger
    assert RepayEvidenceTrigger.__module__ == "airflow_binance_loan.triggers.repay_evidence"
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        from airflow_binance_loan import sensors

        _ = sensors.Nope
