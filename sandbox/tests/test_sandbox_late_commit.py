"""Virtual clock, late commits and back-to-back repays: the sandbox driven by a time source the test owns."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests

from binance_loan_sandbox import SandboxClock, SandboxServer
from binance_loan_sandbox.binance_facts import MSG_TIMEOUT

pytestmark = pytest.mark.integration

REPAY = "/sapi/v1/margin/loan-group/repay"
BORROW = "/sapi/v1/margin/loan-group/borrow"
RECORDS = "/sapi/v1/margin/loan-group/borrow-repay"
START_MS = 1_750_000_000_000
MINUTE = 60_000


class VirtualTime:
    """A time source in epoch seconds that moves only when told to."""

    def __init__(self, start_ms: int = START_MS) -> None:
        self.ms = start_ms

    def __call__(self) -> float:
        return self.ms / 1000

    def advance(self, ms: int) -> None:
        self.ms += ms


@pytest.fixture
def vt():
    return VirtualTime()


@pytest.fixture
def vsandbox(sandbox_factory, vt) -> SandboxServer:
    return sandbox_factory(clock=SandboxClock(vt))


@pytest.fixture
def vraw(vsandbox, raw_for):
    client = raw_for(vsandbox)
    yield client
    client.http.close()


def admin_state(server: SandboxServer) -> dict:
    return requests.get(f"{server.url}/sandbox/state", timeout=5).json()


def owed(dump: dict, group_id: int = 10001, asset: str = "USDT") -> Decimal:
    unit = next(u for u in dump["state"]["riskUnits"] if u["groupId"] == group_id)
    debt = unit["liabilities"][asset]
    return Decimal(debt["principal"]) + Decimal(debt["interest"])


def repay(raw, amount: str = "25", account: str = "credit_hmac", group_id: int = 10001) -> requests.Response:
    return raw.call("POST", REPAY, {"groupId": group_id, "assetName": "USDT", "amount": amount}, account,
                    in_body=True)


def records(raw, kind: str = "REPAY", account: str = "credit_hmac") -> list[dict]:
    response = raw.call("GET", RECORDS, {"type": kind}, account)
    assert response.status_code == 200, response.text
    return response.json()["rows"]


# -- the virtual clock -----------------------------------------------------------------------------


def test_virtual_clock_drives_server_time_windows_and_signatures(vsandbox, vraw, vt):
    time_url = f"{vsandbox.url}/api/v3/time"
    assert requests.get(time_url, timeout=5).json() == {"serverTime": START_MS}
    vt.advance(3_600_000)
    assert requests.get(time_url, timeout=5).json() == {"serverTime": START_MS + 3_600_000}
    assert vsandbox.now_ms() == START_MS + 3_600_000
    assert repay(vraw, "1").status_code == 200  # signed with the virtual server time
    [row] = records(vraw)
    assert row["timestamp"] == START_MS + 3_600_000
    old = vraw.call("GET", RECORDS, {"type": "REPAY"}, timestamp=int(time.time() * 1000))
    assert old.json()["code"] == -1021  # real time is a year off the sandbox's time
    vsandbox.set_clock_skew(500)
    assert vsandbox.now_ms() == START_MS + 3_600_500
    assert vsandbox.advance_hours(1) == 5
    assert vsandbox.now_ms() == START_MS + 7_200_500


def test_default_clock_is_real_time(sandbox):
    assert abs(sandbox.now_ms() - time.time() * 1000) < 5_000
    assert abs(SandboxClock(lambda: 12.3456).now_ms() - 12_346) == 0


# -- late_commit -----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [None, "1007", "503", "drop"])
def test_late_commit_answers_without_committing_and_applies_minutes_later(vsandbox, vraw, vt, answer):
    rule = {"endpoint": "repay", "action": "late_commit", "ms": 300_000, "nth": [1]}
    if answer is not None:
        rule["answer"] = answer
    vsandbox.set_faults([rule])
    before = owed(admin_state(vsandbox))
    if answer == "drop":
        with pytest.raises(requests.ConnectionError):
            repay(vraw)
    else:
        response = repay(vraw)
        if answer == "503":
            assert response.status_code == 503 and response.headers["Content-Type"].startswith("text/html")
        else:
            assert response.status_code == 500
            assert response.json() == {"code": -1007, "msg": MSG_TIMEOUT}
    assert vsandbox.endpoint_counts["repay"] == 1

    dump = admin_state(vsandbox)
    assert owed(dump) == before and dump["state"]["records"] == []
    [pending] = dump["pendingCommits"]
    assert pending["endpoint"] == "repay" and pending["groupId"] == 10001 and pending["amount"] == "25"
    assert pending["acceptedAt"] == START_MS and pending["dueAt"] == START_MS + 300_000
    assert dump["lateCommits"]["pending"] == 1
    assert records(vraw) == []

    vt.advance(299_999)
    assert len(admin_state(vsandbox)["pendingCommits"]) == 1
    vt.advance(1)
    assert requests.get(f"{vsandbox.url}/api/v3/time", timeout=5).status_code == 200  # any request applies it
    applied = vsandbox.app.state.records_of(10001)  # the raw state, without the property's own catch-up
    assert [(r.amount, r.timestamp, r.status) for r in applied] == [(Decimal(25), START_MS + 300_000, "CONFIRM")]
    dump = admin_state(vsandbox)
    assert owed(dump) == before - 25
    assert dump["pendingCommits"] == [] and dump["lateCommits"]["applied"] == 1
    assert dump["lateCommits"]["resolved"][0]["outcome"] == "applied"
    [row] = records(vraw)
    assert row["timestamp"] == START_MS + 300_000 and row["amount"] == 25 and row["status"] == "CONFIRM"
    counters = requests.get(f"{vsandbox.url}/sandbox/requests", timeout=5).json()
    assert counters["lateCommits"] == {"pending": 0, "applied": 1, "skipped": 0}


def test_late_commit_moves_money_with_the_balance_at_commit_time(vsandbox, vraw, vt):
    vsandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "ms": MINUTE}])
    assert repay(vraw, "25").status_code == 500
    vsandbox.app.state.set_balance(10001, "USDT", "10")
    vt.advance(MINUTE)
    assert vsandbox.apply_due_commits() == 1
    [record] = vsandbox.state.records_of(10001)
    assert record.amount == 10 and record.timestamp == START_MS + MINUTE
    assert vsandbox.state.balance(10001, "USDT") == 0


def test_late_commit_that_would_fail_at_commit_time_does_not_happen(vsandbox, vraw, vt):
    vsandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "ms": MINUTE}])
    before = vsandbox.state.liability(10001, "USDT").outstanding
    assert repay(vraw, "25").status_code == 500  # the wallet still holds funds when the request is accepted
    vsandbox.app.state.set_balance(10001, "USDT", "0")
    vt.advance(MINUTE)
    assert vsandbox.state.records_of(10001) == []  # the state property applies due commits first
    assert vsandbox.state.liability(10001, "USDT").outstanding == before
    late = admin_state(vsandbox)["lateCommits"]
    assert (late["pending"], late["applied"], late["skipped"]) == (0, 0, 1)
    assert late["resolved"][0]["code"] == -27015
    assert vsandbox.pending_commits == []


def test_late_commit_with_records_lag_becomes_visible_after_commit_plus_lag(vsandbox, vraw, vt):
    vsandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "ms": 2 * MINUTE},
                         {"endpoint": "repay", "action": "records_lag", "ms": 5 * MINUTE}])
    before = vsandbox.state.liability(10001, "USDT").outstanding
    repay(vraw, "7")
    vt.advance(2 * MINUTE)
    assert vsandbox.state.liability(10001, "USDT").outstanding == before - 7  # committed...
    assert records(vraw) == []  # ...but not listed yet
    [record] = vsandbox.state.records_of(10001)
    assert record.visible_at == START_MS + 7 * MINUTE
    vt.advance(5 * MINUTE - 1)
    assert records(vraw) == []
    vt.advance(1)
    [row] = records(vraw)
    assert row["timestamp"] == START_MS + 2 * MINUTE


def test_late_commit_borrow_and_order_of_several_commits(vsandbox, vraw, vt):
    vsandbox.set_faults([{"endpoint": "*", "action": "late_commit", "ms": MINUTE, "answer": "503"}])
    assert vraw.call("GET", RECORDS, {"type": "BORROW"}).status_code == 200  # not a money endpoint: untouched
    principal = vsandbox.state.liability(10001, "USDC").principal
    response = vraw.call("POST", BORROW, {"groupId": 10001, "assetName": "USDC", "amount": "100"}, in_body=True)
    assert response.status_code == 503
    vt.advance(1000)
    repay(vraw, "3")
    assert [c.order.kind for c in vsandbox.pending_commits] == ["borrow", "repay"]
    assert vsandbox.faults.to_json()[0]["seen"] == 2  # the borrow-repay read is not counted
    vt.advance(MINUTE)
    assert vsandbox.state.liability(10001, "USDC").principal == principal + 100
    borrow_row, repay_row = records(vraw, "BORROW")[0], records(vraw)[0]
    assert borrow_row["timestamp"] == START_MS + MINUTE and repay_row["timestamp"] == START_MS + 1000 + MINUTE
    assert repay_row["tranId"] == borrow_row["tranId"] + 1


def test_late_commit_parameter_errors_are_answered_and_nothing_is_queued(vsandbox, vraw):
    vsandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "ms": MINUTE}])
    response = vraw.call("POST", REPAY, {"groupId": 10001, "assetName": "USDT"}, in_body=True)
    assert response.json()["code"] == -1102
    other = vraw.call("POST", REPAY, {"groupId": 10002, "assetName": "USDT", "amount": "1"}, in_body=True)
    assert other.json()["code"] == -27010
    assert vsandbox.pending_commits == []


@pytest.mark.parametrize("minutes_past", [10, 40])
def test_advance_hours_applies_commits_falling_due_inside_the_jump(vsandbox, vraw, vt, minutes_past):
    vt.ms = START_MS // 3_600_000 * 3_600_000 + minutes_past * MINUTE
    vsandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "ms": 30 * MINUTE}])
    due = vt.ms + 30 * MINUTE
    interest = vsandbox.state.liability(10001, "USDT").interest
    hour_charge = (Decimal(1_000_000) * Decimal("0.00000833")).quantize(Decimal("0.00000001"))
    repay(vraw, str(interest + hour_charge))
    assert vsandbox.advance_hours(2) == 10
    [record] = vsandbox.state.records_of(10001)
    assert record.timestamp == due
    if minutes_past == 40:  # the hour boundary was charged before the commit: everything went to interest
        assert (record.interest, record.principal) == (interest + hour_charge, 0)
    else:  # committed before the boundary: the old interest, then principal
        assert (record.interest, record.principal) == (interest, hour_charge)
    assert vsandbox.pending_commits == []


# -- pending_after_repay ---------------------------------------------------------------------------


def test_pending_after_repay_refuses_back_to_back_repays(vsandbox, vraw, vt):
    vsandbox.set_faults([{"endpoint": "repay", "action": "pending_after_repay", "ms": 10_000}])
    assert repay(vraw, "1").status_code == 200
    vt.advance(5_000)
    refused = repay(vraw, "1")
    assert refused.status_code == 400 and refused.json() == {"code": -1025, "msg": "Has pending transactions."}
    assert repay(vraw, "1", "credit_short", 10004).status_code == 200  # another credit account
    vt.advance(5_000)
    assert repay(vraw, "1").status_code == 200
    assert [r.amount for r in vsandbox.state.records_of(10001)] == [1, 1]
    rule = vsandbox.faults.to_json()[0]
    assert (rule["seen"], rule["fired"]) == (4, 1)


def test_pending_after_repay_counts_a_late_commit_at_its_commit_time(vsandbox, vraw, vt):
    vsandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "ms": MINUTE, "nth": [1]},
                         {"endpoint": "repay", "action": "pending_after_repay", "ms": 10_000, "code": -27025}])
    assert repay(vraw, "1").status_code == 500
    vt.advance(5_000)
    assert repay(vraw, "1").status_code == 200  # nothing committed yet: accepted
    vt.advance(MINUTE - 5_000 + 9_999)
    refused = repay(vraw, "1")
    assert refused.json()["code"] == -27025  # the late commit landed 9.999 s ago
    vt.advance(1)
    assert repay(vraw, "1").status_code == 200
