"""When a scheduled settlement may proceed on its own: never silently late."""

from __future__ import annotations

from datetime import datetime, timedelta


def late_slot_problem(run_type: str, slot: datetime | None, now: datetime, grace: timedelta) -> str | None:
    """Why a run must not settle on its own (None: it may).

    A *scheduled* run that starts more than ``grace`` after its slot (the scheduler was down, or the
    DAG was unpaused after the slot) needs a person: it fails, which alerts, and names what to do.
    Manual runs are a person's decision already.

    :param run_type: the DAG run's type (``scheduled``, ``manual``, ...).
    :param slot: the scheduled time of the run (its logical date).
    :param now: the current time.
    :param grace: how late a scheduled run may still start on its own.
    """
    if str(run_type).lower().removeprefix("dagruntype.") != "scheduled" or slot is None:
        return None
    late = now - slot
    if late <= grace:
        return None
    return (
        f"the scheduled slot {slot.isoformat()} started {_duration(late)} late (grace {_duration(grace)}): "
        "a settlement is never run silently late. Check why the slot was missed (scheduler down, DAG "
        "paused); to settle now, trigger the DAG manually."
    )


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return " ".join(f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n) or "0 min"
