"""Run one DAG several times with ``dag.test()`` in one process, changing the sandbox between runs.

Usage: ``python dag_steps_runner.py DAG_ID OUT.json STEPS_JSON``; each step is ``{"conf": {...}}`` (a run,
dumped like ``dag_runner.py`` does) or ``{"post": "/sandbox/prices", "body": {...}}`` (an admin call to the
sandbox at ``$SANDBOX_URL``). One process pays for Airflow's import once, not once per run.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

from dag_runner import load_dag, run_and_dump


def main(argv: list[str]) -> int:
    dag_id, out_path, steps = argv[0], argv[1], json.loads(argv[2])
    dag = load_dag(dag_id)
    runs = []
    for step in steps:
        if "post" in step:
            request = urllib.request.Request(os.environ["SANDBOX_URL"] + step["post"], method="POST",
                                             data=json.dumps(step["body"]).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        else:
            runs.append(run_and_dump(dag, step.get("conf")))
            print(f"=== end of run {len(runs)} ===", flush=True)
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(runs, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
