"""Every task log of this run's DAG runs, read through the API as the UI shows it: no warning noise
(issue 11: "Skipping masking for a secret as it's too short" in every task log) and no secret."""

from __future__ import annotations

from typing import Any

from conftest import MANUAL_DAG, MONTH_END_DAG
from stack_api import AirflowApi

NOISE = ("Skipping masking for a secret as it's too short",)


def test_task_logs_carry_no_warning_noise_and_no_secret(api: AirflowApi,
                                                        connections: dict[str, dict[str, Any]]) -> None:
    secrets = {body["password"] for body in connections.values()}
    noisy: dict[str, list[str]] = {}
    leaked: list[str] = []
    read = 0
    for dag_id in (MANUAL_DAG, MONTH_END_DAG):
        for run in api.dag_runs(dag_id):
            for ti in api.task_instances(dag_id, run["dag_run_id"]):
                if ti["state"] is None or ti["try_number"] < 1:
                    continue
                name = f"{dag_id}/{run['dag_run_id']}/{ti['task_id']}[{ti['map_index']}]"
                log = api.task_log(dag_id, run["dag_run_id"], ti["task_id"], ti["try_number"], ti["map_index"])
                read += 1
                hits = [n for n in NOISE if n in log]
                if hits:
                    noisy[name] = hits
                leaked += [name for secret in secrets if secret and secret in log]
    assert read >= 10, f"only {read} task logs were read"
    assert not leaked, f"a connection secret appears in task logs: {leaked}"
    assert not noisy, f"{len(noisy)} of {read} task logs carry warning noise: {noisy}"
