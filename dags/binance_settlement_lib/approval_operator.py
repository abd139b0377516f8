"""PlanApprovalOperator: asks a second person to approve the plan only when it is large."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator

from binance_settlement_lib.approval import APPROVE, REJECT, approval_reasons, plan_markdown


class PlanApprovalOperator(HITLOperator):
    """Four-eyes approval of the settlement plan (Airflow's human-in-the-loop, standard provider).

    Below the threshold it returns at once (``auto``). Above it, the run waits in the Airflow UI
    (*Required actions*) for Approve / Reject, showing the plan as a table; after
    ``approval_timeout_minutes`` it takes Reject. It always returns the decision (never skips), so
    the report can say who decided.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(subject="Approve the Binance month-end settlement", options=[APPROVE, REJECT],
                         defaults=[REJECT], **kwargs)

    def execute(self, context: Any) -> Any:
        params = context["params"]
        ti = context["ti"]
        plan = ti.xcom_pull(task_ids="build_plan") or []
        units = ti.xcom_pull(task_ids="read_liabilities") or []
        reasons = approval_reasons(plan, units, params["approval_threshold"])
        if not reasons:
            detail = f"no repay and no asset total above {params['approval_threshold']}"
            self.log.info("Approval not needed: %s", detail)
            return {"auto": True, "detail": detail, "chosen_options": [APPROVE]}
        self.body = plan_markdown(plan, units, reasons)
        self.response_timeout = timedelta(minutes=float(params["approval_timeout_minutes"]))
        self.log.info("Waiting for a second person to approve: %s", "; ".join(reasons))
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        result = dict(super().execute_complete(context, event))
        result["timedout"] = bool(event.get("timedout"))
        result["responded_at"] = str(result.get("responded_at"))
        self.log.info("Decision: %s by %s%s", result["chosen_options"],
                      (result.get("responded_by_user") or {}).get("name"), " (timed out)" if result["timedout"] else "")
        return result
