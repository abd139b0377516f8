"""The accounting month: a calendar month in UTC, as epoch-millisecond bounds like Binance's records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from airflow_binance_loan.exceptions import InvalidParameterError

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in UTC; records belong to it when ``start_ms <= timestamp < end_ms``."""

    year: int
    month: int

    @classmethod
    def parse(cls, value: object, field_name: str = "month") -> Month:
        """``"2026-03"`` → ``Month(2026, 3)``; anything else fails naming the field and the value.

        :param value: the month as ``YYYY-MM``.
        :param field_name: the parameter's name, for the error message.
        """
        match = _MONTH_RE.match(value.strip()) if isinstance(value, str) else None
        if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise InvalidParameterError(field_name, value, "must be a month such as '2026-03' (YYYY-MM)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def before(cls, moment: datetime) -> Month:
        """The month before the one ``moment`` (read in UTC) falls in: the last closed month at that moment.

        :param moment: an aware datetime, e.g. a run's logical date.
        """
        utc = moment.astimezone(UTC)
        return cls(utc.year - 1, 12) if utc.month == 1 else cls(utc.year, utc.month - 1)

    @property
    def label(self) -> str:
        """``2026-03``."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        """Its first instant (UTC)."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (UTC), excluded."""
        return datetime(self.year + 1, 1, 1, tzinfo=UTC) if self.month == 12 else datetime(
            self.year, self.month + 1, 1, tzinfo=UTC)

    @property
    def start_ms(self) -> int:
        """``start`` in epoch milliseconds."""
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        """``end`` in epoch milliseconds (excluded)."""
        return int(self.end.timestamp() * 1000)

    def contains(self, timestamp_ms: int) -> bool:
        """Whether an epoch-millisecond timestamp falls in this month.

        :param timestamp_ms: e.g. a record's ``timestamp``.
        """
        return self.start_ms <= timestamp_ms < self.end_ms
