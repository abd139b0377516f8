"""Answer a waiting human-in-the-loop task the way the REST API's PATCH .../hitlDetails does (another process).

Usage: ``python hitl_responder.py DAG_ID TASK_ID Approve|Reject|timeout USER``

Run with the same ``AIRFLOW_HOME`` as the ``dag.test()`` that waits. ``timeout`` waits for the task's
response timeout and runs the scheduler's timeout sweep once (``dag.test()`` has no scheduler).
"""

from __future__ import annotations

import sys
import time

DEADLINE_SECONDS = 120


def waiting_ti(session, dag_id: str, task_id: str):  # type: ignore[no-untyped-def]
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.state import TaskInstanceState

    return (session.query(TaskInstance).join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
            .filter(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id,
                    TaskInstance.state == TaskInstanceState.AWAITING_INPUT).first())


def respond(dag_id: str, task_id: str, option: str, user: str) -> bool:
    from airflow._shared.timezones import timezone
    from airflow.models.hitl import HITLDetail
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = waiting_ti(session, dag_id, task_id)
        if ti is None:
            return False
        detail = session.query(HITLDetail).filter(HITLDetail.ti_id == ti.id).one()
        detail.responded_by = {"id": user, "name": user}
        detail.responded_at = timezone.utcnow()
        detail.chosen_options = [option]
        detail.params_input = {}
        handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session)
        return True


def sweep_timeouts(dag_id: str, task_id: str) -> bool:
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.utils.session import create_session

    with create_session() as session:
        if waiting_ti(session, dag_id, task_id) is None:
            return False
    SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts()
    return True


def main(dag_id: str, task_id: str, action: str, user: str) -> int:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if action == "timeout":
            from airflow.utils.session import create_session

            with create_session() as session:
                ti = waiting_ti(session, dag_id, task_id)
                due = ti is not None and ti.trigger_timeout is not None
                ready = due and ti.trigger_timeout.timestamp() <= time.time()
            if ready and sweep_timeouts(dag_id, task_id):
                return 0
        elif respond(dag_id, task_id, action, user):
            return 0
        time.sleep(0.5)
    print(f"no waiting {dag_id}.{task_id} within {DEADLINE_SECONDS} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
