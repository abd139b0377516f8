"""RepayWorkflow: the exactly-once repay protocol, driven step by step (no Airflow import).

A try calls :meth:`RepayWorkflow.start`, which either finishes or returns a :class:`Waiting`
step (a sent repay whose record must be confirmed, or whose outcome must be reconciled). The
caller then waits (``clock.sleep``, or a trigger in Airflow's triggerer) and calls
:meth:`RepayWorkflow.check` until it finishes. The rules:

* the journal is read first: an earlier try's unsettled attempt is reconciled, never resent;
  a settled request is reported again, never repaid again (except the rest of an
  ``outstanding`` repay that Binance only partly filled);
* every attempt is journaled before its bytes leave, with the unit's liability just before;
* a repay is resent only when the evidence proves the earlier one did not execute (a FAILED
  record, or no record and no unexplained liability drop once ``resend_horizon`` has passed),
  at most once per try; anything else ends the try with "MAY HAVE EXECUTED".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.client.evidence import Others, Reconciliation, SentRepay, Snapshot, examine
from airflow_binance_loan.client.intent import RequestIntent
from airflow_binance_loan.exceptions import (
    AuthenticationError,
    BinanceAPIError,
    ExecutionUnknownError,
    InsufficientBalanceError,
    InvalidRequestError,
    LiquidationInProgressError,
    LoanBusinessError,
    NoLiabilityError,
    PendingTransactionError,
    RepayError,
    RepayFailedRecordError,
    RepayNotConfirmedError,
    RepayOutcomeUnknownError,
    RepayRejectedError,
    RepaySupersededError,
)
from airflow_binance_loan.money import format_decimal
from airflow_binance_loan.repayment.journal import Attempt, RepayJournal, RequestEntry
from airflow_binance_loan.repayment.outcome import RepayOutcome
from airflow_binance_loan.repayment.policy import Mode, RepayPolicy
from airflow_binance_loan.repayment.request import RepayRequest

if TYPE_CHECKING:
    from airflow_binance_loan.client.loan_api import LoanClient



@dataclass(frozen=True)
class Waiting:
    """A sent attempt whose outcome the caller must wait for; plain values only (trigger-safe)."""

    attempt: int
    mode: Mode
    deadline: float
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (for a trigger event)."""
        return {"attempt": self.attempt, "mode": self.mode, "deadline": self.deadline, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Waiting:
        """Rebuild from :meth:`to_json`.

        :param data: the dict.
        """
        mode = data["mode"]
        if mode not in ("confirm", "reconcile"):
            raise ValueError(f"unknown wait mode {mode!r}")
        return cls(int(data["attempt"]), mode, float(data["deadline"]), str(data.get("detail", "")))


@dataclass(frozen=True)
class Finished:
    """The request is settled: ``outcome`` is what to report."""

    outcome: RepayOutcome


Step = Waiting | Finished


class RepayWorkflow:
    """The exactly-once protocol for one repay request in one try.

    :param client: the credit account's client.
    :param journal: this request's journal.
    :param request: the validated request.
    :param try_number: this try's number (later tries take over earlier ones).
    :param policy: timing.
    :param clock: injectable clock (tests never sleep).
    :param log: a logger for the protocol's decisions (Airflow's task logger, or a ``logging.Logger``).
    """

    def __init__(
        self,
        client: LoanClient,
        journal: RepayJournal,
        request: RepayRequest,
        *,
        try_number: int = 1,
        policy: RepayPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        log: Any = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.request = request
        self.try_number = try_number
        self.policy = policy or RepayPolicy()
        self.clock = clock
        self.log = log or logging.getLogger("airflow_binance_loan.repayment")
        self._resent = False
        self._earlier: RepayOutcome | None = None

    # -- entry points ----------------------------------------------------------------------------

    def dry_run(self) -> RepayOutcome:
        """Resolve the amount and say what would be sent; writes nothing, sends nothing."""
        amount, _ = self._resolve_amount()
        if amount is None:
            return self._base("nothing_to_repay", "0")
        self.log.info("DRY RUN: would repay %s %s on risk unit %s from %s; nothing sent", format_decimal(amount),
                      self.request.asset, self.request.group_id, self.request.repay_from or "MARGIN (default)")
        return self._base("dry_run", format_decimal(amount))

    def start(self) -> Step:
        """Begin this try: resume what an earlier try left, or send the repay."""
        entry = self.journal.take_over(self.try_number)
        if entry is not None:
            step = self._resume(entry)
            if step is not None:
                return step
        return self._send()

    def check(self, waiting: Waiting) -> Step:
        """One look at the evidence for the waiting attempt, then act on it.

        :param waiting: the step returned earlier.
        """
        sent, others = self.evidence_of(waiting)
        verdict = examine(self.client, sent, others=others, horizon_ms=int(self.policy.resend_horizon * 1000))
        return self.conclude(waiting, verdict)

    def run(self) -> RepayOutcome:
        """Start, then wait in this process until the request is settled (or the try fails)."""
        return self.wait(self.start())

    def wait(self, step: Step, before_sleep: Callable[[Waiting], None] | None = None) -> RepayOutcome:
        """Look at the evidence, pausing between looks, until the request is settled (or the try fails).

        :param step: where the protocol stands (:meth:`start` or :meth:`check` returned it).
        :param before_sleep: called with each waiting step before the pause; it may raise to hand the
            wait elsewhere (the operator defers to Airflow's triggerer this way).
        """
        while isinstance(step, Waiting):
            if before_sleep is not None:
                before_sleep(step)
            self.clock.sleep(self.policy.poll_interval(step.mode))
            step = self.check(step)
        return step.outcome

    def evidence_of(self, waiting: Waiting) -> tuple[SentRepay, Others]:
        """The waiting attempt as the evidence sees it, and what other requests claim (one journal read).

        :param waiting: the step.
        """
        entry, others = self.journal.load_with_others(exclude_attempt=waiting.attempt)
        if entry is None:
            raise self._vanished()
        return entry.attempt(waiting.attempt).sent_repay(self.request.group_id, self.request.asset), others

    # -- deciding --------------------------------------------------------------------------------

    def conclude(self, waiting: Waiting, verdict: Reconciliation) -> Step:
        """Act on a verdict: settle, resend once, keep waiting, or fail saying what may have happened.

        :param waiting: the step the verdict is about.
        :param verdict: the evidence's verdict.
        """
        number = waiting.attempt
        if verdict.outcome == "executed" and verdict.record is not None:
            self.log.info("Repay attempt %d executed: %s", number, verdict.detail)
            entry = self.journal.update_attempt(number, state="executed", record_tran_id=verdict.record.tran_id,
                                                detail=verdict.detail)
            return self._finish(self._outcome_of(entry.attempt(number)).with_record(verdict.record))
        if verdict.outcome == "not_executed":
            self.journal.update_attempt(number, state="not_executed", detail=verdict.detail)
            if verdict.record is not None:
                raise RepayFailedRecordError(
                    f"Binance's record of the repay says FAILED ({verdict.detail}): nothing was repaid. "
                    "A retry of this task may repay again."
                )
            self.log.warning("Repay attempt %d proven NOT executed: %s", number, verdict.detail)
            if self._resent:
                raise RepayError(
                    "the resent repay was also proven not executed; not resending a second time. Nothing was "
                    "repaid by this try: check connectivity to Binance and retry."
                )
            self._resent = True
            self.log.warning("Resending the repay once")
            return self._send()
        if self.clock.time() < waiting.deadline:
            self.log.info("Repay attempt %d: %s", number, verdict.detail)
            return replace(waiting, detail=verdict.detail)
        return self.give_up(waiting, verdict.detail)

    def give_up(self, waiting: Waiting, detail: str | None = None) -> NoReturn:
        """End this try for the waiting attempt, saying exactly what may have happened.

        :param waiting: the step.
        :param detail: the last evidence (defaults to the step's).
        """
        detail = waiting.detail if detail is None else detail
        attempt = self._entry().attempt(waiting.attempt)
        what = (f"repay of {attempt.amount} {self.request.asset} on risk unit {self.request.group_id} "
                f"signed at timestamp {attempt.timestamp_ms} (attempt {attempt.number})")
        if waiting.mode == "confirm":
            raise RepayNotConfirmedError(
                f"Binance accepted the {what} as transaction {attempt.transaction_id}, but its record could not "
                f"be confirmed ({detail}). It was NOT resent; a retry of this task confirms it from the "
                f"journal ({self.journal.location}) without repaying again."
            )
        raise RepayOutcomeUnknownError(
            f"Repay outcome still UNKNOWN: the {what} MAY HAVE EXECUTED and was NOT resent. Last evidence: "
            f"{detail}. A retry of this task continues this reconciliation from the journal "
            f"({self.journal.location}) instead of repaying. To check by hand: GET "
            "/sapi/v1/margin/loan-group/borrow-repay?type=REPAY and ltv-details for the unit."
        )

    # -- resuming --------------------------------------------------------------------------------

    def _resume(self, entry: RequestEntry) -> Step | None:
        last = entry.last
        if entry.outcome is not None:
            earlier = RepayOutcome.from_xcom(entry.outcome)
            if earlier.moved_money and (self.request.amount is not None or not earlier.partial):
                self.log.info("Matched earlier repayment of this request: transaction %s, repaid %s %s; "
                              "NOT repaying again", earlier.transaction_id, earlier.repaid_amount, earlier.asset)
                return Finished(replace(earlier, status="reconciled"))
            if earlier.moved_money:
                self._earlier = earlier
                self.log.warning("An earlier try repaid only %s of %s %s (transaction %s): repaying what is "
                                 "outstanding now", earlier.repaid_amount, earlier.requested_amount,
                                 earlier.asset, earlier.transaction_id)
            return None
        if last is None or last.state == "not_executed":
            return None
        self.log.info("Found attempt %d of an earlier try (try %d, %s, %s %s signed at %d): settling it, "
                      "NOT sending again", last.number, last.try_number, last.state, last.amount,
                      self.request.asset, last.timestamp_ms)
        return self._wait(last.number, "reconcile" if last.state in ("sending", "unknown") else "confirm")

    # -- sending ---------------------------------------------------------------------------------

    def _send(self) -> Step:
        amount, before = self._resolve_amount()
        if amount is None and self._earlier is not None:
            self.log.info("Risk unit %s owes no %s any more: reporting the earlier repayment (transaction %s)",
                          self.request.group_id, self.request.asset, self._earlier.transaction_id)
            return Finished(replace(self._earlier, status="reconciled"))
        if amount is None:
            self.log.info("Risk unit %s owes no %s: nothing to repay", self.request.group_id, self.request.asset)
            return self._finish(self._base("nothing_to_repay", "0"), journal=self.journal.load() is not None)
        busy = 0
        while True:
            number = len(self._entry_or_none_attempts()) + 1
            started: list[int] = []

            def on_send(intent: RequestIntent, number: int = number, started: list[int] = started) -> None:
                self.journal.begin_attempt(self._attempt(number, intent, amount, before))
                started.append(number)

            try:
                result = self.client.repay(self.request.group_id, self.request.asset, amount,
                                           self.request.repay_from, on_send=on_send)
            except ExecutionUnknownError as exc:
                self.log.warning("Repay outcome unknown (%s); reconciling before anything else", exc)
                self._record_after_send(number, "its answer was lost", state="unknown", detail=str(exc)[:300])
                return self._wait(number, "reconcile")
            except NoLiabilityError as exc:
                self._rejected(started, exc)
                self.log.info("Binance: no liability on risk unit %s (%s): nothing to repay",
                              self.request.group_id, exc.msg)
                return self._finish(self._base("nothing_to_repay", format_decimal(amount)))
            except (PendingTransactionError, LiquidationInProgressError) as exc:
                self._rejected(started, exc)
                busy += 1
                if busy > self.policy.busy_retries:
                    raise RepayError(
                        f"repay refused {busy} times ({type(exc).__name__}: code {exc.code} {exc.msg}); nothing "
                        "was repaid by these attempts: retry the task later"
                    ) from None
                delay = self.policy.busy_retry_delay * 2 ** (busy - 1)
                self.log.warning("Repay refused (code %s: %s); retry %d/%d in %.1f s",
                                 exc.code, exc.msg, busy, self.policy.busy_retries, delay)
                self.clock.sleep(delay)
                continue
            except InsufficientBalanceError as exc:
                self._rejected(started, exc)
                raise RepayRejectedError(
                    f"Insufficient balance: Binance refused to repay {format_decimal(amount)} {self.request.asset} "
                    f"on risk unit {self.request.group_id} from {self.request.repay_from or 'MARGIN'} "
                    f"(code {exc.code}: {exc.msg}); nothing was repaid. Top up the credit account, then retry."
                ) from None
            except (AuthenticationError, InvalidRequestError, LoanBusinessError) as exc:
                self._rejected(started, exc)
                raise RepayRejectedError(f"Binance refused the repay, nothing was repaid: {exc}") from None
            except BinanceAPIError as exc:
                # 429/418 after the wait bound, -1021 after a resync: refused before execution.
                self._rejected(started, exc)
                raise
            self._record_after_send(number, f"Binance answered transaction {result.transaction_id}",
                                    state="answered", transaction_id=result.transaction_id,
                                    answered_amount=format_decimal(result.amount))
            if result.amount < result.requested_amount:
                self.log.warning("Partial repayment: requested %s %s but Binance repaid %s (available balance "
                                 "was lower)", format_decimal(result.requested_amount), result.asset,
                                 format_decimal(result.amount))
            self.log.info("Repaid %s %s on risk unit %s: transaction %s; confirming its record",
                          format_decimal(result.amount), result.asset, result.group_id, result.transaction_id)
            return self.check(self._wait(number, "confirm"))

    def _record_after_send(self, number: int, what: str, **changes: Any) -> None:
        """Journal what came back; if a later try took over meanwhile, say the repay may have executed."""
        try:
            self.journal.update_attempt(number, **changes)
        except RepaySupersededError:
            raise RepayOutcomeUnknownError(
                f"this try's repay (attempt {number}) was sent and {what}, but another try of this task "
                "instance took over meanwhile: the repay MAY HAVE EXECUTED and was NOT resent; the try that "
                f"owns it now settles it from the journal ({self.journal.location})."
            ) from None

    def _resolve_amount(self) -> tuple[Decimal | None, Snapshot]:
        """The amount to send (None: nothing owed) and the liability snapshot taken just before."""
        request = self.request
        at = self.client.server_time_ms()
        units = [u for u in self.client.ltv_details(request.group_id) if u.group_id == request.group_id]
        if not units:
            raise RepayRejectedError(
                f"risk unit {request.group_id} is not visible to this connection (ltv-details returned no such "
                "unit): check group_id and that the connection is the unit's credit account"
            )
        liability = units[0].liability(request.asset)
        before = Snapshot(liability.outstanding, at)
        if request.amount is not None:
            return request.amount, before
        self.log.info("Outstanding on risk unit %s: %s %s (principal %s + interest %s)", request.group_id,
                      format_decimal(liability.outstanding), request.asset, format_decimal(liability.principal),
                      format_decimal(liability.interest))
        if liability.outstanding <= 0:
            return None, before
        request.check_cap(liability.outstanding, "amount (outstanding)")
        return liability.outstanding, before

    def _attempt(self, number: int, intent: RequestIntent, amount: Decimal, before: Snapshot) -> Attempt:
        return Attempt(
            number=number, state="sending", timestamp_ms=intent.timestamp_ms, amount=format_decimal(amount),
            try_number=self.try_number, recv_window_ms=intent.recv_window_ms, repay_from=self.request.repay_from,
            before_outstanding=format_decimal(before.outstanding), before_at_ms=before.at_ms,
        )

    def _rejected(self, started: list[int], exc: BinanceAPIError) -> None:
        """Binance answered with a definite refusal: the attempt provably did not execute."""
        for number in started:
            self.journal.update_attempt(number, state="not_executed", detail=f"refused: code {exc.code} {exc.msg}")

    # -- helpers ---------------------------------------------------------------------------------

    def _wait(self, number: int, mode: Mode) -> Waiting:
        timeout = self.policy.confirm_timeout if mode == "confirm" else self.policy.reconcile_timeout
        return Waiting(number, mode, self.clock.time() + timeout)

    def _entry(self) -> RequestEntry:
        entry = self.journal.load()
        if entry is None:
            raise self._vanished()
        return entry

    def _vanished(self) -> RepayError:
        return RepayError(f"the journal entry of this repay vanished ({self.journal.location}); not sending")

    def _entry_or_none_attempts(self) -> tuple[Attempt, ...]:
        entry = self.journal.load()
        return entry.attempts if entry is not None else ()

    def _base(self, status: Any, requested: str) -> RepayOutcome:
        return RepayOutcome(status=status, group_id=self.request.group_id, asset=self.request.asset,
                            repay_from=self.request.repay_from, requested_amount=requested, repaid_amount="0")

    def _outcome_of(self, attempt: Attempt) -> RepayOutcome:
        status = "repaid" if attempt.transaction_id and attempt.try_number == self.try_number else "reconciled"
        return replace(
            self._base(status, attempt.amount),
            transaction_id=attempt.transaction_id or attempt.record_tran_id,
            repaid_amount=attempt.answered_amount or "0",
            repay_from=attempt.repay_from,
        )

    def _finish(self, outcome: RepayOutcome, *, journal: bool = True) -> Finished:
        if journal:
            self.journal.finish(outcome.to_xcom())
        return Finished(outcome)
