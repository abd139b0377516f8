"""The books' plain layer: the closed month, totals that reconcile with the records (and say what does
not), files that agree with each other, and a publication that is all or nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from airflow_binance_loan.books.ledger import UnitBooks, totals_of
from airflow_binance_loan.books.period import Month
from airflow_binance_loan.books.publish import POINTER, BooksNotPublishedError, new_version, publish, read_current
from airflow_binance_loan.books.render import books_json, render_files
from airflow_binance_loan.client.models import BorrowRepayRecord, InterestRecord
from airflow_binance_loan.exceptions import InvalidParameterError

MARCH = Month(2026, 3)
T = MARCH.start_ms + 3_600_000


def record(tran_id: str, kind: str, amount: str, principal: str | None = None, interest: str | None = None,
           status: str = "CONFIRM", asset: str = "USDT") -> BorrowRepayRecord:
    return BorrowRepayRecord(tran_id, asset, Decimal(amount), status, kind, T + int(tran_id),
                             None if principal is None else Decimal(principal),
                             None if interest is None else Decimal(interest))


def interest(amount: str, asset: str = "USDT") -> InterestRecord:
    return InterestRecord(1, asset, Decimal("1000"), Decimal("0.00000833"), Decimal(amount), T)


UNIT = UnitBooks(1, (
    record("1", "BORROW", "1000.5"),
    record("2", "NORMAL_REPAY", "300.25", "300", "0.25"),
    record("3", "FORCE_REPAY", "100", "90", "10"),
    record("4", "BORROW", "7", status="FAILED"),
    record("5", "REPAY", "50"),                                  # no split published
    record("6", "NORMAL_REPAY", "10", "9", "0.5"),               # split does not add up
    record("7", "BORROW", "0.00000001", asset="USDC"),
), (interest("0.00833"), interest("0.00833"), interest("1.1", "USDC")))


def test_months_parse_strictly_and_the_closed_month_is_the_one_before():
    assert Month.parse("2026-03") == MARCH and MARCH.label == "2026-03"
    assert (MARCH.start, MARCH.end) == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert Month.before(datetime(2026, 4, 1, 0, 30, tzinfo=UTC)) == MARCH
    assert Month.before(datetime(2027, 1, 1, tzinfo=UTC)) == Month(2026, 12) and Month(2026, 12).end.year == 2027
    assert MARCH.contains(MARCH.start_ms) and not MARCH.contains(MARCH.end_ms)
    for bad in ("2026-3", "2026-13", "March", 202603, "1999-01"):
        with pytest.raises(InvalidParameterError, match="must be a month such as '2026-03'"):
            Month.parse(bad)


def test_totals_count_confirmed_records_and_name_what_does_not_reconcile():
    totals = totals_of(UNIT)
    usdt = totals.by_asset["USDT"]
    assert (usdt.borrowed, usdt.repaid, usdt.repaid_principal, usdt.repaid_interest, usdt.force_repaid) == (
        Decimal("1000.5"), Decimal("460.25"), Decimal("399"), Decimal("10.75"), Decimal("100"))
    assert (usdt.interest_charged, usdt.borrows, usdt.repays, usdt.interest_rows) == (Decimal("0.01666"), 1, 4, 2)
    assert totals.by_asset["USDC"].borrowed == Decimal("0.00000001")
    assert totals.checks == [
        "risk unit 1 record 4 (BORROW) has status FAILED: not counted",
        "risk unit 1 repay 5 of 50 USDT has no principal/interest split: in 'repaid' only",
        "risk unit 1 repay 6: principal 9 + interest 0.5 is not its amount 10",
    ]


def test_files_agree_with_each_other_and_use_exact_strings():
    document = books_json(MARCH, [UNIT, UnitBooks(2, (), ())], T)
    files = render_files(document)
    assert json.loads(files["books.json"]) == document
    assert document["totals"]["USDT"]["repaid"] == "460.25" and document["totals"]["USDC"]["borrowed"] == "0.00000001"
    assert document["period"] == {"start_ms": MARCH.start_ms, "end_ms": MARCH.end_ms,
                                  "start": "2026-03-01T00:00:00.000Z", "end": "2026-04-01T00:00:00.000Z",
                                  "end_is": "excluded"}
    rows = list(csv.DictReader(io.StringIO(files["records.csv"])))
    assert [r["tran_id"] for r in rows] == ["1", "2", "3", "4", "5", "6", "7"]
    assert rows[3]["counted"] == "False" and rows[4]["principal"] == "" and rows[6]["amount"] == "0.00000001"
    totals = {(r["scope"], r["asset"]): r for r in csv.DictReader(io.StringIO(files["totals.csv"]))}
    assert totals[("1", "USDT")]["repaid_interest"] == "10.75" == totals[("all", "USDT")]["repaid_interest"]
    assert len(list(csv.DictReader(io.StringIO(files["interest.csv"])))) == 3
    assert "e-" not in files["books.json"].lower()  # never an exponent


def test_publish_switches_the_pointer_last_and_keeps_the_previous_version(tmp_path: Path):
    month = tmp_path / "2026-03"
    first = publish(month, {"a.csv": "one\n"}, version=new_version(datetime(2026, 4, 1, tzinfo=UTC)))
    second = publish(month, {"a.csv": "two\n"}, version=new_version(datetime(2026, 4, 2, tzinfo=UTC)))
    pointer, folder = read_current(month)
    assert pointer == second and (folder / "a.csv").read_text() == "two\n"
    assert sorted(p.name for p in month.iterdir()) == sorted([POINTER, first["version"], second["version"]])
    third = publish(month, {"a.csv": "three\n"}, version=new_version(datetime(2026, 4, 3, tzinfo=UTC)))
    assert sorted(p.name for p in month.iterdir()) == sorted([POINTER, second["version"], third["version"]])


def test_an_export_that_fails_half_way_leaves_the_published_books_as_they_were(tmp_path: Path):
    month = tmp_path / "2026-03"
    good = publish(month, {"a.csv": "good\n", "b.csv": "good\n"})

    class Unwritable(type(tmp_path)):  # type: ignore[misc]
        def write_text(self, data: str, *args: object, **kwargs: object) -> int:
            if self.name == "b.csv":
                raise OSError("disk full")
            return super().write_text(data, *args, **kwargs)  # type: ignore[arg-type]

    with pytest.raises(OSError, match="disk full"):
        publish(Unwritable(month), {"a.csv": "new\n", "b.csv": "new\n"})
    pointer, folder = read_current(month)
    assert pointer == good and (folder / "a.csv").read_text() == "good\n"
    # The half-written folder is not current, and the next export removes it.
    later = publish(month, {"a.csv": "later\n", "b.csv": "later\n"})
    assert sorted(p.name for p in month.iterdir()) == sorted([POINTER, good["version"], later["version"]])


def test_a_reader_detects_files_that_do_not_match_the_pointer(tmp_path: Path):
    with pytest.raises(BooksNotPublishedError, match="no books published"):
        read_current(tmp_path / "2026-03")
    pointer = publish(tmp_path / "2026-03", {"a.csv": "x\n"})
    (tmp_path / "2026-03" / pointer["version"] / "a.csv").write_text("tampered\n")
    with pytest.raises(BooksNotPublishedError, match=r"does not match CURRENT\.json"):
        read_current(tmp_path / "2026-03")
