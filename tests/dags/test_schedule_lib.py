"""The late-slot rule of the month-end DAG."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from binance_settlement_lib.schedule import late_slot_problem

SLOT = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
GRACE = timedelta(minutes=15)


def test_on_time_and_manual_runs_proceed():
    assert late_slot_problem("scheduled", SLOT, SLOT + timedelta(minutes=14), GRACE) is None
    assert late_slot_problem("manual", SLOT, SLOT + timedelta(days=3), GRACE) is None
    assert late_slot_problem("DagRunType.MANUAL", SLOT, SLOT + timedelta(days=3), GRACE) is None


def test_a_late_scheduled_run_needs_a_person():
    problem = late_slot_problem("scheduled", SLOT, SLOT + timedelta(hours=2, minutes=30), GRACE)
    assert problem is not None
    assert "2026-11-30T18:00:00+00:00 started 2 h 30 min late (grace 15 min)" in problem
    assert "trigger the DAG manually" in problem
    assert late_slot_problem("DagRunType.SCHEDULED", SLOT, SLOT + timedelta(days=1), GRACE) is not None
