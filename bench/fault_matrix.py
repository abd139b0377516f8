"""Fault matrix figures: runs per fault, successes, clear failures, duplicates, lost (recorded in README).

Usage: python bench/fault_matrix.py [RUNS_PER_FAULT]   (default 20)
"""

from __future__ import annotations

import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
logging.disable(logging.WARNING)

from reliability.fault_matrix import format_table, run_matrix  # noqa: E402


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    start = time.monotonic()
    summaries = run_matrix(runs)
    print(format_table(summaries))
    total = sum(s.runs for s in summaries)
    print(f"\n{total} runs in {time.monotonic() - start:.1f} s on {os.cpu_count()} cores; "
          f"duplicates={sum(s.duplicates for s in summaries)} lost={sum(s.lost for s in summaries)} "
          f"wrong_xcom={sum(s.wrong_xcom for s in summaries)} "
          f"unclear={sum(s.unclear for s in summaries)}")
    if any(s.duplicates or s.lost or s.wrong_xcom or s.unclear for s in summaries):
        sys.exit(1)


if __name__ == "__main__":
    main()
