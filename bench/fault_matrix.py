"""Fault matrix figures: runs per fault, successes, clear failures, duplicates, lost (recorded in README).

Usage: python bench/fault_matrix.py [RUNS_PER_FAULT] [--only MODE,MODE] [--resend-horizon SECONDS]

``--resend-horizon 10`` is the negative control: with the horizon cut to roughly what the old
recvWindow-based rule amounted to, late commits turn into duplicates, which the table must show.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

logging.disable(logging.WARNING)  # before the harness (and Airflow) are imported

from fault_matrix_harness import FAULTS, format_table, run_matrix  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=20, help="runs per fault mode")
    parser.add_argument("--only", default="", help="comma-separated fault modes (default: all)")
    parser.add_argument("--resend-horizon", type=float, default=None, help="override the operator's horizon (s)")
    args = parser.parse_args()
    wanted = {name for name in args.only.split(",") if name}
    faults = tuple(f for f in FAULTS if not wanted or f.name in wanted)
    options = {} if args.resend_horizon is None else {
        "resend_horizon": args.resend_horizon, "reconcile_timeout": 2 * args.resend_horizon}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    start = time.monotonic()
    summaries = run_matrix(args.runs, faults, options)
    print(format_table(summaries))
    total = sum(s.runs for s in summaries)
    print(f"\n{total} runs in {time.monotonic() - start:.1f} s on {os.cpu_count()} cores "
          f"(load average after: {os.getloadavg()[0]:.2f}); "
          f"duplicates={sum(s.duplicates for s in summaries)} lost={sum(s.lost for s in summaries)} "
          f"wrong_xcom={sum(s.wrong_xcom for s in summaries)} "
          f"unclear={sum(s.unclear for s in summaries)}")
    if options:
        return  # the negative control is expected to show failures
    if any(s.duplicates or s.lost or s.wrong_xcom or s.unclear for s in summaries):
        sys.exit(1)


if __name__ == "__main__":
    main()
