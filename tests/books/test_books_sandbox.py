"""The month's books read from the sandbox over real HTTP: the export's totals equal a recomputation from
the sandbox's own state for a month with borrows, partial repays and hourly interest; and the operator
refuses bad input and a month that has not closed, before reading any record."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from binance_loan_sandbox import SandboxServer
from books_sandbox import ACCOUNTS, MONTH, recomputed_totals, rehearse_month
from ltv_sandbox import conn_env

from airflow_binance_loan.books.ledger import read_unit_books
from airflow_binance_loan.books.period import Month
from airflow_binance_loan.books.render import books_json
from airflow_binance_loan.client.loan_api import LoanClient
from airflow_binance_loan.operators.books import LOAN_BOOKS_ASSET, LoanBooksOperator

pytestmark = pytest.mark.integration


def test_export_totals_equal_the_sandbox_state(sandbox: SandboxServer, client_for: Callable[..., LoanClient]) -> None:
    rehearse_month(sandbox, client_for)
    books = [read_unit_books(client_for(account), group_id, MONTH) for group_id, account in ACCOUNTS.items()]
    document = books_json(MONTH, books, sandbox.now_ms())

    expected = recomputed_totals(sandbox)
    assert {str(u["group_id"]): u["totals"] for u in document["units"] if u["totals"]} == {
        scope: totals for scope, totals in expected.items() if scope != "all"}
    assert document["totals"] == expected["all"]
    # The month really had all three kinds of activity, and April's repay is not in March's books.
    assert expected["10001"]["USDT"]["borrows"] == 1 and expected["10001"]["USDT"]["repays"] == 1
    assert expected["10004"]["USDT"]["repaid"] == "5000" and expected["all"]["USDT"]["interest_rows"] > 4 * 24
    assert all(r["time_utc"].startswith("2026-03") for u in document["units"] for r in u["records"] + u["interest"])
    assert document["checks"] == []


def test_the_operator_refuses_bad_input_and_an_open_month(sandbox: SandboxServer, demo_creds: dict[str, Any],
                                                          client_for: Callable[..., LoanClient],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rehearse_month(sandbox, client_for)  # the sandbox's clock is now in April 2026
    monkeypatch.setenv("AIRFLOW_CONN_BINANCE_CREDIT_10001", conn_env(sandbox, demo_creds["credit_hmac"]))
    for kwargs, says in (({"units": [10001], "month": "2026-3"}, "invalid month='2026-3'"),
                         ({"units": "10001"}, "invalid units='10001'"),
                         ({"units": [{"group_id": 0}]}, "invalid units[].group_id=0"),
                         ({"units": []}, "no risk unit to export"),
                         ({"units": [10001], "month": "2026-04"}, "month 2026-04 is not closed yet")):
        task = LoanBooksOperator(task_id="books", **kwargs)
        with pytest.raises(AirflowFailException, match=re.escape(says)):
            task.execute({"logical_date": MONTH.end})  # type: ignore[arg-type]
    assert "borrow_repay_records" not in sandbox.endpoint_counts


def test_the_operator_updates_the_books_asset_by_default() -> None:
    task = LoanBooksOperator(task_id="books", units=[1])
    assert task.outlets == [LOAN_BOOKS_ASSET] and LOAN_BOOKS_ASSET.name == "binance_loan_books"
    assert LoanBooksOperator(task_id="quiet", asset=None).outlets == []
    assert task.month_to_export({"logical_date": Month(2026, 5).start}) == Month(2026, 4)  # type: ignore[arg-type]
    assert json.loads(json.dumps(task.units_to_export())) == [[1, "binance_credit_1"]]
