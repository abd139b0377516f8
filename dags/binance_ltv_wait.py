"""
### Wait for a risk unit's LTV

Triggered by hand. Waits, in the triggerer (no worker slot), until a risk unit's LTV (param
`group_id`, or any unit when empty) crosses `level` in the chosen `direction`, then continues:

* `at_most`: e.g. after adding collateral, continue once LTV ≤ 0.5;
* `at_least`: hold a workflow until a unit needs attention (LTV ≥ 0.75).

`RiskUnitLtvSensor` reads `ltv-details` with the parent connection every `POKE_INTERVAL` seconds
(200 IP weight a read, through the connection's shared weight budget) and gives up after
`TIMEOUT`. The next task receives the unit, its LTV and liabilities as exact decimal strings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_binance_loan.sensors.ltv import RiskUnitLtvSensor

POKE_INTERVAL = 30
TIMEOUT = timedelta(hours=6)

with DAG(
    dag_id="binance_ltv_wait",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    doc_md=__doc__,
    tags=["binance", "loan", "ltv"],
    params={
        "parent_conn_id": Param("binance_credit_parent", type="string", minLength=1, title="Parent connection",
                                description="Connection that reads ltv-details (the parent account's)."),
        "group_id": Param(None, type=["null", "integer"], title="Risk unit (groupId)",
                          description="The unit to watch; empty: any unit of the parent."),
        "direction": Param("at_most", type="string", enum=["at_most", "at_least"], title="Direction",
                           values_display={"at_most": "LTV at or below the level",
                                           "at_least": "LTV at or above the level"}),
        "level": Param("0.5", type="string", pattern=r"^[0-9]+(\.[0-9]{1,8})?$", title="LTV level",
                       description="A ratio as a decimal string: 0.5 = 50 %."),
    },
) as dag:
    wait = RiskUnitLtvSensor(
        task_id="wait_for_ltv",
        binance_credit_conn_id="{{ params.parent_conn_id }}",
        group_id="{{ params.group_id if params.group_id is not none else '' }}",
        ltv_at_least="{{ params.level if params.direction == 'at_least' else '' }}",
        ltv_at_most="{{ params.level if params.direction == 'at_most' else '' }}",
        poke_interval=POKE_INTERVAL,
        timeout=TIMEOUT,
    )

    @task
    def continue_workflow(event: dict[str, Any]) -> dict[str, Any]:
        """What comes next (here: log it). ``event["unit"]`` is the unit that crossed."""
        import logging

        unit = event["unit"]
        logging.getLogger("binance_ltv").info("Risk unit %s is at LTV %s (%s): continuing", unit["group_id"],
                                              unit["ltv"], event["description"])
        return unit

    continue_workflow(wait.output)
