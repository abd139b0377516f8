"""
### Binance month-end settlement

Repays every Binance Institutional Loan risk unit's outstanding liabilities at 18:00 on the last
day of each month (the schedule and its timezone are the two constants at the top of this file).

**Safe to switch on.** Unpausing never settles a past slot: the timetable's next run is the next
18:00 on a month's last day. A scheduled run that starts more than `LATE_GRACE` (15 min) after its
slot (the scheduler was down) does not settle on its own: **check_slot** fails, which alerts, and
says what to do (trigger the DAG manually to settle now).

0. **check_slot** — the late-slot rule above (manual runs always proceed).
1. **read_liabilities** — one `ltv-details` call with the *parent* connection (param `parent_conn_id`);
   a JSON snapshot (amounts as decimal strings) of every unit's LTV and liabilities.
2. **build_plan** — one repay per (risk unit, asset) whose outstanding exceeds `threshold`. The amount is
   `"outstanding"`: the repay task re-reads it just before repaying, so interest accrued meanwhile is
   included. `max_amount_per_unit` caps a unit (a larger outstanding fails that repay before sending).
3. **approve** — four eyes: when any repay, or any asset's total, exceeds `approval_threshold`
   (1,000,000), the run waits for a second person in the Airflow UI (*Required actions*: the plan as a
   table with totals per asset) to Approve or Reject; no decision within `approval_timeout_minutes`
   (240) counts as Reject. Rejected or timed out: nothing is repaid and the report says so and who
   decided. Below the threshold the step approves itself and says why.
4. **repay** — `RiskUnitRepayOperator`, mapped once per plan item, in pool `binance_loan_repay`, each
   with the unit's credit-account connection (repay must be signed by the credit account).
5. **report** — runs even when repays failed (`all_done`): re-reads `ltv-details`, logs a table
   (before, requested, repaid, transaction id, status, after, LTV before/after), writes it as
   Markdown, CSV and JSON to `report_location` (any `ObjectStoragePath` URL; default the Variable
   `binance_loan_report_location`, else `$AIRFLOW_HOME/binance_settlement_reports`), and **fails the run**
   naming each unit/asset that still owes more than `tolerance`, how much, and why (a failed repay's
   own reason, e.g. insufficient balance, is carried into the report).

**Which connection repays which unit** — first match wins:

1. the DAG param `connection_map` (`{"<groupId>": "<conn_id>"}`), then
2. the Airflow Variable `binance_loan_connection_map` (same JSON object), then
3. the convention `binance_credit_<groupId>`.

**Pool** — create it once: `airflow pools set binance_loan_repay 8 "Binance loan repay concurrency"`
(`airflow dags test` ignores pools).

"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, TriggerRule, task
from binance_settlement_lib.approval_operator import PlanApprovalOperator

from airflow_binance_loan.conventions import REPORT_LOCATION_VARIABLE
from airflow_binance_loan.money import DECIMAL_PATTERN
from airflow_binance_loan.operators.repay import RiskUnitRepayOperator
from airflow_binance_loan.timetables import PunctualCronTimetable

# --- When: 18:00 on the last day of every month (cron "L"), in this timezone (DST handled). ---------
SETTLEMENT_CRON = "0 18 L * *"
SETTLEMENT_TIMEZONE = "UTC"
# A scheduled run starting later than this after its slot waits for a person (see check_slot).
LATE_GRACE = timedelta(minutes=15)

# --- Pool sizing ------------------------------------------------------------------------------------
# Repay costs 3000 UID weight per *credit account* (= 60 repays/min per account), so distinct units
# never contend there; what concurrent repays share is the IP budget of ltv-details (200 IP weight,
# = 60/min per IP), which each repay calls once to resolve "outstanding". 8 slots keeps a burst well
# inside that budget while still settling dozens of units in a few minutes.
REPAY_POOL = "binance_loan_repay"
REPAY_POOL_SLOTS_RECOMMENDED = 8

DAG_ID = "binance_month_end_settlement"


def _repay_states(ti: Any, count: int) -> list[str | None]:
    """Final state of each mapped repay, by map index (keys come back as ``repay_<i>``); Nones if unavailable."""
    states: list[str | None] = [None] * count
    if not count:
        return states
    try:
        found = ti.get_task_states(dag_id=ti.dag_id, task_ids=["repay"], run_ids=[ti.run_id])
        for key, state in (found.get(ti.run_id) or {}).items():
            _, _, index = str(key).rpartition("_")
            if index.isdigit() and int(index) < count:
                states[int(index)] = str(state)
    except Exception:  # noqa: S110 - wording only; the report stands without it
        pass
    return states


def _report_folder(location: str) -> Any:
    """Where report files go: the param, else the Variable, else a folder under AIRFLOW_HOME."""
    from airflow.sdk import ObjectStoragePath

    from airflow_binance_loan.conventions import report_location

    return ObjectStoragePath(report_location(location))


def _safe(run_id: str) -> str:
    """A run id as one path segment (':' and '+' are awkward in some object stores)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)


with DAG(
    dag_id=DAG_ID,
    schedule=PunctualCronTimetable(SETTLEMENT_CRON, timezone=SETTLEMENT_TIMEZONE),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["binance", "loan", "settlement"],
    params={
        "parent_conn_id": Param(
            "binance_credit_parent", type="string", minLength=1, title="Parent connection",
            description="Connection of the parent (or any) account that can read ltv-details of every unit.",
        ),
        "connection_map": Param(
            {}, type="object", title="Connection per risk unit",
            description='{"<groupId>": "<conn_id>"}; beats the Variable binance_loan_connection_map, '
            "which beats the convention binance_credit_<groupId>.",
            propertyNames={"pattern": "^[1-9][0-9]*$"},
            additionalProperties={"type": "string", "minLength": 1},
        ),
        "threshold": Param(
            "0.01", type="string", pattern=DECIMAL_PATTERN, title="Minimum outstanding to repay",
            description="A (unit, asset) owing this much or less is left alone (decimal string).",
        ),
        "max_amount_per_unit": Param(
            {}, type="object", title="Cap per risk unit",
            description='{"<groupId>": "<max amount>"}: a larger outstanding fails that repay before sending.',
            propertyNames={"pattern": "^[1-9][0-9]*$"},
            additionalProperties={"type": "string", "pattern": DECIMAL_PATTERN},
        ),
        "tolerance": Param(
            "0.01", type="string", pattern=DECIMAL_PATTERN, title="Tolerance",
            description="The report fails the run when any (unit, asset) still owes more than this.",
        ),
        "repay_from": Param(
            None, type=["null", "string"], enum=[None, "MARGIN", "SPOT"], title="Repay from",
            values_display={"null": "Binance's default (MARGIN)", "MARGIN": "Margin wallet", "SPOT": "Spot wallet"},
            description="Wallet to repay from.",
        ),
        "approval_threshold": Param(
            "1000000", type="string", pattern=DECIMAL_PATTERN, title="Four-eyes threshold",
            description="A second person must approve the plan when any repay, or any asset's total, exceeds "
            "this amount (decimal string).",
        ),
        "approval_timeout_minutes": Param(
            240, type="number", exclusiveMinimum=0, title="Approval timeout (minutes)",
            description="Without a decision by then, the plan counts as rejected and nothing is repaid.",
        ),
        "report_location": Param(
            "", type="string", title="Report location",
            description="Folder URL for the report files (Markdown, CSV, JSON), e.g. s3://bucket/settlements. "
            f"Empty: the Variable {REPORT_LOCATION_VARIABLE}, else $AIRFLOW_HOME/binance_settlement_reports.",
        ),
    },
) as dag:

    @task
    def check_slot(dag_run: Any = None) -> str:
        """A scheduled run that starts late does not settle on its own (fails, which alerts)."""
        from airflow.sdk.exceptions import AirflowFailException
        from binance_settlement_lib.schedule import late_slot_problem

        slot = dag_run.logical_date or dag_run.run_after
        problem = late_slot_problem(str(dag_run.run_type), slot, datetime.now(UTC), LATE_GRACE)
        if problem:
            raise AirflowFailException("Not settling: " + problem)
        return f"{dag_run.run_type} run for slot {slot}: proceeding"

    @task
    def read_liabilities(params: dict[str, Any]) -> list[dict[str, Any]]:
        """One ltv-details call (parent connection) → JSON snapshot of every unit, amounts as strings."""
        from binance_settlement_lib.plan import units_to_json

        from airflow_binance_loan.hooks.credit import BinanceCreditHook

        return units_to_json(BinanceCreditHook(params["parent_conn_id"]).ltv_details())

    @task
    def build_plan(units: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
        """Kwargs for each mapped repay: amount "outstanding", the unit's connection and cap."""
        import logging

        from airflow.sdk import Variable
        from binance_settlement_lib.plan import CONNECTION_MAP_VARIABLE, build_plan

        variable_map = Variable.get(CONNECTION_MAP_VARIABLE, default=None, deserialize_json=True)
        plan = build_plan(
            units,
            threshold=params["threshold"],
            connection_map=params["connection_map"],
            variable_map=variable_map,
            caps=params["max_amount_per_unit"],
            repay_from=params["repay_from"],
        )
        for item in plan:
            logging.getLogger("binance_settlement").info("Plan: %s", item)
        return plan

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def report(params: dict[str, Any], ti: Any = None) -> dict[str, Any]:
        """Re-read ltv-details, log the before/after table, fail if anything still owes > tolerance."""
        import json
        import logging

        from airflow.sdk.exceptions import AirflowException
        from binance_settlement_lib.approval import decision
        from binance_settlement_lib.plan import units_to_json
        from binance_settlement_lib.report import build_report, render_csv, render_markdown, render_report

        from airflow_binance_loan.hooks.credit import BinanceCreditHook
        from airflow_binance_loan.operators.repay import FAILURE_XCOM_KEY

        log = logging.getLogger("binance_settlement")
        before = ti.xcom_pull(task_ids="read_liabilities")
        plan = ti.xcom_pull(task_ids="build_plan") or []
        states = _repay_states(ti, len(plan))
        # One explicit map index per plan item (a mapped pull without map_indexes returns a scalar when
        # there is one item); failed repays have no result, so they are not pulled (avoids error logs).
        results = [
            ti.xcom_pull(task_ids="repay", map_indexes=i) if states[i] in (None, "success") else None
            for i in range(len(plan))
        ]
        try:
            after = units_to_json(BinanceCreditHook(params["parent_conn_id"]).ltv_details())
        except Exception:
            log.exception("Could not re-read ltv-details after the repayments")
            after = None
        errors = [
            ti.xcom_pull(task_ids="repay", map_indexes=i, key=FAILURE_XCOM_KEY) if states[i] == "failed" else None
            for i in range(len(plan))
        ]
        approved, approval = decision(ti.xcom_pull(task_ids="approve")) if plan else (True, None)
        data = build_report(before=before, plan=plan, results=results, after=after,
                            tolerance=params["tolerance"], threshold=params["threshold"], task_states=states,
                            errors=errors, approval=approval, approved=approved)
        text = render_report(data)
        log.info("\n%s", text)
        folder = _report_folder(params["report_location"]) / DAG_ID / _safe(ti.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in (("report.txt", text + "\n"), ("report.md", render_markdown(data)),
                              ("report.csv", render_csv(data)), ("report.json", json.dumps(data, indent=2))):
            (folder / name).write_text(content, encoding="utf-8")
        log.info("Report written to %s (report.md, report.csv, report.json)", folder)
        if data["failures"]:
            raise AirflowException("Settlement incomplete: " + "; ".join(data["failures"]))
        return data

    @task
    def approved_plan(plan: list[dict[str, Any]], approval: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The plan if approved (or approval was not needed), else nothing: the repays do not run."""
        import logging

        from binance_settlement_lib.approval import decision

        approved, sentence = decision(approval)
        logging.getLogger("binance_settlement").info("Approval: %s", sentence)
        return plan if approved else []

    slot = check_slot()
    units = read_liabilities()
    slot >> units
    plan = build_plan(units)
    approve = PlanApprovalOperator(task_id="approve")
    plan >> approve
    repay = RiskUnitRepayOperator.partial(
        task_id="repay",
        pool=REPAY_POOL,
        deferrable=True,
        retries=2,
        retry_delay=timedelta(minutes=2),
        map_index_template="{{ task.group_id }} {{ task.asset }}",
    ).expand_kwargs(approved_plan(plan, approve.output))
    [units, plan, approve, repay] >> report()
