"""
### Binance LTV watch

Every 5 minutes (`WATCH_CRON`), one `ltv-details` read with the *parent* connection (param
`parent_conn_id`; 200 IP weight) and a notification when a risk unit's LTV goes **at or above** a
warning level (param `warning_levels`, default `WARNING_LEVELS`). Binance publishes no margin-call
or liquidation LTV: choose the levels from your agreement with Binance.

**What a notification says**: the unit, its LTV, the level, when it crossed, and how much repayment
would bring it back under, computed from the unit's own figures: `R = totalLiability − level ×
(totalNetEquity − totalMaintenanceMargin)`, repaid from the credit account's wallet (also the amount
if the money is first transferred into the unit, and the collateral that would do instead). The
formula is **inferred** from Binance's docs (they document only its inputs; this one reproduces their
example) and assumes a repay from the unit's own wallet leaves its net equity unchanged; the message
says so, and warns when the unit's reported LTV does not fit it.

**No alert storm**: one notification per unit and level per crossing. A unit that stays above is not
notified again; one that goes back under and crosses again is notified again, but not within
`cooldown_minutes` (60) of the previous notification: that crossing is held and sent after the
cool-down if the unit is still above. The state survives runs in the Variable
`binance_loan_ltv_alert_state`. A notification that fails stays pending and is retried next run.

**Where notifications go** (`alert_notifiers` below): the task log (`LogNotifier`, lines starting
`LTV ALERT`); e-mail through the SMTP provider's `SmtpNotifier` when `alert_email` is set (needs the
`smtp_default` connection); add Slack or any other Airflow notifier there (templates get
`{{ ltv_alert.subject }}` and `{{ ltv_alert.text }}`).

**Safe to switch on**: the next run is the next 5-minute slot (`PunctualCronTimetable`), never a
backlog of past slots; one run at a time, and a run never outlives its slot.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_binance_loan.timetables import PunctualCronTimetable

WATCH_CRON = "*/5 * * * *"
WATCH_TIMEZONE = "UTC"
WARNING_LEVELS = ["0.7"]
COOLDOWN_MINUTES = 60
ALERT_STATE_VARIABLE = "binance_loan_ltv_alert_state"
LEVEL_PATTERN = r"^[0-9]+(\.[0-9]{1,8})?$"


def alert_notifiers(params: dict[str, Any]) -> list[Any]:
    """Fresh notifiers for one alert (a notifier renders its templates in place, so one per alert)."""
    from airflow_binance_loan.notifications.log import LogNotifier

    notifiers: list[Any] = [LogNotifier()]
    if params["alert_email"]:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        notifiers.append(SmtpNotifier(to=params["alert_email"], subject="{{ ltv_alert.subject }}",
                                      html_content="<pre>{{ ltv_alert.text }}</pre>"))
    # Slack (apache-airflow-providers-slack), or any other notifier, the same way:
    # from airflow.providers.slack.notifications.slack import SlackNotifier
    # notifiers.append(SlackNotifier(slack_conn_id="slack_default", channel="#treasury", text="{{ ltv_alert.text }}"))
    return notifiers


with DAG(
    dag_id="binance_ltv_watch",
    schedule=PunctualCronTimetable(WATCH_CRON, timezone=WATCH_TIMEZONE, late_run_window=timedelta(minutes=5)),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=4),
    doc_md=__doc__,
    tags=["binance", "loan", "ltv"],
    params={
        "parent_conn_id": Param("binance_credit_parent", type="string", minLength=1, title="Parent connection",
                                description="Connection that reads ltv-details of every risk unit."),
        "warning_levels": Param(WARNING_LEVELS, type="array", minItems=1, title="Warning levels",
                                items={"type": "string", "pattern": LEVEL_PATTERN},
                                description="Notify when a unit's LTV is at or above each of these ratios "
                                "(decimal strings, 0.7 = 70 %)."),
        "cooldown_minutes": Param(COOLDOWN_MINUTES, type="number", minimum=0, title="Cool-down (minutes)",
                                  description="Least time between two notifications for one unit and level."),
        "alert_email": Param("", type="string", title="Alert e-mail",
                             description="Also e-mail each alert here (SMTP provider, connection smtp_default)."),
    },
) as dag:

    @task(execution_timeout=timedelta(minutes=3))
    def check_ltv(params: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Read every unit's LTV, notify the new crossings, keep the alert state."""
        import time

        from airflow.sdk import Variable

        from airflow_binance_loan.hooks.credit import BinanceCreditHook
        from airflow_binance_loan.ltv.alerts import LtvAlert, notify_crossings, warning_levels

        levels = warning_levels(params["warning_levels"])
        units = BinanceCreditHook(params["parent_conn_id"]).ltv_details()

        def send(alert: LtvAlert) -> None:
            for notifier in alert_notifiers(params):
                notifier({**context, "params": params, "ltv_alert": alert.to_json()})

        return notify_crossings(
            units=units,
            levels=levels,
            state=Variable.get(ALERT_STATE_VARIABLE, default=None, deserialize_json=True),
            save_state=lambda state: Variable.set(ALERT_STATE_VARIABLE, state, serialize_json=True),
            send=send,
            now_ms=int(time.time() * 1000),
            cooldown_ms=int(float(params["cooldown_minutes"]) * 60_000),
        )

    check_ltv()
