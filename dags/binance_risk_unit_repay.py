"""
### Repay one Binance risk unit (manual)

Trigger with the form: risk unit, asset, amount (a decimal or `outstanding`), wallet, cap and
connection. **Dry run is on by default**: the task resolves and logs the amount and sends nothing.
Untick *Dry run* to repay for real.

The repay task is `RiskUnitRepayOperator`, templated from the params; `dry_run` is not a template
field, so the small `mode` task turns the param into the one-element list the repay is expanded over
(the task shows as `repay [0]`). Its XCom `return_value` holds the exact result (decimal strings).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_binance_loan.operators.repay import RiskUnitRepayOperator

DAG_ID = "binance_risk_unit_repay"
ASSETS = ["USDT", "USDC"]
#: A decimal > 0 with at most 8 decimals, or the literal "outstanding".
AMOUNT_PATTERN = r"^(outstanding|(?=[0-9.]*[1-9])[0-9]+(\.[0-9]{1,8})?)$"
CAP_PATTERN = r"^(?=[0-9.]*[1-9])[0-9]+(\.[0-9]{1,8})?$"

with DAG(
    dag_id=DAG_ID,
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    doc_md=__doc__,
    tags=["binance", "loan", "manual"],
    params={
        "group_id": Param(
            type="integer", minimum=1, title="Risk unit (groupId)",
            description="The risk unit to repay, as shown by ltv-details.",
        ),
        "asset": Param(
            "USDT", type="string", enum=ASSETS, title="Asset", description="Liability asset to repay.",
        ),
        "amount": Param(
            "outstanding", type="string", pattern=AMOUNT_PATTERN, title="Amount",
            description='A decimal such as 1000.5 (at most 8 decimals), or "outstanding" for the unit\'s '
            "current principal + interest, read just before repaying.",
        ),
        "repay_from": Param(
            None, type=["null", "string"], enum=[None, "MARGIN", "SPOT"], title="Repay from",
            values_display={"MARGIN": "Margin wallet (Binance default)", "SPOT": "Spot wallet"},
            description="Empty = Binance's default (MARGIN).",
        ),
        "dry_run": Param(
            True, type="boolean", title="Dry run",
            description="Resolve and log what would be repaid, send nothing. Untick to repay for real.",
        ),
        "binance_credit_conn_id": Param(
            "binance_credit_default", type="string", minLength=1, title="Connection",
            description="The risk unit's credit-account connection (repay must be signed by it).",
        ),
        "max_amount": Param(
            None, type=["null", "string"], pattern=CAP_PATTERN, title="Safety cap",
            description="Optional: fail before sending if the amount (or outstanding) exceeds this.",
        ),
    },
) as dag:

    @task
    def mode(params: dict[str, Any]) -> list[bool]:
        """The dry-run flag as the one-element list the repay is expanded over (logged loudly)."""
        import logging

        dry_run = bool(params["dry_run"])
        logging.getLogger("binance_risk_unit_repay").info(
            "%s: %s %s on risk unit %s via %s",
            "DRY RUN (nothing will be sent)" if dry_run else "REAL REPAY",
            params["amount"], params["asset"], params["group_id"], params["binance_credit_conn_id"],
        )
        return [dry_run]

    RiskUnitRepayOperator.partial(
        task_id="repay",
        group_id="{{ params.group_id }}",
        asset="{{ params.asset }}",
        amount="{{ params.amount }}",
        repay_from="{{ params.repay_from or '' }}",
        binance_credit_conn_id="{{ params.binance_credit_conn_id }}",
        max_amount="{{ params.max_amount or '' }}",
        deferrable=True,
    ).expand(dry_run=mode())
