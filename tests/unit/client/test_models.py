"""Decimal-exact parsing, string transaction ids, typed models, records paging and range splitting."""

from __future__ import annotations

import itertools
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_binance_loan.client.models import parse_api_restrictions, parse_risk_unit, to_decimal, to_id
from airflow_binance_loan.client.responses import loads_exact
from airflow_binance_loan.exceptions import ExecutionUnknownError, InvalidParameterError, UnexpectedResponseError

from ..fakes import LTV_URL, RECORDS_URL, REPAY_URL, RESTRICTIONS_URL, make_client, serve_time

DAY = 86_400_000
END = 1_750_000_000_000


def params(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def test_json_numbers_stay_exact():
    data = loads_exact(b'{"amount": 123456.78, "tiny": 0.1, "big": 12345678901234567890, "e": 1E-8}')
    assert data["amount"] == Decimal("123456.78") and isinstance(data["amount"], Decimal)
    assert data["tiny"] == Decimal("0.1")
    assert data["big"] == 12345678901234567890 and isinstance(data["big"], int)
    assert data["e"] == Decimal("1E-8")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0E-8", Decimal(0)), ("15.30718771", Decimal("15.30718771")), (" 1 ", Decimal(1)), (7, Decimal(7)),
     (Decimal("123456.78"), Decimal("123456.78"))],
)
def test_to_decimal(raw, expected):
    assert to_decimal(raw) == expected


@pytest.mark.parametrize("raw", [1.5, True, None, "", "abc", "NaN", "Infinity", {}])
def test_to_decimal_rejects(raw):
    with pytest.raises(UnexpectedResponseError, match="field 'amount' is not a decimal"):
        to_decimal(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(12317283617, "12317283617"), ("12317283617", "12317283617"), (123456789012345678901, "123456789012345678901"),
     ("000123", "000123"), (Decimal("12317283617"), "12317283617")],
)
def test_to_id_keeps_the_exact_digits(raw, expected):
    assert to_id(raw) == expected


@pytest.mark.parametrize("raw", [None, True, "12a", 1.5, Decimal("1.5"), ""])
def test_to_id_rejects(raw):
    with pytest.raises(UnexpectedResponseError, match="is not an id"):
        to_id(raw)


@pytest.mark.parametrize(
    "body",
    [
        '{"transactionId": 123456789012345678, "amount": 123456.78, "repayFrom": "MARGIN"}',
        '{"transactionId": "123456789012345678", "amount": "123456.78", "repayFrom": "MARGIN"}',
    ],
)
def test_repay_result_is_exact(requests_mock, fake_clock, body):
    serve_time(requests_mock, fake_clock)
    requests_mock.post(REPAY_URL, text=body)
    result = make_client(fake_clock).repay("42", "USDT", "200000")
    assert result.transaction_id == "123456789012345678"
    assert result.amount == Decimal("123456.78") and isinstance(result.amount, Decimal)
    assert result.requested_amount == Decimal(200000)
    assert (result.group_id, result.asset, result.repay_from) == (42, "USDT", "MARGIN")


def test_repay_result_without_repay_from_reports_the_requested_source(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.post(REPAY_URL, text='{"transactionId": 1, "amount": 5}')
    assert make_client(fake_clock).repay(1, "USDC", "5", repay_from="SPOT").repay_from == "SPOT"


def test_repay_result_with_unexpected_shape(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.post(REPAY_URL, text="[]")
    # HTTP 200 means Binance may well have executed it: the caller must reconcile, never resend.
    with pytest.raises(ExecutionUnknownError, match=r"expected a JSON object, got list.*may have executed") as info:
        make_client(fake_clock).repay(1, "USDC", "5")
    assert (info.value.intent.group_id, info.value.intent.amount) == (1, "5")


@pytest.mark.parametrize("body", ["<html>OK</html>", '{"amount": "5"}', '{"transactionId": 7}'])
def test_repay_answered_200_without_a_usable_body_is_execution_unknown(requests_mock, fake_clock, body):
    serve_time(requests_mock, fake_clock)
    requests_mock.post(REPAY_URL, text=body)
    with pytest.raises(ExecutionUnknownError, match="may have executed"):
        make_client(fake_clock).repay(1, "USDC", "5")


LTV_BODY = """[ {
    "groupId": 1, "parentEmail": "parent@test.com", "creditEmail": "credit@test.com",
    "updateTime": 1752137105623, "ltv": "0.592", "totalNetEquity": "26.35196946",
    "totalMaintenanceMargin": "0.50106177", "totalLiability": "15.30718771",
    "maxTransferOutAmount": "0", "maxAllowedBorrowLimit": "16.32397222",
    "liabilities": [{"assetName": "USDT", "principal": "15.30718771", "interest": 0.00000012}],
    "collateralAccounts": [{"email": "c1@test.com", "type": "COLLATERAL",
        "wallets": [{"accountType": "MARGIN", "netEquity": 26.35196946, "maintainMargin": "0.50106177"}]}]
} ]"""


def test_ltv_details_parsing(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(LTV_URL, text=LTV_BODY)
    [unit] = make_client(fake_clock).ltv_details(1)
    assert params(ltv.last_request)["groupId"] == "1"
    assert unit.group_id == 1
    assert unit.ltv == Decimal("0.592")
    assert unit.total_liability == Decimal("15.30718771")
    assert unit.max_allowed_borrow_limit == Decimal("16.32397222")
    assert unit.max_transfer_out_amount == Decimal(0)
    usdt = unit.liability("USDT")
    assert usdt.outstanding == Decimal("15.30718783")
    assert unit.liability("USDC").outstanding == 0
    [account] = unit.accounts
    assert account.wallets[0].net_equity == Decimal("26.35196946")
    assert (unit.parent_email, unit.credit_email, unit.update_time) == ("parent@test.com", "credit@test.com",
                                                                        1752137105623)


def test_ltv_details_not_a_list(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.get(LTV_URL, json={"groupId": 1})
    with pytest.raises(UnexpectedResponseError, match="expected a JSON array of objects"):
        make_client(fake_clock).ltv_details()


def test_api_restrictions_parsing(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.get(RESTRICTIONS_URL, json={"enableReading": True, "enableSpotAndMarginTrading": "true",
                                              "ipRestrict": False, "createTime": 1})
    r = make_client(fake_clock).api_restrictions()
    assert (r.enable_reading, r.enable_spot_and_margin_trading, r.ip_restrict) == (True, True, False)
    assert r.raw["createTime"] == 1
    assert parse_api_restrictions({"enableSpotAndMarginTrading": "false"}).enable_spot_and_margin_trading is False
    assert parse_api_restrictions({"enableSpotAndMarginTrading": 1}).enable_spot_and_margin_trading is False


def test_risk_unit_with_bad_amount():
    with pytest.raises(UnexpectedResponseError, match="'ltv'"):
        parse_risk_unit({"groupId": 1, "ltv": "n/a"})


# -- records paging and range splitting ----------------------------------------------------------


def record(i: int, ts: int = END - 1000) -> dict:
    return {"tranId": 10_000_000_000_000 + i, "assetName": "USDT", "amount": 1.5, "principal": 1.25,
            "interest": "0.25", "status": "CONFIRM", "type": "NORMAL_REPAY", "timestamp": ts}


def test_records_walk_every_page_until_total(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    pages = [{"json": {"total": 237, "rows": [record(i) for i in range(n * 100, min(237, n * 100 + 100))]}}
             for n in range(3)]
    route = requests_mock.get(RECORDS_URL, pages)
    rows = make_client(fake_clock).borrow_repay_records("REPAY", group_id=7, asset="USDT",
                                                        start_time=END - DAY, end_time=END)
    assert len(rows) == 237
    assert route.call_count == 3
    assert [params(r)["current"] for r in route.request_history] == ["1", "2", "3"]
    first = params(route.request_history[0])
    assert (first["groupId"], first["type"], first["asset"], first["size"]) == ("7", "REPAY", "USDT", "100")
    assert (first["startTime"], first["endTime"]) == (str(END - DAY), str(END))
    row = rows[0]
    assert row.tran_id == "10000000000000"
    assert (row.amount, row.principal, row.interest) == (Decimal("1.5"), Decimal("1.25"), Decimal("0.25"))
    assert row.confirmed and row.is_repay


def test_records_stop_on_total_even_when_the_page_is_full(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    route = requests_mock.get(RECORDS_URL, [
        {"json": {"total": 200, "rows": [record(i) for i in range(100)]}},
        {"json": {"total": 200, "rows": [record(i) for i in range(100, 200)]}},
        {"json": {"total": 200, "rows": [record(999)]}},
    ])
    rows = make_client(fake_clock).borrow_repay_records("REPAY", asset="USDT", start_time=END - DAY, end_time=END)
    assert len(rows) == 200
    assert route.call_count == 2


def test_records_empty_page(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    route = requests_mock.get(RECORDS_URL, json={"total": 0, "rows": []})
    assert make_client(fake_clock).borrow_repay_records("BORROW", start_time=END - DAY, end_time=END) == []
    assert route.call_count == 1


def chunks_requested(route) -> list[tuple[int, int | None]]:
    return [(int(params(r)["startTime"]), int(params(r)["endTime"]) if "endTime" in params(r) else None)
            for r in route.request_history]


@pytest.mark.parametrize(
    ("asset", "days", "limit_days", "expected_chunks"),
    [(None, 20, 7, 3), (None, 7, 7, 1), ("USDT", 70, 30, 3), ("USDT", 30, 30, 1), ("USDT", 20, 30, 1)],
)
def test_long_ranges_are_split_newest_first(requests_mock, fake_clock, asset, days, limit_days, expected_chunks):
    serve_time(requests_mock, fake_clock)
    route = requests_mock.get(RECORDS_URL, json={"total": 0, "rows": []})
    start = END - days * DAY
    make_client(fake_clock).borrow_repay_records("REPAY", asset=asset, start_time=start, end_time=END)
    chunks = chunks_requested(route)
    assert len(chunks) == expected_chunks
    assert chunks[0][1] == END and chunks[-1][0] == start
    for lo, hi in chunks:
        assert 0 <= hi - lo <= limit_days * DAY
    for (lo, _), (_, next_hi) in itertools.pairwise(chunks):
        assert next_hi == lo - 1  # contiguous, no overlap, newest first


def test_default_range_is_the_last_7_days_of_server_time(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, offset_ms=2_000)
    route = requests_mock.get(RECORDS_URL, json={"total": 0, "rows": []})
    make_client(fake_clock).borrow_repay_records("BORROW")
    [(lo, hi)] = chunks_requested(route)
    # No endTime: Binance's own "now" ends the range, so a record created a moment ago is never cut off
    # by our estimate of server time (a few ms behind); the start is 7 days before server time.
    assert hi is None
    assert lo == int(fake_clock.time() * 1000 + 2_000) - 7 * DAY


def test_start_after_end_is_rejected_before_any_request(requests_mock, fake_clock):
    with pytest.raises(InvalidParameterError, match=r"invalid start_time=.*is after end_time"):
        make_client(fake_clock).borrow_repay_records("REPAY", start_time=END, end_time=END - 1)
    assert requests_mock.call_count == 0


def test_default_range_is_the_last_7_days_once_synced(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, offset_ms=2_000)
    route = requests_mock.get(RECORDS_URL, json={"total": 0, "rows": []})
    client = make_client(fake_clock)
    client.session.sync_time()
    client.borrow_repay_records("BORROW")
    [(lo, hi)] = chunks_requested(route)
    assert hi is None
    assert lo == int(fake_clock.time() * 1000 + 2_000) - 7 * DAY
