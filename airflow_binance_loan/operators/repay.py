"""RiskUnitRepayOperator: repay a risk unit exactly once and push an exact record to XCom.

The protocol lives in :class:`~airflow_binance_loan.repayment.RepayWorkflow`; this operator
adds what is Airflow's: templated inputs, the Variable-backed journal, waiting in the triggerer
(``deferrable=True``) or in the worker, XCom, and failing without retries when retrying cannot
help (bad input, a definite refusal by Binance, an unreadable journal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.exceptions import (
    AuthenticationError,
    ConfigurationError,
    InvalidParameterError,
    JournalCorruptError,
    RepayRejectedError,
    RepaySupersededError,
)
from airflow_binance_loan.money import refuse_floats
from airflow_binance_loan.repayment.policy import RepayPolicy

if TYPE_CHECKING:
    from airflow_binance_loan.client.ratelimit import WeightPacer
    from airflow_binance_loan.repayment import (
        Finished,
        JournalStore,
        RepayOutcome,
        RepayRequest,
        RepayWorkflow,
        Waiting,
    )

T = TypeVar("T")
#: BinanceCreditHook.default_conn_name (not imported here: the hook loads the client, and this module
#: is imported by every DAG file that uses the operator).
DEFAULT_CONN_ID = "binance_credit_default"
#: XCom key holding the reason of a failed try (secret-free: built from Binance's answer and the request).
FAILURE_XCOM_KEY = "failure"
#: Retrying the same request cannot help: fail the task at once, with the reason.
FINAL_ERRORS = (InvalidParameterError, ConfigurationError, AuthenticationError, RepayRejectedError,
                JournalCorruptError, RepaySupersededError)


class RiskUnitRepayOperator(BaseOperator):
    """Repay a Binance Institutional Loan risk unit once; push ``transaction_id`` and ``repaid_amount``.

    :param group_id: risk unit id (templated).
    :param asset: liability asset, e.g. ``USDT`` (templated).
    :param amount: Decimal, int or decimal string, or ``"outstanding"`` for the unit's current
        principal + interest in that asset (templated). Floats are refused.
    :param binance_credit_conn_id: the credit account's ``binance_credit`` connection (templated).
    :param repay_from: ``MARGIN`` (Binance's default) or ``SPOT`` (templated).
    :param max_amount: safety cap; a larger amount fails the task before sending (templated).
    :param simulate: resolve and log everything, push what would be done (status ``dry_run``), send no
        repay (templated: a bool, or text ``true``/``false``/``1``/``0``/``yes``/``no`` after rendering).
    :param deferrable: wait for confirmation / reconciliation in the triggerer, not a worker slot.
    :param resend_horizon: seconds after a request's timestamp before "no record and no liability
        drop" proves it did not execute (default 600).
    :param reconcile_timeout: how long one try reconciles an unknown outcome before failing
        with "may have executed" (default 900; at least ``resend_horizon``).
    :param reconcile_poll_interval: seconds between two looks at the evidence.
    :param confirm_timeout: how long one try waits for an accepted repay's record.
    :param confirm_poll_interval: seconds between two looks for it.
    :param busy_retries: resends after "pending transaction" / "liquidation" refusals.
    :param busy_retry_delay: first pause before such a resend (doubles).
    :param journal_store: where the journal lives (default: Airflow Variables).
    :param clock: injectable clock (tests and rehearsals).
    :param pacer: injectable weight pacer (default: the process-wide one).
    """

    template_fields: Sequence[str] = (
        "group_id",
        "asset",
        "amount",
        "repay_from",
        "binance_credit_conn_id",
        "max_amount",
        "simulate",
    )
    ui_color = "#f0b90b"

    def __init__(
        self,
        *,
        group_id: int | str,
        asset: str,
        amount: Decimal | int | str,
        binance_credit_conn_id: str = DEFAULT_CONN_ID,
        repay_from: str | None = None,
        max_amount: Decimal | int | str | None = None,
        simulate: bool | str = False,
        deferrable: bool = False,
        resend_horizon: float = 600.0,
        reconcile_timeout: float = 900.0,
        reconcile_poll_interval: float = 15.0,
        confirm_timeout: float = 300.0,
        confirm_poll_interval: float = 5.0,
        busy_retries: int = 3,
        busy_retry_delay: float = 2.0,
        journal_store: JournalStore | None = None,
        clock: Clock = SYSTEM_CLOCK,
        pacer: WeightPacer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        refuse_floats(amount=amount, max_amount=max_amount)
        self.group_id = group_id
        self.asset = asset
        self.amount = amount
        self.binance_credit_conn_id = binance_credit_conn_id
        self.repay_from = repay_from
        self.max_amount = max_amount
        self.simulate = simulate
        self.deferrable = deferrable
        self.policy = RepayPolicy(
            resend_horizon=resend_horizon, reconcile_timeout=reconcile_timeout,
            reconcile_poll_interval=reconcile_poll_interval, confirm_timeout=confirm_timeout,
            confirm_poll_interval=confirm_poll_interval, busy_retries=busy_retries, busy_retry_delay=busy_retry_delay,
        )
        self.journal_store = journal_store
        self.clock = clock
        self.pacer = pacer

    # -- inputs ------------------------------------------------------------------------------------

    def validated_request(self) -> RepayRequest:
        """All inputs checked before any network call; one clear error naming field and value."""
        from airflow_binance_loan.repayment.request import build_request

        return build_request(self.group_id, self.asset, self.amount, self.repay_from, self.max_amount)

    def _workflow(self, context: Context) -> RepayWorkflow:
        from airflow_binance_loan.hooks.credit import BinanceCreditHook
        from airflow_binance_loan.operators.journal_store import VariableJournalStore
        from airflow_binance_loan.repayment import RepayJournal, RepayWorkflow, request_id_for

        request = _final(self.validated_request)
        ti = context["ti"]
        hook = BinanceCreditHook(self.binance_credit_conn_id, clock=self.clock, pacer=self.pacer)
        map_index = getattr(ti, "map_index", -1)
        try_number = int(getattr(ti, "try_number", 1) or 1)
        journal = RepayJournal(
            self.journal_store or VariableJournalStore(), request.group_id, request.asset,
            request_id_for(ti.dag_id, ti.run_id, ti.task_id, request.amount_spec),
            label=f"{ti.dag_id} / {ti.run_id} / {ti.task_id}[{map_index}] ({request.amount_spec})",
            clock=self.clock,
            # The same try resumes in another process after deferral: its identity must not change.
            owner=f"{ti.task_id}[{map_index}] try {try_number}",
        )
        client = _final(hook.get_conn)
        return RepayWorkflow(client, journal, request, try_number=try_number, policy=self.policy, clock=self.clock,
                             log=self.log)

    # -- execution ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate, then repay (or simulate) once; returns the ``return_value`` dict (see the README).

        :param context: the task context (its task instance identifies the repay in the journal).
        """
        with _reason_pushed(context):
            workflow = self._workflow(context)
            if _flag(self.simulate, "simulate"):
                return self._push(context, _final(workflow.dry_run))
            return self._drive(context, workflow, _final(workflow.start))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
        """Resume after the evidence trigger fired: re-check with the journal, then act.

        :param context: the task context.
        :param event: the trigger's event (it carries everything needed; see the trigger's docstring).
        """
        with _reason_pushed(context):
            if not event or "waiting" not in event:
                raise AirflowFailException(f"resumed without a trigger event ({event!r}); the repay journal "
                                           "decides on the next try")
            from airflow_binance_loan.repayment import Waiting

            workflow = self._workflow(context)
            waiting = Waiting.from_json(event["waiting"])
            step = _final(workflow.check, waiting)
            if isinstance(step, Waiting) and event.get("status") == "error":
                self.log.error("The evidence trigger failed: %s", event.get("detail"))
                _final(workflow.give_up, step)
            return self._drive(context, workflow, step)

    def _drive(self, context: Context, workflow: RepayWorkflow, step: Finished | Waiting) -> dict[str, Any]:
        before_sleep = partial(self._defer, workflow) if self.deferrable else None
        return self._push(context, _final(workflow.wait, step, before_sleep))

    def _defer(self, workflow: RepayWorkflow, step: Waiting) -> NoReturn:
        from airflow_binance_loan.triggers.repay_evidence import RepayEvidenceTrigger

        self.log.info("Waiting in the triggerer for attempt %d (%s): %s", step.attempt, step.mode, step.detail)
        sent, others = workflow.evidence_of(step)
        self.defer(
            trigger=RepayEvidenceTrigger(
                binance_credit_conn_id=self.binance_credit_conn_id,
                sent=sent.to_json(),
                others=others.to_json(),
                waiting=step.to_json(),
                horizon_ms=int(self.policy.resend_horizon * 1000),
                poll_interval=self.policy.poll_interval(step.mode),
            ),
            method_name="execute_complete",
            # The trigger fires at the deadline itself; this only guards against a lost trigger.
            timeout=timedelta(seconds=max(0.0, step.deadline - self.clock.time()) + 300),
        )

    def _push(self, context: Context, outcome: RepayOutcome) -> dict[str, Any]:
        ti = context["ti"]
        ti.xcom_push(key="transaction_id", value=outcome.transaction_id)
        ti.xcom_push(key="repaid_amount", value=outcome.repaid_amount)
        return outcome.to_xcom()


@contextmanager
def _reason_pushed(context: Context) -> Iterator[None]:
    """On failure, push the reason as XCom ``failure`` (a report downstream can say why); then re-raise."""
    try:
        yield
    except TaskDeferred:
        raise
    except Exception as exc:
        with suppress(Exception):
            context["ti"].xcom_push(key=FAILURE_XCOM_KEY, value=str(exc)[:2000])
        raise


def _final(call: Callable[..., T], *args: Any) -> T:
    """Run ``call(*args)``; errors that no retry can fix fail the task at once (AirflowFailException)."""
    try:
        return call(*args)
    except FINAL_ERRORS as exc:
        raise AirflowFailException(str(exc)) from None


_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no", "")


def _flag(value: bool | str, name: str) -> bool:
    """A rendered boolean template field; anything but a clear yes or no fails before any network call."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise AirflowFailException(str(InvalidParameterError(name, value, "must be true or false")))
