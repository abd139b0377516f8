"""Scenario 4: unpausing the month-end DAG does not create a run for a past slot; its next run is the
next 18:00 UTC on a month's last day, in the future (judged by the real scheduler, not dag.test())."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime, timedelta

from conftest import MONTH_END_DAG
from stack_api import AirflowApi, wait_until


def next_month_end_slot(now: datetime) -> datetime:
    """The first 18:00 UTC on a month's last day strictly after ``now``."""
    year, month = now.year, now.month
    while True:
        slot = datetime(year, month, calendar.monthrange(year, month)[1], 18, tzinfo=UTC)
        if slot > now:
            return slot
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_unpausing_creates_no_run_for_a_past_slot(api: AirflowApi) -> None:
    dag = api.dag(MONTH_END_DAG)
    assert dag["is_paused"], "the month-end DAG must start paused (dags_are_paused_at_creation)"
    runs_before = {r["dag_run_id"] for r in api.dag_runs(MONTH_END_DAG)}

    unpaused_at = datetime.now(UTC)
    api.set_paused(MONTH_END_DAG, False)

    # Let the scheduler run its loop for a while after the unpause: a past slot would be created at once.
    def scheduler_ran_since_unpause() -> bool:
        health = api.session.get(f"{api.base_url}/api/v2/monitor/health", timeout=30).json()
        beat = health["scheduler"]["latest_scheduler_heartbeat"]
        return bool(beat) and parse(beat) > unpaused_at + timedelta(seconds=15)

    wait_until(scheduler_ran_since_unpause, 60, "the scheduler to heartbeat 15 s after the unpause")
    time.sleep(2)

    new_runs = [r for r in api.dag_runs(MONTH_END_DAG) if r["dag_run_id"] not in runs_before]
    past = [(r["dag_run_id"], r["run_type"], r.get("logical_date"), r["run_after"]) for r in new_runs
            if parse(r.get("logical_date") or r["run_after"]) < unpaused_at]
    assert not past, f"unpausing at {unpaused_at:%Y-%m-%d %H:%M:%S} UTC created run(s) for past slot(s): {past}"
    assert not new_runs or next_month_end_slot(unpaused_at) < datetime.now(UTC), (
        f"unexpected run(s) right after the unpause: {new_runs}")

    dag = api.dag(MONTH_END_DAG)
    assert not dag["is_paused"]
    expected = next_month_end_slot(datetime.now(UTC))
    assert dag["next_dagrun_run_after"] is not None, dag
    assert parse(dag["next_dagrun_run_after"]) == expected, (
        f"next run after {dag['next_dagrun_run_after']}, "
        f"expected the next month-end slot {expected:%Y-%m-%d %H:%M} UTC")
