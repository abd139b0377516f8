"""Hourly interest: ``interest += principal × hourly rate`` on the hour, with an interest-history row per charge.

Simple interest on principal, rounded half-up to 8 decimals. By default the sandbox charges hours
only when its clock is advanced (``POST /sandbox/advance``); with live interest it also charges
every hour boundary the clock has passed, lazily before each request.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from binance_loan_sandbox.amounts import QUANTUM
from binance_loan_sandbox.state import InterestRow, SandboxState

HOUR_MS = 3_600_000
MAX_CATCH_UP_HOURS = 24 * 100


def hour_boundaries(after_ms: int, until_ms: int) -> list[int]:
    """Top-of-hour instants in (after_ms, until_ms].

    :param after_ms: exclusive start (epoch ms).
    :param until_ms: inclusive end (epoch ms).
    """
    first = (after_ms // HOUR_MS + 1) * HOUR_MS
    return list(range(first, until_ms + 1, HOUR_MS))


def accrue(state: SandboxState, boundaries: list[int]) -> int:
    """Charge one hour of interest per boundary on every active unit: interest += principal × hourly rate.

    :param state: the sandbox state.
    :param boundaries: the top-of-hour instants to charge, in order.
    """
    rows = 0
    with state.lock:
        for instant in boundaries:
            for unit in state.units.values():
                if not unit.active:
                    continue
                for asset, owed in unit.liabilities.items():
                    rate = unit.hourly_rates.get(asset, Decimal(0))
                    charge = (owed.principal * rate).quantize(QUANTUM, rounding=ROUND_HALF_UP)
                    if owed.principal <= 0 or charge <= 0:
                        continue
                    owed.interest += charge
                    unit.update_time = instant
                    state.interest_rows.append(
                        InterestRow(unit.group_id, asset, owed.principal, rate, charge, instant)
                    )
                    rows += 1
    return rows


def accrue_until(state: SandboxState, now_ms: int) -> int:
    """Live mode: accrue every hour boundary passed since the last accrual (at most 100 days' worth).

    :param state: the sandbox state.
    :param now_ms: the sandbox time reached.
    """
    with state.lock:
        last = state.last_accrual_ms
        if last is not None and now_ms <= last:
            return 0  # never move backwards (a reduced skew would charge hours twice)
        state.last_accrual_ms = now_ms
        if last is None:
            return 0
        boundaries = hour_boundaries(max(last, now_ms - MAX_CATCH_UP_HOURS * HOUR_MS), now_ms)
        return accrue(state, boundaries)
