"""The month's books as files: ``records.csv``, ``interest.csv``, ``totals.csv`` and ``books.json``.

Amounts are exact decimal strings everywhere (never a float); times are epoch milliseconds plus
the same instant in UTC. Totals are per unit and asset (``scope`` = the group id) and over all units
(``scope`` = ``all``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from airflow_binance_loan.books.ledger import AssetTotals, Totals, UnitBooks, combined, totals_of
from airflow_binance_loan.books.period import Month
from airflow_binance_loan.money import format_decimal

FORMAT_VERSION = 1
RECORD_COLUMNS = ("group_id", "tran_id", "type", "status", "counted", "asset", "amount", "principal", "interest",
                  "timestamp_ms", "time_utc")
INTEREST_COLUMNS = ("group_id", "asset", "principal", "interest_rate", "interest", "timestamp_ms", "time_utc")
TOTAL_FIELDS = tuple(item.name for item in fields(AssetTotals))
TOTAL_COLUMNS = ("scope", "asset", *TOTAL_FIELDS)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: Decimal | int | None) -> str | int | None:
    return format_decimal(value) if isinstance(value, Decimal) else value


def _totals_json(totals: Totals) -> dict[str, dict[str, Any]]:
    return {asset: {name: _text(getattr(sums, name)) for name in TOTAL_FIELDS}
            for asset, sums in sorted(totals.by_asset.items())}


def books_json(month: Month, books: Sequence[UnitBooks], generated_at_ms: int) -> dict[str, Any]:
    """Everything in one JSON document: each unit's records, interest rows and totals, the totals of all
    units, and the reconciliation checks.

    :param month: the month exported.
    :param books: each unit's books.
    :param generated_at_ms: when the export read Binance.
    """
    per_unit = [(unit, totals_of(unit)) for unit in books]
    return {
        "format": FORMAT_VERSION,
        "month": month.label,
        "period": {"start_ms": month.start_ms, "end_ms": month.end_ms, "start": _utc(month.start_ms),
                   "end": _utc(month.end_ms), "end_is": "excluded"},
        "generated_at": _utc(generated_at_ms),
        "units": [
            {
                "group_id": unit.group_id,
                "records": [{"tran_id": r.tran_id, "type": r.type, "status": r.status, "counted": r.confirmed,
                             "asset": r.asset, "amount": format_decimal(r.amount),
                             "principal": _text(r.principal), "interest": _text(r.interest),
                             "timestamp_ms": r.timestamp, "time_utc": _utc(r.timestamp)} for r in unit.records],
                "interest": [{"asset": r.asset, "principal": format_decimal(r.principal),
                              "interest_rate": format_decimal(r.interest_rate),
                              "interest": format_decimal(r.interest), "timestamp_ms": r.interest_timestamp,
                              "time_utc": _utc(r.interest_timestamp)} for r in unit.interest],
                "totals": _totals_json(totals),
            }
            for unit, totals in per_unit
        ],
        "totals": _totals_json(combined(t for _, t in per_unit)),
        "checks": [note for _, totals in per_unit for note in totals.checks],
    }


def _csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return out.getvalue()


def render_files(document: dict[str, Any]) -> dict[str, str]:
    """File name → content, all rendered from one :func:`books_json` document (so they always agree).

    :param document: the books JSON.
    """
    units = document["units"]
    totals = [{"scope": unit["group_id"], "asset": asset, **sums}
              for unit in units for asset, sums in unit["totals"].items()]
    totals += [{"scope": "all", "asset": asset, **sums} for asset, sums in document["totals"].items()]
    return {
        "books.json": json.dumps(document, indent=2) + "\n",
        "records.csv": _csv(RECORD_COLUMNS, [{"group_id": u["group_id"], **r} for u in units for r in u["records"]]),
        "interest.csv": _csv(INTEREST_COLUMNS, [{"group_id": u["group_id"], **r} for u in units
                                                for r in u["interest"]]),
        "totals.csv": _csv(TOTAL_COLUMNS, totals),
    }
