"""Weight-budget stores: where the pacer's per-limit-key counts live, and so who shares them.

========== ================================= ==========================================
store       shared by                         choose with ``weight_budget``
========== ================================= ==========================================
memory      the threads of one process        ``process`` (plain client default)
file        every process of one machine      ``host`` / ``host:/dir`` (Airflow default)
Redis       every process of every host       ``redis://host:port/db`` (``[redis]`` extra)
========== ================================= ==========================================

``WeightPacer(store=...)`` takes any :class:`BudgetStore`; ``connect(budget_store=...)``
takes a store or a ``weight_budget`` text.
"""

from airflow_binance_loan.client.budgets.base import BudgetRecord, BudgetStore, BudgetStoreUnavailable, Slot
from airflow_binance_loan.client.budgets.failover import FailoverStore
from airflow_binance_loan.client.budgets.file_store import FileBudgetStore
from airflow_binance_loan.client.budgets.memory import MemoryBudgetStore, process_store
from airflow_binance_loan.client.budgets.redis_store import RedisBudgetStore
from airflow_binance_loan.client.budgets.spec import (
    HOST,
    PROCESS,
    BudgetSpec,
    default_host_directory,
    open_budget_store,
    parse_budget_spec,
    redact_url,
)

__all__ = [
    "HOST",
    "PROCESS",
    "BudgetRecord",
    "BudgetSpec",
    "BudgetStore",
    "BudgetStoreUnavailable",
    "FailoverStore",
    "FileBudgetStore",
    "MemoryBudgetStore",
    "RedisBudgetStore",
    "Slot",
    "default_host_directory",
    "open_budget_store",
    "parse_budget_spec",
    "process_store",
    "redact_url",
]
