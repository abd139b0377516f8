"""The repay protocol's timing: how long to wait for evidence, how often to look, when to resend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from airflow_binance_loan.exceptions import InvalidParameterError

Mode = Literal["confirm", "reconcile"]


@dataclass(frozen=True)
class RepayPolicy:
    """Timing of the protocol (seconds).

    :param resend_horizon: how old a request must be before "no record and no liability drop"
        counts as proof that it did not execute (see the README for why minutes).
    :param reconcile_timeout: how long one try keeps reconciling an unknown outcome.
    :param reconcile_poll_interval: pause between two looks at the evidence.
    :param confirm_timeout: how long one try waits for the record of an accepted repay.
    :param confirm_poll_interval: pause between two looks for that record.
    :param busy_retries: resends after -1025/-27025 (pending) or -1024/-27024 (liquidation).
    :param busy_retry_delay: first pause before such a resend (doubles each time).
    """

    resend_horizon: float = 600.0
    reconcile_timeout: float = 900.0
    reconcile_poll_interval: float = 15.0
    confirm_timeout: float = 300.0
    confirm_poll_interval: float = 5.0
    busy_retries: int = 3
    busy_retry_delay: float = 2.0

    def __post_init__(self) -> None:
        for name in ("resend_horizon", "reconcile_timeout", "reconcile_poll_interval", "confirm_timeout",
                     "confirm_poll_interval", "busy_retry_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidParameterError(name, value, "must be a number of seconds >= 0")
        if self.reconcile_timeout < self.resend_horizon:
            raise InvalidParameterError(
                "reconcile_timeout", self.reconcile_timeout,
                f"must be at least resend_horizon={self.resend_horizon} (or no try could ever prove non-execution)",
            )

    def poll_interval(self, mode: Mode) -> float:
        """The pause between two looks in ``mode``.

        :param mode: ``confirm`` or ``reconcile``.
        """
        return self.confirm_poll_interval if mode == "confirm" else self.reconcile_poll_interval
