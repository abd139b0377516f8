"""Fixtures shared by the ``dag.test()`` scenarios."""

from __future__ import annotations

import pytest
from dag_env import migrated_airflow_env


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated throw-away AIRFLOW_HOME (SQLite), once per session, and the environment pointing at it."""
    return migrated_airflow_env(tmp_path_factory.mktemp("airflow_home"))
