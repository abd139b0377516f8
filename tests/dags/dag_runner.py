"""Run one DAG with ``dag.test()`` in a fresh process and dump the outcome as JSON.

Usage: ``python dag_runner.py DAG_ID OUT.json [RUN_CONF_JSON]``

Airflow reads ``AIRFLOW_HOME`` and ``AIRFLOW_CONN_*`` when it is first imported, so each end-to-end
scenario runs here, in a subprocess whose environment the test prepares, rather than in pytest's
process. The output holds the run state, every task instance's state, every XCom (decoded the way a task's
``xcom_pull`` decodes it: ``XComModel.deserialize_value`` would re-parse the string ``"0"`` as the
number 0), so tests can assert exact strings, and the asset events the run emitted.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def load_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import BundleDagBag

    folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    bag = BundleDagBag(dag_folder=folder, bundle_path=folder)  # the folder on sys.path, as Airflow parses it
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    return bag.dags[dag_id]


def run_and_dump(dag: Any, conf: dict[str, Any] | None) -> dict[str, Any]:
    """``dag.test(run_conf=conf)``, then the run's task instances, XComs and asset events as plain JSON."""
    from airflow.models.asset import AssetEvent
    from airflow.models.xcom import XComModel
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dr = dag.test(run_conf=conf)
    tis: list[dict[str, Any]] = []
    xcoms: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    with create_session() as session:
        for ti in dr.get_task_instances(session=session):
            tis.append({"task_id": ti.task_id, "map_index": ti.map_index, "state": str(ti.state),
                        "try_number": ti.try_number, "rendered_map_index": ti.rendered_map_index})
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag.dag_id,
                                                       XComModel.run_id == dr.run_id))
        for row in rows:
            xcoms.append({"task_id": row.task_id, "map_index": row.map_index, "key": row.key,
                          "value": deserialize(row.value)})
        for event in session.scalars(select(AssetEvent).where(AssetEvent.source_dag_id == dag.dag_id,
                                                              AssetEvent.source_run_id == dr.run_id)):
            events.append({"asset": event.asset.name, "uri": event.asset.uri, "task_id": event.source_task_id,
                           "extra": event.extra})
    return {"run_id": dr.run_id, "state": str(dr.state), "task_instances": tis, "xcoms": xcoms,
            "asset_events": events}


def main(argv: list[str]) -> int:
    dag_id, out_path = argv[0], argv[1]
    conf = json.loads(argv[2]) if len(argv) > 2 else None
    result = run_and_dump(load_dag(dag_id), conf)
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
