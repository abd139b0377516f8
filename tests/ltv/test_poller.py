"""The polling loop: fires on the first read past the threshold (not before), backs off on read errors,
fails at once on errors no retry can fix, and times out at its deadline. Virtual time: nothing sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from airflow_binance_loan.exceptions import AuthenticationError, NetworkError, RateLimitError, ServerError
from airflow_binance_loan.ltv.poller import LtvWatch, wait_for_crossing
from airflow_binance_loan.ltv.thresholds import LtvThreshold

from .units import unit

ABOVE = LtvWatch(LtvThreshold("at_least", Decimal("0.75")))


class Script:
    """Serves one scripted ltv-details answer per read (a list of units, or an exception to raise)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.reads = 0
        self.now = 1_000_000.0
        self.slept: list[float] = []

    async def read(self) -> Any:
        self.reads += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def run(self, watch: LtvWatch = ABOVE, timeout: float | None = 3600, **kwargs: Any) -> Any:
        deadline = None if timeout is None else self.now + timeout
        clock: Callable[[], float] = lambda: self.now  # noqa: E731
        return asyncio.run(wait_for_crossing(watch, self.read, poll_interval=60, deadline=deadline, now=clock,
                                             sleep=self.sleep, **kwargs))


def test_fires_on_the_first_read_past_the_threshold_and_not_before():
    script = Script([unit(1, "0.6"), unit(2, "0.7")], [unit(1, "0.74"), unit(2, "0.7")],
                    [unit(1, "0.8"), unit(2, "0.9")])
    outcome = script.run()
    assert (outcome.status, outcome.polls, script.reads, script.slept) == ("crossed", 3, 3, [60, 60])
    event = outcome.to_event()
    assert [u["group_id"] for u in event["units"]] == [2, 1] and event["unit"]["ltv"] == "0.9"
    assert event["threshold"] == {"direction": "at_least", "level": "0.75"}
    assert event["detail"] == "risk unit 2 at LTV 0.9, risk unit 1 at LTV 0.8 (LTV ≥ 0.75)"


def test_one_unit_ignores_the_others_and_fires_when_it_goes_under():
    watch = LtvWatch(LtvThreshold("at_most", Decimal("0.5")), group_id=1)
    script = Script([unit(1, "0.6"), unit(2, "0.1")], [unit(1, "0.5"), unit(2, "0.1")])
    outcome = script.run(watch)
    assert outcome.status == "crossed" and [u.group_id for u in outcome.crossed] == [1]
    assert outcome.to_event()["description"] == "risk unit 1 at LTV ≤ 0.5"


def test_times_out_at_the_deadline_saying_what_it_last_saw():
    script = Script([unit(1, "0.6")])
    outcome = script.run(timeout=150)
    assert outcome.status == "timeout" and script.slept == [60, 60, 30] and outcome.polls == 4
    assert "before the deadline after 4 reads (last LTV seen: 1: 0.6)" in outcome.detail
    assert outcome.to_event()["last_seen"] == {"1": "0.6"}


def test_read_errors_back_off_and_the_wait_goes_on():
    limited = RateLimitError("429", retry_after=300.0, http_status=429, code=-1003)
    script = Script(NetworkError("connection reset", endpoint="ltv_details", sent=True),
                    ServerError("HTTP 503", http_status=503), limited, [unit(1, "0.6")], [unit(1, "0.9")])
    outcome = script.run()
    assert outcome.status == "crossed" and script.slept == [60, 120, 300, 60]


def test_too_many_failures_in_a_row_end_the_wait_as_unreadable():
    script = Script(ServerError("HTTP 500", http_status=500))
    outcome = script.run(timeout=None, max_read_failures=4, max_backoff=100)
    assert outcome.status == "unreadable" and script.slept == [60, 100, 100]
    assert "reading ltv-details failed (4 in a row): ServerError" in outcome.detail


def test_errors_no_retry_can_fix_end_the_wait_at_once():
    rejected = Script(AuthenticationError("Invalid API-key, IP, or permissions for action.", code=-2015))
    outcome = rejected.run()
    assert (outcome.status, rejected.reads, rejected.slept) == ("error", 1, [])
    assert "AuthenticationError" in outcome.detail and "-2015" in outcome.detail
    missing = Script([unit(2, "0.9")]).run(LtvWatch(ABOVE.threshold, group_id=1))
    assert missing.status == "error" and "does not list risk unit 1" in missing.detail
    nothing = Script([]).run()
    assert nothing.status == "error" and "use the parent account's connection" in nothing.detail
