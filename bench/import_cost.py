"""What the provider costs at DAG-parse time: import time after ``airflow.sdk``, and DAG-file parse time.

Every figure comes from fresh interpreters (one per sample, interleaved so machine noise hits all
alike); the median is printed.

* import: ``import airflow.sdk`` plus the names every DAG file uses (``DAG``, ``BaseOperator``,
  ``task``, ``Param``) is the baseline; the provider's cost is the time of importing its operators,
  hooks, triggers and timetables on top of it. Target: at most 30 ms.
* parse: ``DagBag`` parse time of the month-end settlement DAG file against a trivial DAG file (one
  DAG, one ``@task``, a cron schedule) in the same folder setup. Target: at most 1.2 times.

Usage: python bench/import_cost.py [SAMPLES]   (default 15)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DAGS = REPO / "dags"

IMPORT_PROBE = r"""
import json, sys, time
import airflow.sdk
from airflow.sdk import DAG, BaseOperator, Param, task
before = set(sys.modules)
t0 = time.perf_counter()
for name in sys.argv[1:]:
    __import__(name)
elapsed = time.perf_counter() - t0
heavy = sorted(m for m in ("requests", "cryptography", "redis", "urllib3") if m in set(sys.modules) - before)
print(json.dumps({"seconds": elapsed, "heavy": heavy}))
"""

PARSE_PROBE = r"""
import json, sys, time
from pathlib import Path
import airflow.sdk
if sys.argv[2] == "processor":
    # What a parsing process forked by the dag-processor has: its modules loaded, and the heap frozen
    # (DagFileProcessorManager calls gc.freeze() at start-up, so the collector skips what it loaded).
    import gc
    import airflow.dag_processing.processor
    gc.freeze()
if sys.argv[2] == "preloaded":
    # Breakdown: the provider's and the example's helper modules already imported, so what is left
    # is Airflow building the DAG (its Params, tasks, mapping and the HITL step).
    import gc
    import airflow.dag_processing.processor
    sys.path.append(sys.argv[3])  # the example DAGs' folder
    import airflow_binance_loan.operators.repay, airflow_binance_loan.timetables
    import binance_settlement_lib.approval_operator
    gc.freeze()
from airflow.dag_processing.dagbag import BundleDagBag
t0 = time.perf_counter()
# As the dag-processor parses: the bundle's folder is on sys.path.
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=Path(sys.argv[1]).parent)
elapsed = time.perf_counter() - t0
assert not bag.import_errors, bag.import_errors
assert len(bag.dag_ids) == 1, bag.dag_ids
print(json.dumps({"seconds": elapsed}))
"""

TRIVIAL_DAG = '''
from datetime import datetime, timezone

from airflow.sdk import DAG, task

with DAG(dag_id="trivial", schedule="0 18 L * *", start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
         catchup=False):

    @task
    def hello() -> str:
        return "hello"

    hello()
'''

#: What a DAG file imports (the hook and trigger modules load at run time, in workers and the triggerer).
PROVIDER_MODULES = ["airflow_binance_loan.operators.repay"]


def run_probe(code: str, *args: str, env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          check=True, timeout=300)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        trivial_dir = Path(tmp) / "trivial"
        trivial_dir.mkdir()
        (trivial_dir / "trivial_dag.py").write_text(TRIVIAL_DAG)
        trivial_file = str(trivial_dir / "trivial_dag.py")
        env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS)}
        imports: list[float] = []
        heavy: set[str] = set()
        month_end_file = str(DAGS / "binance_month_end_settlement.py")
        parse: dict[tuple[str, str], list[float]] = {}
        setups = ("processor", "cold", "preloaded")
        for setup in setups:  # warm the bytecode caches once
            run_probe(PARSE_PROBE, trivial_file, setup, str(DAGS), env=env)
            run_probe(PARSE_PROBE, month_end_file, setup, str(DAGS), env=env)
        for _ in range(samples):
            result = run_probe(IMPORT_PROBE, *PROVIDER_MODULES, env=env)
            imports.append(float(result["seconds"]))  # type: ignore[arg-type]
            heavy.update(result["heavy"])  # type: ignore[arg-type]
            for setup in setups:
                for name, path in (("trivial", trivial_file), ("month-end", month_end_file)):
                    seconds = float(run_probe(PARSE_PROBE, path, setup, str(DAGS), env=env)["seconds"])  # type: ignore[arg-type]
                    parse.setdefault((setup, name), []).append(seconds)
    load = os.getloadavg()[0]
    median_import = statistics.median(imports) * 1000
    print(f"import cost and DAG parse time: {samples} samples each, fresh interpreters, {os.cpu_count()} cores, "
          f"load {load:.2f}")
    print(f"  provider import after airflow.sdk: median {median_import:.1f} ms (target <= 30 ms); "
          f"heavy modules loaded: {', '.join(sorted(heavy)) or 'none'}")
    for setup, label in (("processor", "as the dag-processor parses (its modules loaded)"),
                         ("cold", "cold (only airflow.sdk loaded; stricter than any real parse)"),
                         ("preloaded", "breakdown: provider and helper modules already imported")):
        trivial = statistics.median(parse[(setup, "trivial")]) * 1000
        month_end = statistics.median(parse[(setup, "month-end")]) * 1000
        print(f"  DAG parse, {label}:")
        print(f"    trivial DAG {trivial:.1f} ms; month-end DAG {month_end:.1f} ms = {month_end / trivial:.2f}x "
              "trivial (target <= 1.2x)")


if __name__ == "__main__":
    main()
