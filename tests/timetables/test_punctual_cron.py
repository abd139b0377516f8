"""PunctualCronTimetable through Airflow's own serialization and scheduling logic, on a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airflow.serialization.encoders import encode_timetable
from airflow.timetables.base import DataInterval, TimeRestriction
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_binance_loan.timetables import PunctualCronTimetable

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch):
    def freeze(at: datetime) -> None:
        for module in ("airflow.timetables.trigger", "airflow_binance_loan.timetables.punctual_cron"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: at)

    return freeze


def month_end() -> PunctualCronTimetable:
    from airflow.serialization.decoders import decode_timetable

    # Exactly what the scheduler gets: the example DAG's timetable, serialized and read back.
    from dags_under_test import settlement_dag

    encoded = encode_timetable(settlement_dag().timetable)
    timetable = decode_timetable(encoded)
    assert isinstance(timetable, PunctualCronTimetable)
    return timetable


def next_run(timetable, last: DataInterval | None = None) -> datetime:
    info = timetable.next_dagrun_info(last_automated_data_interval=last,
                                      restriction=TimeRestriction(earliest=START, latest=None, catchup=False))
    assert info is not None
    return info.run_after


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_stock_cron_trigger_timetable_settles_last_months_slot_on_unpause(frozen):
    """The behaviour a real deployment showed (the reason this timetable exists)."""
    frozen(at("2026-11-30T10:04:00"))
    assert next_run(CronTriggerTimetable("0 18 L * *", timezone="UTC")) == at("2026-10-31T18:00:00")


def test_unpausing_never_settles_a_past_slot(frozen):
    frozen(at("2026-11-30T10:04:00"))
    assert next_run(month_end()) == at("2026-11-30T18:00:00")


def test_a_dag_paused_for_months_resumes_at_the_next_slot(frozen):
    frozen(at("2026-11-30T10:04:00"))
    august = DataInterval(at("2026-08-31T18:00:00"), at("2026-08-31T18:00:00"))
    assert next_run(month_end(), august) == at("2026-11-30T18:00:00")


def test_a_slot_missed_while_the_scheduler_was_down_is_still_created_for_the_dag_to_decide(frozen):
    frozen(at("2026-11-30T20:30:00"))
    october = DataInterval(at("2026-10-31T18:00:00"), at("2026-10-31T18:00:00"))
    assert next_run(month_end(), october) == at("2026-11-30T18:00:00")


def test_slots_older_than_the_late_run_window_are_skipped(frozen):
    frozen(at("2026-12-08T19:00:00"))
    october = DataInterval(at("2026-10-31T18:00:00"), at("2026-10-31T18:00:00"))
    assert next_run(month_end(), october) == at("2026-12-31T18:00:00")


def test_serialized_form_round_trips():
    timetable = PunctualCronTimetable("0 18 L * *", timezone="Europe/Zurich", late_run_window=timedelta(hours=6))
    rebuilt = PunctualCronTimetable.deserialize(timetable.serialize())
    assert rebuilt.serialize() == timetable.serialize()
    assert rebuilt.late_run_window == timedelta(hours=6)
    with pytest.raises(ValueError, match="must not be negative"):
        PunctualCronTimetable("0 18 L * *", timezone="UTC", late_run_window=timedelta(seconds=-1))
