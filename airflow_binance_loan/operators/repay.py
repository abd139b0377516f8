"""RiskUnitRepayOperator: repay a risk unit exactly once and push an exact record to XCom.

Exactly-once rests on two mechanisms:

* within one try, a request whose outcome is unknown (timeout after send, dropped
  connection, 5xx, -1006/-1007) is reconciled against the borrow/repay records
  before anything else: executed → success (``reconciled``); provably not executed
  → one resend; still unknown after ``reconcile_timeout`` → failure that says so;
* across tries (Airflow retry, worker crash, manual clear), the intent of every
  repay is written to a :class:`RepayLedger` before it is sent; a later try of the
  same task instance reads it and reconciles instead of repaying again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as _replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowException

from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.client.encoding import format_decimal
from airflow_binance_loan.client.models import RepayResult
from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.client.reconcile import find_transaction
from airflow_binance_loan.client.validation import (
    validate_amount,
    validate_asset,
    validate_group_id,
    validate_repay_from,
)
from airflow_binance_loan.exceptions import (
    ExecutionUnknownError,
    InvalidParameterError,
    LiquidationInProgressError,
    NoLiabilityError,
    PendingTransactionError,
    RequestIntent,
)
from airflow_binance_loan.hooks.credit import BinanceCreditHook
from airflow_binance_loan.operators.ledger import LedgerStore, RepayLedger, intent_from_entry
from airflow_binance_loan.operators.outcome import RepayOutcome

OUTSTANDING = "outstanding"
_EMPTY = (None, "", "None", "none", "null")


@dataclass(frozen=True)
class RepayRequest:
    """The validated, rendered inputs (``amount`` None means "outstanding")."""

    group_id: int
    asset: str
    amount: Decimal | None
    repay_from: str | None
    max_amount: Decimal | None


class RiskUnitRepayOperator(BaseOperator):
    """Repay a Binance Institutional Loan risk unit once; push ``transaction_id`` and ``repaid_amount``.

    :param group_id: risk unit id (templated).
    :param asset: liability asset, e.g. ``USDT`` (templated).
    :param amount: Decimal, int or decimal string, or ``"outstanding"`` for the unit's current
        principal + interest in that asset (templated). Floats are refused.
    :param binance_credit_conn_id: the credit account's ``binance_credit`` connection (templated).
    :param repay_from: ``MARGIN`` (Binance's default) or ``SPOT`` (templated).
    :param max_amount: safety cap; a larger amount fails the task before sending (templated).
    :param dry_run: resolve and log everything, push what would be done, send no repay.
    :param deferrable: wait for the repay record's confirmation in the triggerer, not a worker slot.
    :param reconcile_timeout: how long to keep checking records after an unknown outcome before failing.
    :param reconcile_margin: seconds past ``timestamp + recvWindow`` after which a missing record
        proves a request did not execute (half for Binance's processing, half for record lag).
    """

    template_fields: Sequence[str] = (
        "group_id",
        "asset",
        "amount",
        "repay_from",
        "binance_credit_conn_id",
        "max_amount",
    )
    ui_color = "#f0b90b"

    # Injection points for tests and rehearsals (class attributes, not DAG arguments).
    clock: Clock = SYSTEM_CLOCK
    pacer: WeightPacer | None = None
    ledger_store: LedgerStore | None = None

    def __init__(
        self,
        *,
        group_id: int | str,
        asset: str,
        amount: Decimal | int | str,
        binance_credit_conn_id: str = BinanceCreditHook.default_conn_name,
        repay_from: str | None = None,
        max_amount: Decimal | int | str | None = None,
        dry_run: bool = False,
        deferrable: bool = False,
        confirm_timeout: float = 300.0,
        confirm_poll_interval: float = 5.0,
        reconcile_timeout: float = 60.0,
        reconcile_poll_interval: float = 5.0,
        reconcile_margin: float = 8.0,
        busy_retries: int = 3,
        busy_retry_delay: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (("amount", amount), ("max_amount", max_amount)):
            if isinstance(value, float):
                raise InvalidParameterError(
                    name, value, "floats are refused for money: pass a Decimal, an int or a decimal string"
                )
        self.group_id = group_id
        self.asset = asset
        self.amount = amount
        self.binance_credit_conn_id = binance_credit_conn_id
        self.repay_from = repay_from
        self.max_amount = max_amount
        # BaseOperator already has a dry_run() method: keep the flag under another name.
        self.dry_run_only = dry_run
        self.deferrable = deferrable
        self.confirm_timeout = confirm_timeout
        self.confirm_poll_interval = confirm_poll_interval
        self.reconcile_timeout = reconcile_timeout
        self.reconcile_poll_interval = reconcile_poll_interval
        self.reconcile_margin = reconcile_margin
        self.busy_retries = busy_retries
        self.busy_retry_delay = busy_retry_delay

    # -- inputs ------------------------------------------------------------------------------------

    def validated_request(self) -> RepayRequest:
        """All inputs checked before any network call; one clear error naming field and value."""
        amount = self.amount
        resolved: Decimal | None
        if isinstance(amount, str) and amount.strip().lower() == OUTSTANDING:
            resolved = None
        else:
            resolved = validate_amount(amount, "amount")
        repay_from = None if self.repay_from in _EMPTY else self.repay_from
        cap = None if self.max_amount in _EMPTY else validate_amount(self.max_amount, "max_amount")
        request = RepayRequest(
            group_id=validate_group_id(self.group_id, "group_id"),
            asset=validate_asset(self.asset, "asset"),
            amount=resolved,
            repay_from=validate_repay_from(repay_from, "repay_from"),
            max_amount=cap,
        )
        if resolved is not None:
            self._check_cap(request, resolved)
        return request

    @staticmethod
    def _check_cap(request: RepayRequest, amount: Decimal) -> None:
        if request.max_amount is not None and amount > request.max_amount:
            raise InvalidParameterError(
                "amount", format_decimal(amount), f"exceeds max_amount={format_decimal(request.max_amount)}"
            )

    # -- execution ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        request = self.validated_request()
        ti = context["ti"]
        hook = BinanceCreditHook(self.binance_credit_conn_id, clock=self.clock, pacer=self.pacer)
        ledger = RepayLedger.for_task_instance(ti, self.ledger_store)

        earlier = ledger.load()
        if earlier is not None and earlier.get("state") != "failed":
            outcome = self._resume(hook, ledger, earlier, request)
            if outcome is not None:
                return self._finish(context, outcome)

        amount = self._resolve_amount(hook, request)
        base = RepayOutcome(
            status="dry_run" if self.dry_run_only else "repaid",
            group_id=request.group_id,
            asset=request.asset,
            repay_from=request.repay_from,
            requested_amount=format_decimal(amount) if amount is not None else "0",
            repaid_amount="0",
        )
        if amount is None:
            self.log.info("Risk unit %s owes no %s: nothing to repay", request.group_id, request.asset)
            return self._finish(context, _replace(base, status="nothing_to_repay"))
        if self.dry_run_only:
            self.log.info(
                "DRY RUN: would repay %s %s on risk unit %s from %s; nothing sent",
                base.requested_amount, request.asset, request.group_id, request.repay_from or "MARGIN (default)",
            )
            return self._finish(context, base)
        return self._repay(context, hook, ledger, request, amount, base)

    def _resolve_amount(self, hook: BinanceCreditHook, request: RepayRequest) -> Decimal | None:
        if request.amount is not None:
            return request.amount
        units = [u for u in hook.ltv_details(request.group_id) if u.group_id == request.group_id]
        if not units:
            raise AirflowException(
                f"risk unit {request.group_id} is not visible to connection {self.binance_credit_conn_id!r} "
                "(ltv-details returned no such unit): check group_id and that the connection is its credit account"
            )
        liability = units[0].liability(request.asset)
        self.log.info(
            "Outstanding on risk unit %s: %s %s (principal %s + interest %s)",
            request.group_id, format_decimal(liability.outstanding), request.asset,
            format_decimal(liability.principal), format_decimal(liability.interest),
        )
        if liability.outstanding <= 0:
            return None
        self._check_cap(request, liability.outstanding)
        validate_amount(liability.outstanding, "amount (outstanding)")
        return liability.outstanding

    def _repay(
        self,
        context: Context,
        hook: BinanceCreditHook,
        ledger: RepayLedger,
        request: RepayRequest,
        amount: Decimal,
        base: RepayOutcome,
    ) -> dict[str, Any]:
        try_number = int(getattr(context["ti"], "try_number", 1) or 1)
        resent = False
        busy = 0
        while True:
            try:
                result = hook.repay(
                    request.group_id,
                    request.asset,
                    amount,
                    request.repay_from,
                    on_send=lambda intent: ledger.record_sending(intent, try_number),
                )
            except NoLiabilityError as exc:
                self.log.info("Binance: no liability on risk unit %s (%s): nothing to repay", request.group_id, exc.msg)
                return self._finish(context, _replace(base, status="nothing_to_repay"), ledger)
            except (PendingTransactionError, LiquidationInProgressError) as exc:
                busy += 1
                if busy > self.busy_retries:
                    raise AirflowException(
                        f"repay refused {busy} times ({type(exc).__name__}: code {exc.code} {exc.msg}); "
                        "nothing was repaid by these attempts — retry the task later"
                    ) from None
                delay = self.busy_retry_delay * 2 ** (busy - 1)
                self.log.warning("Repay refused (code %s: %s); retry %d/%d in %.1f s",
                                 exc.code, exc.msg, busy, self.busy_retries, delay)
                self.clock.sleep(delay)
                continue
            except ExecutionUnknownError as exc:
                self.log.warning("Repay outcome unknown (%s); reconciling against borrow/repay records", exc)
                outcome = self._reconcile_unknown(hook, exc.intent, base)
                if outcome is not None:
                    return self._finish(context, outcome, ledger)
                if resent:
                    raise AirflowException(
                        "the resent repay was also proven not executed; not resending a second time. "
                        "Nothing was repaid by this try: check connectivity to Binance and retry."
                    ) from None
                resent = True
                self.log.warning("Records prove the repay did not execute: resending once")
                continue
            sent_intent = intent_from_entry(ledger.load() or {})
            ledger.record_sent(sent_intent, result.transaction_id, format_decimal(result.amount), try_number)
            self._warn_partial(result)
            outcome = _replace(
                base,
                status="repaid",
                transaction_id=result.transaction_id,
                repaid_amount=format_decimal(result.amount),
                repay_from=result.repay_from,
            )
            return self._confirm(context, hook, ledger, outcome, sent_intent.timestamp_ms)

    def _warn_partial(self, result: RepayResult) -> None:
        if result.amount < result.requested_amount:
            self.log.warning(
                "Partial repayment: requested %s %s but Binance repaid %s (available balance was lower)",
                format_decimal(result.requested_amount), result.asset, format_decimal(result.amount),
            )
        self.log.info(
            "Repaid %s %s on risk unit %s: transaction %s",
            format_decimal(result.amount), result.asset, result.group_id, result.transaction_id,
        )

    # -- reconciliation ------------------------------------------------------------------------

    def _reconcile_unknown(
        self, hook: BinanceCreditHook, intent: RequestIntent, base: RepayOutcome
    ) -> RepayOutcome | None:
        """Executed → reconciled outcome; provably not executed → None; unknown at the bound → fail."""
        deadline = self.clock.monotonic() + self.reconcile_timeout
        while True:
            half_margin_ms = int(self.reconcile_margin * 500)
            verdict = hook.reconcile(intent, processing_ms=half_margin_ms, settle_ms=half_margin_ms)
            if verdict.outcome == "executed" and verdict.record is not None:
                self.log.info("Reconciled: the repay executed (%s)", verdict.detail)
                return _replace(
                    base, status="reconciled", transaction_id=verdict.record.tran_id,
                    requested_amount=intent.amount or base.requested_amount,
                ).with_record(verdict.record)
            if verdict.outcome == "not_executed":
                self.log.info("Reconciled: the repay did not execute (%s)", verdict.detail)
                return None
            if self.clock.monotonic() >= deadline:
                raise AirflowException(
                    f"Repay outcome still UNKNOWN after {self.reconcile_timeout:.0f} s: the repay MAY HAVE "
                    f"EXECUTED and was NOT resent. Intent: {intent.describe()}. Check the risk unit's "
                    "borrow/repay records (GET /sapi/v1/margin/loan-group/borrow-repay?type=REPAY) and "
                    f"ltv-details before retrying. Last check: {verdict.detail}"
                )
            self.log.info("Reconciliation pending (%s); checking again in %.1f s",
                          verdict.detail, self.reconcile_poll_interval)
            self.clock.sleep(self.reconcile_poll_interval)

    def _resume(
        self, hook: BinanceCreditHook, ledger: RepayLedger, entry: dict[str, Any], request: RepayRequest
    ) -> RepayOutcome | None:
        """An earlier try of this task instance sent a repay: find out what it did instead of repaying."""
        intent = intent_from_entry(entry)
        base = RepayOutcome(
            status="reconciled", group_id=intent.group_id or request.group_id, asset=intent.asset or request.asset,
            repay_from=request.repay_from, requested_amount=intent.amount or "0", repaid_amount="0",
        )
        state = entry.get("state")
        self.log.info(
            "Found the ledger entry of an earlier try (try %s, state %s): %s",
            entry.get("try_number"), state, intent.describe(),
        )
        if state == "done" and isinstance(entry.get("outcome"), dict):
            earlier = RepayOutcome.from_xcom(entry["outcome"])
            self.log.info("Matched earlier repayment: transaction %s, repaid %s %s; NOT repaying again",
                          earlier.transaction_id, earlier.repaid_amount, earlier.asset)
            return _replace(earlier, status="reconciled") if earlier.transaction_id else earlier
        if state == "sent" and entry.get("transaction_id"):
            tran_id = str(entry["transaction_id"])
            record = find_transaction(hook.get_conn(), "REPAY", base.group_id, base.asset, tran_id,
                                      intent.timestamp_ms)
            if record is not None and record.status == "FAILED":
                ledger.record_failed(entry, f"record {tran_id} FAILED")
                self.log.warning("Earlier repay %s is FAILED on Binance: a new repay is allowed", tran_id)
                return None
            self.log.info("Matched earlier repayment: transaction %s; NOT repaying again", tran_id)
            outcome = _replace(base, transaction_id=tran_id, repaid_amount=str(entry.get("amount") or "0"))
            return outcome.with_record(record) if record is not None else outcome
        reconciled = self._reconcile_unknown(hook, intent, base)
        if reconciled is not None:
            self.log.info("Matched earlier repayment by records: transaction %s; NOT repaying again",
                          reconciled.transaction_id)
        return reconciled

    # -- confirmation --------------------------------------------------------------------------

    def _confirm(
        self, context: Context, hook: BinanceCreditHook, ledger: RepayLedger, outcome: RepayOutcome, since_ms: int
    ) -> dict[str, Any]:
        assert outcome.transaction_id is not None
        since = since_ms or int(hook.get_conn().session.server_time.server_now())
        record = find_transaction(hook.get_conn(), "REPAY", outcome.group_id, outcome.asset,
                                  outcome.transaction_id, since)
        if record is None and self.deferrable:
            from airflow_binance_loan.triggers.repay_confirmation import RepayConfirmationTrigger

            self.log.info("Record of transaction %s not visible yet: deferring confirmation", outcome.transaction_id)
            self.defer(
                trigger=RepayConfirmationTrigger(
                    binance_credit_conn_id=self.binance_credit_conn_id,
                    group_id=outcome.group_id,
                    asset=outcome.asset,
                    transaction_id=outcome.transaction_id,
                    since_ms=since,
                    poll_interval=self.confirm_poll_interval,
                    timeout=self.confirm_timeout,
                ),
                method_name="execute_complete",
                kwargs={"outcome": outcome.to_xcom()},
                timeout=timedelta(seconds=self.confirm_timeout + 60),
            )
        deadline = self.clock.monotonic() + self.confirm_timeout
        while record is None:
            if self.clock.monotonic() >= deadline:
                raise AirflowException(
                    f"Repay transaction {outcome.transaction_id} was accepted by Binance but its record is not "
                    f"visible after {self.confirm_timeout:.0f} s. It was NOT resent; a retry of this task will "
                    "confirm it from the ledger without repaying again."
                )
            self.clock.sleep(self.confirm_poll_interval)
            record = find_transaction(hook.get_conn(), "REPAY", outcome.group_id, outcome.asset,
                                      outcome.transaction_id, since)
        return self._settle(context, ledger, outcome, record.status, outcome.with_record(record))

    def execute_complete(self, context: Context, event: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
        """Resume after the confirmation trigger fired."""
        pending = RepayOutcome.from_xcom(outcome)
        ledger = RepayLedger.for_task_instance(context["ti"], self.ledger_store)
        status = event.get("status")
        if status == "timeout":
            raise AirflowException(
                f"Repay transaction {pending.transaction_id} not visible in records after "
                f"{self.confirm_timeout:.0f} s; it was NOT resent. A retry confirms it from the ledger."
            )
        if status == "error":
            raise AirflowException(
                f"Confirmation of transaction {pending.transaction_id} failed: {event.get('message')}"
            )
        record = event.get("record") or {}
        confirmed = _replace(
            pending,
            repaid_amount=record.get("amount") or pending.repaid_amount,
            principal=record.get("principal"),
            interest=record.get("interest"),
            record_status=record.get("status"),
        )
        return self._settle(context, ledger, pending, str(record.get("status")), confirmed)

    def _settle(
        self, context: Context, ledger: RepayLedger, pending: RepayOutcome, record_status: str, confirmed: RepayOutcome
    ) -> dict[str, Any]:
        if record_status == "FAILED":
            ledger.record_failed(ledger.load() or {}, f"record {pending.transaction_id} FAILED")
            raise AirflowException(
                f"Binance reports repay transaction {pending.transaction_id} as FAILED: nothing was repaid. "
                "A retry of this task may repay again."
            )
        self.log.info("Transaction %s confirmed with status %s", pending.transaction_id, record_status)
        return self._finish(context, confirmed, ledger)

    # -- results -------------------------------------------------------------------------------

    def _finish(self, context: Context, outcome: RepayOutcome, ledger: RepayLedger | None = None) -> dict[str, Any]:
        data = outcome.to_xcom()
        if ledger is not None:
            entry = ledger.load()
            if entry is not None:
                ledger.record_done(entry, data)
        ti = context["ti"]
        ti.xcom_push(key="transaction_id", value=outcome.transaction_id)
        ti.xcom_push(key="repaid_amount", value=outcome.repaid_amount)
        return data


