"""PunctualCronTimetable: a cron trigger timetable that never settles an old slot on its own.

Airflow's ``CronTriggerTimetable`` with ``catchup=False`` always schedules the latest past slot
when a DAG is unpaused (its ``run_immediately`` only applies without a ``start_date``): a
month-end settlement unpaused on 30 November at 10:04 repays everything at once for the
31 October slot. This timetable keeps Airflow's behaviour for slots missed by less than
``late_run_window`` (the scheduler was down at 18:00 and is back at 18:30: the run is created,
and the DAG's own check decides what to do with a late slot) and skips older slots: the next
run is the next slot in the future.
"""

from __future__ import annotations

import datetime
from typing import Any

from airflow._shared.timezones.timezone import coerce_datetime, utcnow
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction
from airflow.timetables.trigger import CronTriggerTimetable

DEFAULT_LATE_RUN_WINDOW = datetime.timedelta(days=7)


class PunctualCronTimetable(CronTriggerTimetable):
    """Cron trigger timetable whose ``catchup=False`` never schedules a slot older than ``late_run_window``.

    :param cron: the cron expression, e.g. ``"0 18 L * *"``.
    :param timezone: the timezone the expression is read in.
    :param late_run_window: a past slot at most this old is still scheduled (late); older ones are skipped.
    """

    def __init__(
        self,
        cron: str,
        *,
        timezone: Any,
        late_run_window: datetime.timedelta = DEFAULT_LATE_RUN_WINDOW,
    ) -> None:
        super().__init__(cron, timezone=timezone)
        if late_run_window < datetime.timedelta(0):
            raise ValueError(f"late_run_window={late_run_window!r} must not be negative")
        self.late_run_window = late_run_window
        self.description = f"{self.description}, never an old slot (late-run window {late_run_window})"

    @property
    def expression(self) -> str:
        """The cron expression."""
        return self._expression

    @property
    def timezone(self) -> Any:
        """The timezone the expression is read in."""
        return self._timezone

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> PunctualCronTimetable:
        """Rebuild from :meth:`serialize`.

        :param data: the serialized form.
        """
        from airflow._shared.timezones.timezone import parse_timezone

        return cls(data["expression"], timezone=parse_timezone(data["timezone"]),
                   late_run_window=datetime.timedelta(seconds=float(data["late_run_window"])))

    def serialize(self) -> dict[str, Any]:
        """Plain JSON form (what the scheduler reads)."""
        return {**super().serialize(), "late_run_window": self.late_run_window.total_seconds()}

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        """Airflow's choice, except that without catchup a slot older than the window becomes the next one.

        :param last_automated_data_interval: the latest scheduled run's interval, if any.
        :param restriction: start/end dates and catchup, as the scheduler passes them.
        """
        info = super().next_dagrun_info(last_automated_data_interval=last_automated_data_interval,
                                        restriction=restriction)
        if info is None or restriction.catchup:
            return info
        now = coerce_datetime(utcnow())
        slot = info.run_after
        if slot >= now - self.late_run_window:
            return info
        upcoming = self._align_to_next(now)
        if upcoming <= now:
            upcoming = self._get_next(now)
        if restriction.latest is not None and restriction.latest < upcoming:
            return None
        return DagRunInfo.interval(coerce_datetime(upcoming - self._interval), upcoming)
