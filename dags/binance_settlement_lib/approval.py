"""Four-eyes approval of the settlement plan: when it is needed, what the approver sees, what was decided."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from airflow_binance_loan.money import format_decimal, parse_decimal

APPROVE, REJECT = "Approve", "Reject"


def planned_amounts(plan: list[dict[str, Any]], units: list[dict[str, Any]]) -> list[Decimal]:
    """The amount each plan item will repay: its fixed amount, or the unit's outstanding in the snapshot.

    :param plan: the plan (``expand_kwargs`` items).
    :param units: the ``read_liabilities`` snapshot.
    """
    owed = {(int(u["group_id"]), i["asset"]): i["outstanding"] for u in units for i in u["liabilities"]}
    return [parse_decimal(owed.get((int(p["group_id"]), p["asset"]), "0") if p["amount"] == "outstanding"
                         else p["amount"]) for p in plan]


def approval_reasons(plan: list[dict[str, Any]], units: list[dict[str, Any]], threshold: str) -> list[str]:
    """Why the plan needs a second person (empty: it does not). Any repay or any asset's total above ``threshold``.

    :param plan: the plan.
    :param units: the snapshot.
    :param threshold: the approval threshold (decimal string).
    """
    limit = parse_decimal(threshold, "approval_threshold")
    amounts = planned_amounts(plan, units)
    reasons = [f"risk unit {p['group_id']} repays {format_decimal(a)} {p['asset']}, above {format_decimal(limit)}"
               for p, a in zip(plan, amounts, strict=True) if a > limit]
    for asset, total in totals(plan, amounts).items():
        if total > limit:
            reasons.append(f"the plan repays {format_decimal(total)} {asset} in total, above {format_decimal(limit)}")
    return reasons


def totals(plan: list[dict[str, Any]], amounts: list[Decimal]) -> dict[str, Decimal]:
    """Total per asset.

    :param plan: the plan.
    :param amounts: the planned amounts (aligned with ``plan``).
    """
    out: dict[str, Decimal] = {}
    for item, amount in zip(plan, amounts, strict=True):
        out[item["asset"]] = out.get(item["asset"], Decimal(0)) + amount
    return dict(sorted(out.items()))


def plan_markdown(plan: list[dict[str, Any]], units: list[dict[str, Any]], reasons: list[str]) -> str:
    """The approval page: the plan as a table, totals per asset, and why approval is needed.

    :param plan: the plan.
    :param units: the snapshot.
    :param reasons: from :func:`approval_reasons`.
    """
    amounts = planned_amounts(plan, units)
    lines = ["Approve to repay the risk units below **now**; reject (or let the approval time out) and nothing "
             "is repaid.", "", "**Why a second person:** " + "; ".join(reasons) + ".", "",
             "| UNIT | ASSET | OUTSTANDING | AMOUNT | CONNECTION | CAP |", "|---|---|---:|---:|---|---:|"]
    for item, amount in zip(plan, amounts, strict=True):
        lines.append(f"| {item['group_id']} | {item['asset']} | {format_decimal(amount)} | {item['amount']} | "
                     f"{item['binance_credit_conn_id']} | {item.get('max_amount') or '-'} |")
    lines += ["", "| ASSET | TOTAL |", "|---|---:|"]
    lines += [f"| {asset} | {format_decimal(total)} |" for asset, total in totals(plan, amounts).items()]
    lines += ["", "`outstanding` is re-read just before each repay, so accrued interest is included."]
    return "\n".join(lines)


def decision(result: dict[str, Any] | None) -> tuple[bool, str]:
    """``(approved, sentence for the report)`` from the approval task's result.

    :param result: the approval task's return value (None if it never ran).
    """
    if not result:
        return False, "the approval step did not complete: nothing was repaid"
    if result.get("auto"):
        return True, f"not needed ({result.get('detail')})"
    who = (result.get("responded_by_user") or {}).get("name")
    if result.get("timedout"):
        return False, "the approval timed out: nothing was repaid"
    if result.get("chosen_options") == [APPROVE]:
        return True, f"approved by {who} at {result.get('responded_at')}"
    return False, f"rejected by {who} at {result.get('responded_at')}: nothing was repaid"
