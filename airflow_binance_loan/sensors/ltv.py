"""RiskUnitLtvSensor: wait until a risk unit's LTV crosses a threshold, in either direction.

``ltv_at_least="0.75"`` fires when a unit's LTV is 0.75 or more (alert, de-risk); ``ltv_at_most="0.5"``
fires when it is 0.5 or less (continue once collateral was added). Deferrable by default: the
waiting happens in the triggerer (:class:`~airflow_binance_loan.triggers.ltv.RiskUnitLtvTrigger`),
which reads ``ltv-details`` every ``poke_interval`` seconds through the connection's shared weight
budget. ``deferrable=False`` pokes in the worker (``mode="poke"`` or ``"reschedule"``).

The XCom (``return_value``) is the event: ``unit`` (the unit furthest beyond the level) and ``units``
(all that crossed), each with ``group_id``, ``ltv``, the totals and ``liabilities`` as exact decimal
strings, plus ``threshold``, ``description`` and ``detail``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, Context, PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_binance_loan.conventions import PARENT_CONNECTION_ID
from airflow_binance_loan.exceptions import BinanceLoanError, InvalidParameterError
from airflow_binance_loan.money import refuse_floats

if TYPE_CHECKING:
    from airflow_binance_loan.hooks.credit import BinanceCreditHook
    from airflow_binance_loan.ltv.poller import LtvWatch

#: Each look reads ltv-details: 200 IP weight, 60 a minute for everything behind one egress IP.
MIN_POKE_INTERVAL = 1.0
#: How much longer than ``timeout`` Airflow waits for the trigger before failing the task itself.
DEFERRAL_GRACE = timedelta(minutes=5)


class RiskUnitLtvSensor(BaseSensorOperator):
    """Wait until risk unit ``group_id`` (or any unit) has LTV ≥ ``ltv_at_least`` or ≤ ``ltv_at_most``.

    :param ltv_at_least: fire when LTV ≥ this (templated; exact decimal: Decimal, int or decimal string).
    :param ltv_at_most: fire when LTV ≤ this (templated). Give exactly one of the two.
    :param group_id: the risk unit to watch, or None / "" for any unit the connection sees (templated).
    :param binance_credit_conn_id: a connection that reads ``ltv-details`` of the unit(s): the parent
        account's (all its units) or the unit's credit account (templated).
    :param deferrable: wait in the triggerer (default) instead of a worker slot.
    :param max_read_failures: failed reads in a row that fail the task (deferrable mode; it may retry).
    :param poke_interval: seconds between two reads (at least 1; each read costs 200 IP weight).
    :param timeout: seconds before the sensor times out (fails, or skips with ``soft_fail``).
    """

    template_fields: Sequence[str] = ("binance_credit_conn_id", "group_id", "ltv_at_least", "ltv_at_most")
    ui_color = "#f0b90b"

    def __init__(
        self,
        *,
        ltv_at_least: Decimal | int | str | None = None,
        ltv_at_most: Decimal | int | str | None = None,
        group_id: int | str | None = None,
        binance_credit_conn_id: str = PARENT_CONNECTION_ID,
        deferrable: bool = True,
        max_read_failures: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        refuse_floats(ltv_at_least=ltv_at_least, ltv_at_most=ltv_at_most)
        if self.poke_interval < MIN_POKE_INTERVAL:
            raise InvalidParameterError("poke_interval", self.poke_interval, "must be at least 1 second: each "
                                        "look reads ltv-details (200 IP weight, 60 a minute per IP)")
        self.ltv_at_least = ltv_at_least
        self.ltv_at_most = ltv_at_most
        self.group_id = group_id
        self.binance_credit_conn_id = binance_credit_conn_id
        self.deferrable = deferrable
        self.max_read_failures = max_read_failures
        self._hook: BinanceCreditHook | None = None

    def watch(self) -> LtvWatch:
        """The validated watch (after templating, before any network call); fails the task on bad input."""
        from airflow_binance_loan.client.validation import validate_group_id
        from airflow_binance_loan.ltv.poller import LtvWatch
        from airflow_binance_loan.ltv.thresholds import threshold_from

        try:
            threshold = threshold_from(self.ltv_at_least, self.ltv_at_most)
            unit = self.group_id
            group_id = None if unit is None or (isinstance(unit, str) and not unit.strip()) else validate_group_id(unit)
        except InvalidParameterError as exc:
            raise AirflowFailException(str(exc)) from None
        return LtvWatch(threshold, group_id)

    def execute(self, context: Context) -> Any:
        """Validate, then defer to the trigger (or poke in the worker when not deferrable).

        :param context: the task context.
        """
        watch = self.watch()
        if not self.deferrable:
            return super().execute(context)
        from airflow_binance_loan.triggers.ltv import RiskUnitLtvTrigger

        self.log.info("Waiting in the triggerer for %s (a read every %.0f s, at most %.0f s)", watch.describe(),
                      self.poke_interval, self.timeout)
        self.defer(
            trigger=RiskUnitLtvTrigger(
                binance_credit_conn_id=self.binance_credit_conn_id,
                threshold=watch.threshold.to_json(),
                group_id=watch.group_id,
                poll_interval=self.poke_interval,
                deadline=time.time() + self.timeout,
                max_read_failures=self.max_read_failures,
            ),
            method_name="execute_complete",
            # The trigger fires at the deadline itself; this only guards against a lost trigger.
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume with the trigger's event: return it when a unit crossed, otherwise fail (or time out).

        :param context: the task context.
        :param event: the trigger's event.
        """
        status = (event or {}).get("status")
        detail = (event or {}).get("detail", "")
        if status == "crossed":
            assert event is not None
            self.log.info("LTV threshold crossed: %s", detail)
            return event
        if status == "timeout":
            raise AirflowSensorTimeout(f"LTV sensor timed out: {detail}")
        if status == "unreadable":
            raise AirflowException(f"LTV sensor could not read ltv-details: {detail}")
        raise AirflowFailException(f"LTV sensor stopped: {detail or f'unexpected event {event!r}'}")

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """One read of ``ltv-details`` (non-deferrable mode).

        :param context: the task context.
        """
        from airflow_binance_loan.hooks.credit import BinanceCreditHook
        from airflow_binance_loan.ltv.poller import FATAL_ERRORS

        watch = self.watch()
        if self._hook is None:
            self._hook = BinanceCreditHook(self.binance_credit_conn_id)
        try:
            units = self._hook.ltv_details(watch.group_id)
            outcome = watch.look(units)
        except FATAL_ERRORS as exc:
            raise AirflowFailException(f"LTV sensor stopped: {type(exc).__name__}: {exc}") from None
        except BinanceLoanError as exc:
            self.log.warning("Reading ltv-details failed (%s: %s); looking again in %.0f s", type(exc).__name__,
                             exc, self.poke_interval)
            return False
        if outcome is None:
            self.log.info("No crossing yet of %s (LTV now: %s)", watch.describe(),
                          ", ".join(f"{u.group_id}: {u.ltv}" for u in watch.relevant(units)))
            return False
        self.log.info("LTV threshold crossed: %s", outcome.detail)
        return PokeReturnValue(is_done=True, xcom_value=outcome.to_event())
