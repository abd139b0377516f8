"""The settlement report: before/after per risk unit and asset, what was repaid, and what still fails.

Pure functions on JSON data (amounts as decimal strings) so tests and the demo can call them
directly; the DAG's ``report`` task only gathers the inputs, logs :func:`render_report` and raises
when :func:`build_report` lists failures.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from airflow_binance_loan.money import format_decimal, parse_decimal

REPORT_TITLE = "Binance month-end settlement report"
REPAID_STATUSES = ("repaid", "reconciled")

#: (row key, header, right-aligned?) in display order.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("group_id", "UNIT", False),
    ("asset", "ASSET", False),
    ("before", "BEFORE", True),
    ("requested", "REQUESTED", True),
    ("repaid", "REPAID", True),
    ("transaction_id", "TRANSACTION", False),
    ("status", "STATUS", False),
    ("after", "AFTER", True),
    ("ltv_before", "LTV BEFORE", True),
    ("ltv_after", "LTV AFTER", True),
    ("result", "RESULT", False),
)


def _index(units: list[dict[str, Any]] | None) -> dict[tuple[int, str], str]:
    out: dict[tuple[int, str], str] = {}
    for unit in units or ():
        for item in unit["liabilities"]:
            out[(int(unit["group_id"]), item["asset"])] = item["outstanding"]
    return out


def _ltv(units: list[dict[str, Any]] | None) -> dict[int, str]:
    return {int(u["group_id"]): str(u["ltv"]) for u in units or ()}


def _reason(
    *,
    planned: dict[str, Any] | None,
    result: dict[str, Any] | None,
    state: str | None,
    before: Decimal,
    after: str,
    threshold: str | None,
    map_index: int | None,
    error: str | None = None,
) -> str:
    """Why a (unit, asset) still owes money after the run."""
    if planned is None:
        if before > 0:
            return f"not planned: outstanding {format_decimal(before)} was at or below the threshold {threshold or '?'}"
        return "not planned: the liability appeared after read_liabilities (new borrow or interest)"
    if result is None and error:
        text = f"repay task {state or 'failed'}: {error}"
    elif result is None:
        text = f"repay task {state or 'failed'} (no result; see the log of repay[{map_index}])"
    if result is None:
        cap = planned.get("max_amount")
        if cap is not None and before > parse_decimal(cap, "max_amount"):
            text += f"; outstanding {format_decimal(before)} exceeds this unit's max_amount {cap}"
        return text
    status = result.get("status")
    requested = result.get("requested_amount") or "0"
    repaid = result.get("repaid_amount") or "0"
    tx = result.get("transaction_id")
    if status in REPAID_STATUSES and parse_decimal(repaid) < parse_decimal(requested):
        return (
            f"partial repay: requested {requested}, Binance repaid {repaid} (transaction {tx}); "
            "the credit account's available balance was lower"
        )
    if status in REPAID_STATUSES:
        return f"repaid {repaid} in full (transaction {tx}) but {after} is owed again (new interest or borrow)"
    if status == "nothing_to_repay":
        return f"repay saw nothing to repay, yet {after} is owed now"
    if status == "dry_run":
        return "dry run: nothing was sent"
    return f"repay status {status!r}"


def build_report(
    *,
    before: list[dict[str, Any]] | None,
    plan: list[dict[str, Any]] | None,
    results: list[dict[str, Any] | None] | None,
    after: list[dict[str, Any]] | None,
    tolerance: str,
    threshold: str | None = None,
    task_states: list[str | None] | None = None,
    errors: list[str | None] | None = None,
    approval: str | None = None,
    approved: bool = True,
) -> dict[str, Any]:
    """JSON-safe report: ``rows`` (all strings but ``settled``), ``failures`` (sentences), ``ok``.

    ``results``, ``task_states`` and ``errors`` (the failure reason a repay pushed) are aligned with
    ``plan`` (map index i ↔ plan[i]); ``approval`` says who approved or rejected the plan. A missing
    result means the repay task instance failed or never ran. A (unit, asset) fails when it still owes
    more than ``tolerance`` afterwards, or when the after-read is missing.
    """
    limit = parse_decimal(tolerance, "tolerance")
    plan = plan or []
    results = list(results or [])
    results += [None] * (len(plan) - len(results))
    states = list(task_states or [])
    states += [None] * (len(plan) - len(states))
    reasons = list(errors or [])
    reasons += [None] * (len(plan) - len(reasons))
    before_idx, after_idx = _index(before), _index(after)
    ltv_before, ltv_after = _ltv(before), _ltv(after)
    planned_at = {(int(p["group_id"]), p["asset"]): i for i, p in enumerate(plan)}
    keys = sorted(set(before_idx) | set(after_idx) | set(planned_at))

    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    if before is None:
        failures.append("read_liabilities produced no snapshot: nothing was planned or repaid")
    for key in keys:
        group_id, asset = key
        i = planned_at.get(key)
        item = plan[i] if i is not None else None
        result = results[i] if i is not None else None
        state = states[i] if i is not None else None
        before_amount = parse_decimal(before_idx.get(key, "0"))
        after_text = after_idx.get(key, "0") if after is not None else "?"
        if result is not None:
            status = str(result.get("status"))
        elif item is not None:
            status = state or "failed"
        else:
            status = "not planned"
        row = {
            "group_id": str(group_id),
            "asset": asset,
            "before": format_decimal(before_amount),
            "requested": str(result.get("requested_amount")) if result else "-",
            "repaid": str(result.get("repaid_amount")) if result else "-",
            "transaction_id": str(result.get("transaction_id") or "-") if result else "-",
            "status": status,
            "after": after_text,
            "ltv_before": ltv_before.get(group_id, "-"),
            "ltv_after": ltv_after.get(group_id, "-") if after is not None else "?",
            "settled": True,
            "result": "ok",
            "reason": "",
        }
        if after is None:
            reason = "ltv-details after the repayments could not be read"
            row.update(settled=False, result="UNKNOWN", reason=reason)
            failures.append(f"risk unit {group_id} {asset}: outcome unknown: {reason}")
        elif parse_decimal(after_text) > limit:
            if item is not None and result is None and not approved:
                reason = f"not repaid: {approval}"
            else:
                reason = _reason(planned=item, result=result, state=state,
                                 before=before_amount, after=after_text, threshold=threshold, map_index=i,
                                 error=reasons[i] if i is not None else None)
            row.update(settled=False, result="STILL OWES", reason=reason)
            failures.append(
                f"risk unit {group_id} {asset} still owes {after_text} {asset} (tolerance {tolerance}): {reason}"
            )
        rows.append(row)
    return {
        "title": REPORT_TITLE,
        "tolerance": tolerance,
        "threshold": threshold,
        "rows": rows,
        "failures": failures,
        "ok": not failures,
        "approval": approval,
    }


def render_report(report: dict[str, Any]) -> str:
    """Fixed-width text table (the same text the DAG logs and the demo prints)."""
    rows = report["rows"]
    cells = [[str(row.get(key, "")) for key, _, _ in COLUMNS] for row in rows]
    widths = [max([len(header)] + [len(c[n]) for c in cells]) for n, (_, header, _) in enumerate(COLUMNS)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, (_, _, right) in zip(values, widths, COLUMNS, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [
        f"{report.get('title', REPORT_TITLE)} (threshold {report.get('threshold') or '-'}, "
        f"tolerance {report['tolerance']})",
        line([header for _, header, _ in COLUMNS]),
        line(["-" * w for w in widths]),
    ]
    out += [line(c) for c in cells] or ["(no liabilities before or after the run)"]
    settled = sum(1 for r in rows if r["settled"])
    out.append("")
    if report.get("approval"):
        out.append(f"Approval: {report['approval']}")
    out.append(f"Settled {settled}/{len(rows)} (unit, asset) pairs.")
    if report["failures"]:
        out.append(f"NOT SETTLED ({len(report['failures'])}):")
        out += [f"  - {text}" for text in report["failures"]]
    else:
        out.append("Every risk unit owes at most the tolerance: settlement complete.")
    return "\n".join(out)


def render_markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown table with its verdict (for the approval page and report files)."""
    head = "| " + " | ".join(header for _, header, _ in COLUMNS) + " | REASON |"
    align = "|" + "|".join("---:" if right else "---" for _, _, right in COLUMNS) + "|---|"
    lines = [f"### {report.get('title', REPORT_TITLE)}", "",
             f"Threshold {report.get('threshold') or '-'}, tolerance {report['tolerance']}.", "", head, align]
    for row in report["rows"]:
        cells = [str(row.get(key, "")) for key, _, _ in COLUMNS] + [str(row.get("reason", ""))]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    if report["failures"]:
        lines.append(f"**NOT SETTLED ({len(report['failures'])}):**")
        lines += [f"- {text}" for text in report["failures"]]
    else:
        lines.append("**Settlement complete**: every risk unit owes at most the tolerance.")
    if report.get("approval"):
        lines += ["", f"Approval: {report['approval']}"]
    return "\n".join(lines) + "\n"


def render_csv(report: dict[str, Any]) -> str:
    """One CSV row per (unit, asset), amounts as exact decimal strings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    keys = [key for key, _, _ in COLUMNS] + ["reason"]
    writer.writerow(keys)
    for row in report["rows"]:
        writer.writerow([row.get(key, "") for key in keys])
    return out.getvalue()
