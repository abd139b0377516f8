"""``scripts/demo.py`` (``make demo``): runs end to end, prints the report, leaves nothing running."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo.py"


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("binance_loan_demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def processes_with(marker: str) -> list[int]:
    """PIDs whose environment carries ``marker`` (the demo's children inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.airflow_db
@pytest.mark.integration
@pytest.mark.timeout(200)
def test_demo_runs_end_to_end_and_cleans_up() -> None:
    marker = f"BINANCE_DEMO_TEST_MARKER={uuid.uuid4().hex}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=180)
    elapsed = time.monotonic() - started
    out = proc.stdout
    print(f"\ndemo wall time {elapsed:.1f}s")
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-4000:]

    assert "Binance month-end settlement report" in out
    assert re.search(r"^10004\s+USDT\s+100041\.65\s+100041\.65\s+40000\.5\s+\d+\s+repaid\s+60041\.15\s", out, re.M)
    assert "Sandbox liabilities after the run" in out
    assert re.search(r"^10004\s+USDT\s+60041\.15\s+0\s+60041\.15\s+0$", out, re.M)
    assert "settlement run FAILED as expected: unit 10004 still owes 60041.15 USDT (partial repay" in out
    assert "sandbox stopped" in out

    # Nothing left: the port is closed and no process carries this run's marker.
    port = int(re.search(r"sandbox listening on http://127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    assert processes_with(marker) == []
    home = re.search(r"AIRFLOW_HOME=(\S+)", out).group(1)  # type: ignore[union-attr]
    assert not Path(home).exists()


def report(rows: list[dict[str, Any]], failures: list[str]) -> dict[str, Any]:
    return {"tolerance": "0.01", "rows": rows, "failures": failures}


def row(after: str, settled: bool, reason: str = "", tx: str = "9", repaid: str = "5") -> dict[str, Any]:
    return {"group_id": "1", "asset": "USDT", "after": after, "settled": settled, "reason": reason,
            "transaction_id": tx, "repaid": repaid}


def state(principal: str, wallet: str, amount: str = "5") -> dict[str, Any]:
    return {
        "riskUnits": [{"groupId": 1, "liabilities": {"USDT": {"principal": principal, "interest": "0"}},
                       "credit": {"wallets": {"MARGIN": {"USDT": wallet}}}}],
        "records": [{"tranId": 9, "groupId": 1, "assetName": "USDT", "amount": amount}],
    }


def test_verify_decides_the_exit_code() -> None:
    verify = load_demo().verify
    assert verify(report([row("0", True)], []), state("0", "10"), run_failed=False) == ([], [])
    problems, explained = verify(report([row("7", False, "partial repay: ...")], ["x"]), state("7", "0"), True)
    assert problems == [] and explained == ["unit 1 still owes 7 USDT (partial repay: ...)"]
    # Disagreements: the report's after-amount, the record amount, the run state, an unexplained failure.
    assert verify(report([row("0", True)], []), state("3", "10"), run_failed=False)[0]
    assert verify(report([row("0", True, repaid="4")], []), state("0", "10"), run_failed=False)[0]
    assert verify(report([row("0", True)], []), state("0", "10"), run_failed=True)[0]
    assert verify(report([row("7", False, "repay task failed")], ["x"]), state("7", "50"), run_failed=True)[0]
