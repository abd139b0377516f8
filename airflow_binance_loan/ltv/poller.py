"""Waiting for an LTV crossing: read ``ltv-details`` every ``poll_interval`` until a unit crosses the
threshold, the deadline passes, or reading fails for good.

Plain asyncio with injected reading, time and sleeping, so the triggerer runs it for real and tests
drive it with a virtual clock. Reading errors are retried with exponential backoff (from the poll
interval up to ``max_backoff``, at least a 429's ``Retry-After``); errors that no retry can fix (a
rejected key, bad settings, a unit this connection cannot see) end the wait at once with
``status="error"``, and ``max_read_failures`` failures in a row end it with ``status="unreadable"``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from airflow_binance_loan.client.models import RiskUnitDetails
from airflow_binance_loan.exceptions import (
    AuthenticationError,
    BinanceLoanError,
    ConfigurationError,
    InvalidParameterError,
    InvalidRequestError,
    RateLimitError,
)
from airflow_binance_loan.ltv.thresholds import LtvThreshold, crossings
from airflow_binance_loan.money import format_decimal

Status = Literal["crossed", "timeout", "error", "unreadable"]
DEFAULT_MAX_READ_FAILURES = 10
DEFAULT_MAX_BACKOFF = 600.0
log = logging.getLogger(__name__)


class UnitNotVisibleError(BinanceLoanError):
    """``ltv-details`` does not list the unit (or lists none): wrong group id, closed unit, or the wrong key."""


#: Waiting longer cannot fix these.
FATAL_ERRORS: tuple[type[Exception], ...] = (AuthenticationError, ConfigurationError, InvalidParameterError,
                                             InvalidRequestError, UnitNotVisibleError)


@dataclass(frozen=True)
class LtvWatch:
    """What to wait for: ``threshold`` crossed by unit ``group_id``, or by any unit (None).

    :param threshold: the threshold.
    :param group_id: one risk unit, or None for any unit the connection sees.
    """

    threshold: LtvThreshold
    group_id: int | None = None

    def describe(self) -> str:
        """``risk unit 10001 at LTV ≥ 0.75`` / ``any risk unit at LTV ≥ 0.75``."""
        who = "any risk unit" if self.group_id is None else f"risk unit {self.group_id}"
        return f"{who} at {self.threshold.describe()}"

    def relevant(self, units: Sequence[RiskUnitDetails]) -> list[RiskUnitDetails]:
        """The units this watch looks at; raises :class:`UnitNotVisibleError` when there are none.

        :param units: one ``ltv-details`` read.
        """
        if self.group_id is None:
            if not units:
                raise UnitNotVisibleError("ltv-details lists no risk unit for this connection: use the parent "
                                          "account's connection (or the unit's credit account)")
            return list(units)
        mine = [u for u in units if u.group_id == self.group_id]
        if not mine:
            raise UnitNotVisibleError(f"ltv-details does not list risk unit {self.group_id}: check the group id "
                                      "(a closed unit is not listed) and that the connection is the parent's or "
                                      "this unit's credit account")
        return mine

    def look(self, units: Sequence[RiskUnitDetails], polls: int = 1) -> WatchOutcome | None:
        """The ``crossed`` outcome if a relevant unit is beyond the threshold (furthest first), else None.

        :param units: one ``ltv-details`` read (raises :class:`UnitNotVisibleError` as :meth:`relevant`).
        :param polls: how many reads this wait has made, this one included.
        """
        mine = self.relevant(units)
        crossed = crossings(mine, self.threshold)
        if not crossed:
            return None
        found = ", ".join(f"risk unit {u.group_id} at LTV {format_decimal(u.ltv)}" for u in crossed)
        return WatchOutcome("crossed", self, tuple(crossed), polls, f"{found} ({self.threshold.describe()})",
                            {u.group_id: u.ltv for u in mine})


@dataclass(frozen=True)
class WatchOutcome:
    """How a wait ended; :meth:`to_event` is the trigger's event and the sensor's XCom."""

    status: Status
    watch: LtvWatch
    crossed: tuple[RiskUnitDetails, ...] = ()
    polls: int = 0
    detail: str = ""
    last_seen: dict[int, Decimal] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        """Plain JSON: the crossed units with LTV, totals and liabilities as exact decimal strings."""
        units = [u.to_json() for u in self.crossed]
        return {
            "status": self.status,
            "group_id": self.watch.group_id,
            "threshold": self.watch.threshold.to_json(),
            "description": self.watch.describe(),
            "unit": units[0] if units else None,
            "units": units,
            "polls": self.polls,
            "detail": self.detail,
            "last_seen": {str(g): format_decimal(v) for g, v in sorted(self.last_seen.items())},
        }


def _seen(last_seen: dict[int, Decimal]) -> str:
    return ", ".join(f"{g}: {format_decimal(v)}" for g, v in sorted(last_seen.items())) or "nothing read"


async def wait_for_crossing(
    watch: LtvWatch,
    read: Callable[[], Awaitable[Sequence[RiskUnitDetails]]],
    *,
    poll_interval: float,
    deadline: float | None,
    now: Callable[[], float],
    sleep: Callable[[float], Awaitable[Any]],
    max_read_failures: int = DEFAULT_MAX_READ_FAILURES,
    max_backoff: float = DEFAULT_MAX_BACKOFF,
    logger: Any = log,
) -> WatchOutcome:
    """Poll until the watch's threshold is crossed (checked at once, then every ``poll_interval``).

    :param watch: what to wait for.
    :param read: one ``ltv-details`` read (of ``watch.group_id``, or of every unit).
    :param poll_interval: seconds between two reads.
    :param deadline: epoch seconds after which the wait ends with ``timeout`` (None: never).
    :param now: the current epoch time.
    :param sleep: waits that many seconds.
    :param max_read_failures: failed reads in a row that end the wait (``unreadable``).
    :param max_backoff: the longest pause after a failed read.
    :param logger: where progress is logged (the trigger passes its own log).
    """
    polls = failures = 0
    last_seen: dict[int, Decimal] = {}
    while True:
        polls += 1
        try:
            units = await read()
            crossed = watch.look(units, polls)
        except FATAL_ERRORS as exc:
            return WatchOutcome("error", watch, polls=polls, detail=f"{type(exc).__name__}: {exc}",
                                last_seen=last_seen)
        except Exception as exc:
            failures += 1
            detail = f"reading ltv-details failed ({failures} in a row): {type(exc).__name__}: {exc}"
            if failures >= max_read_failures:
                return WatchOutcome("unreadable", watch, polls=polls, detail=detail, last_seen=last_seen)
            delay = min(max(poll_interval, 1.0) * 2 ** (failures - 1), max(max_backoff, poll_interval))
            if isinstance(exc, RateLimitError) and exc.retry_after:
                delay = max(delay, float(exc.retry_after))
            logger.warning("Waiting for %s: %s; reading again in %.1f s", watch.describe(), detail, delay)
        else:
            if crossed is not None:
                return crossed
            failures = 0
            last_seen = {u.group_id: u.ltv for u in watch.relevant(units)}
            delay = poll_interval
        remaining = None if deadline is None else deadline - now()
        if remaining is not None and remaining <= 0:
            return WatchOutcome("timeout", watch, polls=polls, last_seen=last_seen,
                                detail=f"no crossing of {watch.describe()} before the deadline after {polls} "
                                       f"reads (last LTV seen: {_seen(last_seen)})")
        if failures == 0:
            logger.info("Waiting for %s: last LTV %s; reading again in %.1f s", watch.describe(), _seen(last_seen),
                     delay)
        await sleep(delay if remaining is None else min(delay, remaining))
