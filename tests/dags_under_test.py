"""Load the example DAG files as Airflow would (from the DAGs folder), for tests that need the DAG objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DAGS = Path(__file__).resolve().parents[1] / "dags"


def load(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def settlement_dag() -> Any:
    return load("binance_month_end_settlement")
