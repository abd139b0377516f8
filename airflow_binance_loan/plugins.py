"""The provider's Airflow plugin: registers its timetable so the scheduler can read DAGs that use it."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_binance_loan.timetables import PunctualCronTimetable


class BinanceLoanPlugin(AirflowPlugin):
    """Registered through the ``airflow.plugins`` entry point of this package."""

    name = "binance_loan"
    timetables = [PunctualCronTimetable]
