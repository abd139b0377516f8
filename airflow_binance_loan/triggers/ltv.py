"""RiskUnitLtvTrigger: waits in the triggerer until a risk unit's LTV crosses a threshold.

It polls ``ltv-details`` (200 IP weight a read) through the connection's client, so every read
takes its weight from the connection's shared weight budget like any other call, and fires once:
``crossed`` (the units, LTV and liabilities as exact decimal strings), ``timeout`` (the sensor's
deadline passed), ``error`` (a rejected key, bad settings, a unit the connection cannot see) or
``unreadable`` (too many failed reads in a row). It carries only plain values (the threshold as
``{"direction", "level"}`` with the level as a decimal string), and its event carries everything
the sensor needs, as ``dag.test()`` passes only the event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class RiskUnitLtvTrigger(BaseTrigger):
    """Fires one event (see the module docstring) when the watch ends.

    :param binance_credit_conn_id: a connection that can read ``ltv-details`` of the unit(s).
    :param threshold: ``LtvThreshold.to_json()``: ``{"direction": "at_least" | "at_most", "level": "0.75"}``.
    :param group_id: one risk unit, or None for any unit the connection sees.
    :param poll_interval: seconds between two reads.
    :param deadline: epoch seconds after which it fires ``timeout`` (None: never).
    :param max_read_failures: failed reads in a row after which it fires ``unreadable``.
    :param clock: injectable clock (tests); not serialized, the triggerer uses real time.
    """

    def __init__(
        self,
        binance_credit_conn_id: str,
        threshold: dict[str, Any],
        group_id: int | None = None,
        poll_interval: float = 60.0,
        deadline: float | None = None,
        max_read_failures: int = 10,
        *,
        clock: Any = None,
    ) -> None:
        super().__init__()
        self.binance_credit_conn_id = binance_credit_conn_id
        self.threshold = dict(threshold)
        self.group_id = None if group_id is None else int(group_id)
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.max_read_failures = int(max_read_failures)
        self._clock = clock

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and plain kwargs."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "binance_credit_conn_id": self.binance_credit_conn_id,
                "threshold": self.threshold,
                "group_id": self.group_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "max_read_failures": self.max_read_failures,
            },
        )

    async def _sleep(self, seconds: float) -> None:
        if self._clock is None:
            await asyncio.sleep(seconds)
        else:  # virtual time: advance it, then let the loop run
            self._clock.sleep(seconds)
            await asyncio.sleep(0)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the threshold is crossed, the deadline passes or reading fails for good."""
        from airflow_binance_loan.hooks.credit import BinanceCreditHook
        from airflow_binance_loan.ltv.poller import LtvWatch, wait_for_crossing
        from airflow_binance_loan.ltv.thresholds import LtvThreshold

        try:
            watch = LtvWatch(LtvThreshold.from_json(self.threshold), self.group_id)
            hook = (BinanceCreditHook(self.binance_credit_conn_id) if self._clock is None
                    else BinanceCreditHook(self.binance_credit_conn_id, clock=self._clock))
            client = await hook.aget_conn()
        except Exception as exc:
            yield TriggerEvent({"status": "error", "group_id": self.group_id, "threshold": self.threshold,
                                "unit": None, "units": [], "polls": 0, "detail": f"{type(exc).__name__}: {exc}"})
            return
        try:
            outcome = await wait_for_crossing(
                watch,
                lambda: asyncio.to_thread(client.ltv_details, self.group_id),
                poll_interval=self.poll_interval,
                deadline=self.deadline,
                now=time.time if self._clock is None else self._clock.time,
                sleep=self._sleep,
                max_read_failures=self.max_read_failures,
                logger=self.log,
            )
        finally:
            client.close()
        yield TriggerEvent(outcome.to_event())
