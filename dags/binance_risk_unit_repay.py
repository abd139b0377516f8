"""
### Repay one Binance risk unit (manual)

Trigger with the form: risk unit, asset, amount (a decimal or `outstanding`), wallet, cap and
connection. **Dry run is on by default**: the task resolves and logs the amount and sends nothing.
Untick *Dry run* to repay for real.

* **Connection**: empty means the convention `binance_credit_<groupId>`.
* **Repeats are refused**: before a real repay, **guard** looks for a REPAY record of the same unit and
  asset (and the same amount, for a fixed amount) in the last `REPEAT_WINDOW_MINUTES` (60) minutes; if
  there is one, the run fails naming it, unless *I mean to repay again* is ticked. (Each run has its
  own journal, so two runs of a fixed amount would otherwise repay twice.)

The repay task is `RiskUnitRepayOperator`, templated from the params (the *Dry run* tick becomes its
`simulate` flag). Its XCom `return_value` holds the exact result (decimal strings).
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
#: How far back guard looks for a repay that the requested one would repeat.
REPEAT_WINDOW_MINUTES = 60

with DAG(
    dag_id=DAG_ID,
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    doc_md=__doc__,
    tags=["binance", "loan", "manual"],
    params={
        "group_id": Param(
            # exclusiveMinimum, not minimum: the form's number field would silently turn -1 into 1.
            type="integer", exclusiveMinimum=0, title="Risk unit (groupId)",
            description="The risk unit to repay, as shown by ltv-details (a positive whole number).",
        ),
        "asset": Param(
            "USDT", type="string", enum=ASSETS, title="Asset", description="Liability asset to repay.",
        ),
        "amount": Param(
            # anyOf, not a bare pattern: a bad amount then reads "is not valid under any of the given schemas"
            # next to this description, instead of showing the user a regular expression.
            "outstanding", type="string", anyOf=[{"enum": ["outstanding"]}, {"pattern": AMOUNT_PATTERN}],
            title="Amount",
            description='A decimal such as 1000.5 (greater than 0, digits and at most one point, at most 8 '
            'decimals, no exponent), or "outstanding" for the unit\'s current principal + interest, read just '
            "before repaying.",
        ),
        "repay_from": Param(
            None, type=["null", "string"], enum=[None, "MARGIN", "SPOT"], title="Repay from",
            values_display={"null": "Binance's default (MARGIN)", "MARGIN": "Margin wallet", "SPOT": "Spot wallet"},
            description="The credit account's wallet to repay from.",
        ),
        "dry_run": Param(
            True, type="boolean", title="Dry run",
            description="Resolve and log what would be repaid, send nothing. Untick to repay for real.",
        ),
        "binance_credit_conn_id": Param(
            None, type=["null", "string"], title="Connection",
            description="The risk unit's credit-account connection (repay must be signed by it). Empty: "
            "binance_credit_<groupId>.",
        ),
        "repay_again": Param(
            False, type="boolean", title="I mean to repay again",
            description=f"Tick only to repay although the same repay was made in the last {REPEAT_WINDOW_MINUTES} "
            "minutes (the run refuses otherwise).",
        ),
        "max_amount": Param(
            None, type=["null", "string"], anyOf=[{"type": "null"}, {"pattern": CAP_PATTERN}], title="Safety cap",
            description="Optional: fail before sending if the amount (or outstanding) exceeds this.",
        ),
    },
) as dag:

    @task
    def guard(params: dict[str, Any]) -> None:
        """Refuse an accidental repeat of a real repay."""
        import logging
        from datetime import timedelta

        from airflow.sdk.exceptions import AirflowFailException
        from binance_settlement_lib.manual import connection_of, recent_repeat, repeat_refusal

        from airflow_binance_loan.hooks.credit import BinanceCreditHook

        log = logging.getLogger("binance_risk_unit_repay")
        dry_run = bool(params["dry_run"])
        conn_id = connection_of(params["group_id"], params["binance_credit_conn_id"])
        log.info("%s: %s %s on risk unit %s via %s",
                 "DRY RUN (nothing will be sent)" if dry_run else "REAL REPAY",
                 params["amount"], params["asset"], params["group_id"], conn_id)
        if dry_run:
            return
        since = datetime.now(UTC) - timedelta(minutes=REPEAT_WINDOW_MINUTES)
        records = BinanceCreditHook(conn_id).borrow_repay_records(
            "REPAY", params["group_id"], params["asset"], start_time=int(since.timestamp() * 1000))
        earlier = recent_repeat(records, params["amount"], params["asset"])
        if earlier is not None and not params["repay_again"]:
            raise AirflowFailException(repeat_refusal(earlier, params["group_id"], REPEAT_WINDOW_MINUTES))
        if earlier is not None:
            log.warning("Repaying again on purpose ('I mean to repay again' ticked): earlier transaction %s",
                        earlier.tran_id)

    guard() >> RiskUnitRepayOperator(
        task_id="repay",
        group_id="{{ params.group_id }}",
        asset="{{ params.asset }}",
        amount="{{ params.amount }}",
        repay_from="{{ params.repay_from or '' }}",
        binance_credit_conn_id="{{ params.binance_credit_conn_id or 'binance_credit_' ~ params.group_id }}",
        max_amount="{{ params.max_amount or '' }}",
        simulate="{{ params.dry_run }}",
        deferrable=True,
    )
