"""The example DAGs load with zero errors, parse fast without network, and declare the right schedule/params."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.exceptions import ParamValidationError

from airflow_binance_loan.timetables import PunctualCronTimetable

DAGS = Path(__file__).resolve().parents[2] / "dags"
SETTLEMENT = "binance_month_end_settlement"
MANUAL = "binance_risk_unit_repay"
PARSE_BOUND_SECONDS = 2.0
LTV_DAGS = ("binance_ltv_watch", "binance_ltv_wait", "binance_month_end_books", "binance_loan_books_accounting")
#: DAG files that import no client (requests, the signed client) when parsed.
LIGHT_FILES = ("binance_ltv_watch.py", "binance_ltv_wait.py", "binance_month_end_books.py",
               "binance_loan_books_accounting.py")


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS))


def validated(dag: Any, **values: Any) -> dict[str, Any]:
    """The DAG's params with ``values`` applied, validated like a trigger (raises ParamValidationError)."""
    params = copy.deepcopy(dag.params)
    for key, value in values.items():
        params[key] = value
    return params.validate()


def test_zero_import_errors_and_every_dag(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {SETTLEMENT, MANUAL, *LTV_DAGS}
    # The helper package is ignored (.airflowignore): only the DAG files are parsed.
    assert sorted(Path(stat.file).name for stat in dagbag.dagbag_stats) == sorted(
        ["binance_month_end_settlement.py", "binance_risk_unit_repay.py", *LIGHT_FILES])


def test_settlement_schedule_is_last_day_of_month(dagbag: DagBag) -> None:
    dag = dagbag.dags[SETTLEMENT]
    assert isinstance(dag.timetable, PunctualCronTimetable)  # never settles a past slot on unpause
    assert dag.timetable.expression == "0 18 L * *"
    assert str(dag.timetable.timezone) == "UTC"
    assert dag.catchup is False
    assert dag.max_active_runs == 1

    import pendulum
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable as CoreCron

    core = CoreCron(dag.timetable.expression, timezone=dag.timetable.timezone)
    assert core.description == "At 18:00, on the last day of the month"
    runs, last = [], None
    for _ in range(3):
        info = core.next_dagrun_info(
            last_automated_data_interval=last,
            restriction=TimeRestriction(earliest=pendulum.datetime(2026, 2, 1, tz="UTC"), latest=None, catchup=True),
        )
        assert info is not None
        runs.append(info.run_after.isoformat())
        last = info.data_interval
    assert runs == ["2026-02-28T18:00:00+00:00", "2026-03-31T18:00:00+00:00", "2026-04-30T18:00:00+00:00"]


def test_settlement_params_defaults_and_schema(dagbag: DagBag) -> None:
    dag = dagbag.dags[SETTLEMENT]
    assert dag.params.validate() == {
        "parent_conn_id": "binance_credit_parent",
        "connection_map": {},
        "threshold": "0.01",
        "max_amount_per_unit": {},
        "tolerance": "0.01",
        "repay_from": None,
        "approval_threshold": "1000000",
        "approval_timeout_minutes": 240,
        "report_location": "",
    }
    schema = {key: dag.params.get_param(key).schema for key in dag.params}
    assert schema["repay_from"]["values_display"]["null"] == "Binance's default (MARGIN)"  # never a bare "null"
    assert schema["threshold"]["type"] == schema["tolerance"]["type"] == "string"
    assert schema["repay_from"]["enum"] == [None, "MARGIN", "SPOT"]
    ok = validated(dag, connection_map={"10001": "c1"}, max_amount_per_unit={"10001": "5000.5"}, repay_from="SPOT")
    assert ok["max_amount_per_unit"] == {"10001": "5000.5"}
    for bad in (
        {"threshold": "0.1.2"}, {"threshold": 0.01}, {"tolerance": "-1"}, {"repay_from": "CARD"},
        {"max_amount_per_unit": {"10001": "lots"}}, {"max_amount_per_unit": {"10001": 5000}},
        {"connection_map": {"unit-a": "c1"}}, {"connection_map": {"10001": ""}},
    ):
        with pytest.raises(ParamValidationError):
            validated(dag, **bad)


def test_settlement_tasks(dagbag: DagBag) -> None:
    dag = dagbag.dags[SETTLEMENT]
    assert set(dag.task_ids) == {"check_slot", "read_liabilities", "build_plan", "approve", "approved_plan",
                                 "repay", "report"}
    assert dag.get_task("read_liabilities").upstream_task_ids == {"check_slot"}
    assert dag.get_task("approved_plan").upstream_task_ids == {"build_plan", "approve"}
    assert dag.get_task("approve").defaults == ["Reject"]  # no decision in time = nothing repaid
    repay = dag.get_task("repay")
    assert repay.partial_kwargs["pool"] == "binance_loan_repay"
    assert repay.partial_kwargs["retries"] == 2
    assert repay.partial_kwargs["retry_delay"] == timedelta(minutes=2)
    assert repay.partial_kwargs["deferrable"] is True
    report = dag.get_task("report")
    assert report.trigger_rule == "all_done"
    assert {"repay", "build_plan", "read_liabilities", "approve"} <= report.upstream_task_ids
    assert "binance_credit_<groupId>" in (dag.doc_md or "")


def test_manual_params_defaults(dagbag: DagBag) -> None:
    dag = dagbag.dags[MANUAL]
    assert dag.schedule is None
    assert dag.params.dump() == {
        "group_id": None,  # required: no default, the form asks for it
        "asset": "USDT",
        "amount": "outstanding",
        "repay_from": None,
        "dry_run": True,
        "binance_credit_conn_id": None,  # empty: the binance_credit_<groupId> convention
        "max_amount": None,
        "repay_again": False,
    }
    assert dag.params.get_param("repay_from").schema["values_display"]["null"] == "Binance's default (MARGIN)"
    assert "minimum" not in dag.params.get_param("group_id").schema  # the form would clamp -1 to 1 silently
    for key in dag.params:
        assert dag.params.get_param(key).schema.get("title"), key
    assert dag.params.get_param("asset").schema["enum"] == ["USDT", "USDC"]
    ok = validated(dag, group_id=10001, amount="100.12345678", max_amount="200", repay_from="MARGIN")
    assert ok["amount"] == "100.12345678"
    assert validated(dag, group_id=1)["amount"] == "outstanding"


@pytest.mark.parametrize(
    "bad",
    [
        {"amount": "1.123456789"},
        {"amount": "0"},
        {"amount": "1e5"},
        {"amount": "all"},
        {"asset": "BTC"},
        {"group_id": 0},
        {"group_id": -1},
        {"group_id": "10001"},
        {"repay_from": "FUTURES"},
        {"max_amount": "0.000000001"},
        {"dry_run": "no"},
    ],
)
def test_manual_trigger_form_rejects_bad_input(dagbag: DagBag, bad: dict[str, Any]) -> None:
    values = {"group_id": 10001, **bad}
    with pytest.raises(ParamValidationError):
        validated(dagbag.dags[MANUAL], **values)


def test_manual_group_id_is_required(dagbag: DagBag) -> None:
    with pytest.raises(ParamValidationError):
        dagbag.dags[MANUAL].params.validate()


def test_manual_repay_is_templated_from_params(dagbag: DagBag) -> None:
    repay = dagbag.dags[MANUAL].get_task("repay")
    assert repay.group_id == "{{ params.group_id }}"
    assert repay.amount == "{{ params.amount }}"
    assert repay.binance_credit_conn_id == "{{ params.binance_credit_conn_id or 'binance_credit_' ~ params.group_id }}"
    assert repay.simulate == "{{ params.dry_run }}" and "simulate" in repay.template_fields
    assert repay.upstream_task_ids == {"guard"}


PARSE_PROBE = r"""
import json, socket, sys, time
def refuse(*a, **k):
    raise OSError("network access during DAG parsing")
socket.socket.connect = refuse
socket.create_connection = refuse
t0 = time.perf_counter()
import airflow.sdk  # the baseline every DAG file pays
from airflow.dag_processing.dagbag import BundleDagBag
baseline = time.perf_counter() - t0
out = {"airflow_import": baseline, "files": {}}
for name in sys.argv[2:]:
    t = time.perf_counter()
    bag = BundleDagBag(dag_folder=sys.argv[1] + "/" + name, bundle_path=sys.argv[1])
    out["files"][name] = {"seconds": time.perf_counter() - t, "errors": bag.import_errors, "dags": bag.dag_ids}
out["requests_imported"] = "requests" in sys.modules
out["client_imported"] = [m for m in sys.modules if m.startswith("airflow_binance_loan.client")]
print(json.dumps(out))
"""


def parse_probe(tmp_path: Path, files: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(DAGS), *files],
        capture_output=True, text=True, timeout=120, check=True,
        env={"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"},
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_new_dag_files_parse_without_the_client(tmp_path: Path) -> None:
    """The LTV and books DAG files (and the sensor and operator they import) load no client when parsed."""
    result = parse_probe(tmp_path, list(LIGHT_FILES))
    assert all(info["errors"] == {} and len(info["dags"]) == 1 for info in result["files"].values()), result
    assert result["requests_imported"] is False and result["client_imported"] == []


def test_parse_time_and_no_network(tmp_path: Path) -> None:
    """Each file parses in a fresh interpreter with sockets disabled, well under the bound."""
    files = ["binance_month_end_settlement.py", "binance_risk_unit_repay.py", *LIGHT_FILES]
    result = parse_probe(tmp_path, files)
    print(f"\nairflow.sdk import {result['airflow_import']:.2f}s; " + "; ".join(
        f"{name} {info['seconds']:.3f}s" for name, info in result["files"].items()))
    for name, info in result["files"].items():
        assert info["errors"] == {}, name
        assert len(info["dags"]) == 1, name
        assert info["seconds"] < PARSE_BOUND_SECONDS, (name, info["seconds"])


def test_ltv_watch_is_safe_to_switch_on(dagbag: DagBag) -> None:
    dag = dagbag.dags["binance_ltv_watch"]
    assert isinstance(dag.timetable, PunctualCronTimetable) and dag.timetable.expression == "*/5 * * * *"
    assert dag.timetable.late_run_window == timedelta(minutes=5)  # unpaused late: no backlog of past slots
    assert dag.catchup is False and dag.max_active_runs == 1 and dag.dagrun_timeout == timedelta(minutes=4)
    assert dag.params.validate() == {"parent_conn_id": "binance_credit_parent", "warning_levels": ["0.7"],
                                     "cooldown_minutes": 60, "alert_email": ""}
    for bad in ({"warning_levels": []}, {"warning_levels": [0.7]}, {"warning_levels": ["70%"]},
                {"cooldown_minutes": -1}):
        with pytest.raises(ParamValidationError):
            validated(dag, **bad)


def test_ltv_wait_renders_one_threshold_from_its_params(dagbag: DagBag) -> None:
    dag = dagbag.dags["binance_ltv_wait"]
    assert dag.schedule is None
    sensor = dag.get_task("wait_for_ltv")
    assert sensor.deferrable is True and sensor.poke_interval == 30
    for bad in ({"level": "0.5.1"}, {"direction": "sideways"}, {"group_id": "10001"}):
        with pytest.raises(ParamValidationError):
            validated(dag, **bad)


def test_ltv_watch_notifiers_log_by_default_and_email_when_asked() -> None:
    import binance_ltv_watch
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from airflow_binance_loan.notifications.log import LogNotifier

    base = {"alert_email": ""}
    assert [type(n) for n in binance_ltv_watch.alert_notifiers(base)] == [LogNotifier]
    log, mail = binance_ltv_watch.alert_notifiers({"alert_email": "treasury@example.com"})
    assert isinstance(log, LogNotifier) and isinstance(mail, SmtpNotifier)
    assert mail.to == "treasury@example.com" and mail.subject == "{{ ltv_alert.subject }}"


def test_books_run_after_the_month_closes_and_feed_the_accounting_dag(dagbag: DagBag) -> None:
    from airflow.sdk import Asset

    from airflow_binance_loan.operators.books import LOAN_BOOKS_ASSET, LoanBooksOperator

    books = dagbag.dags["binance_month_end_books"]
    assert isinstance(books.timetable, PunctualCronTimetable) and books.timetable.expression == "30 0 1 * *"
    assert books.catchup is False and books.max_active_runs == 1
    export = books.get_task("export_books")
    assert isinstance(export, LoanBooksOperator) and export.outlets == [LOAN_BOOKS_ASSET]
    assert export.upstream_task_ids == {"units"}
    assert books.params.validate()["month"] == ""
    for bad in ({"month": "2026-13"}, {"month": "March"}, {"connection_map": {"unit": "c"}}):
        with pytest.raises(ParamValidationError):
            validated(books, **bad)
    consumer = dagbag.dags["binance_loan_books_accounting"]
    assert list(consumer.timetable.asset_condition.objects) == [Asset(name="binance_loan_books")]
