"""Timetables of the Binance Institutional Loan provider (registered through the provider's plugin)."""

from airflow_binance_loan.timetables.punctual_cron import PunctualCronTimetable

__all__ = ["PunctualCronTimetable"]
