"""Asset prices through the admin API: a collateral-value shock moves a unit's LTV in ltv-details."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

pytestmark = pytest.mark.integration


def test_prices_are_read_set_and_move_ltv(sandbox, client_for):
    parent = client_for("parent")
    before = {u.group_id: u for u in parent.ltv_details()}[10002]
    assert requests.get(f"{sandbox.url}/sandbox/prices", timeout=10).json()["prices"] == {"USDT": "1", "USDC": "1"}
    sandbox.state.set_balance(10002, "BTC", "10", "SPOT")  # worth nothing until BTC has a price
    answer = requests.post(f"{sandbox.url}/sandbox/prices", json={"prices": {"BTC": "45000.5"}}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["prices"] == {"USDT": "1", "USDC": "1", "BTC": "45000.5"}
    assert isinstance(answer.json()["serverTime"], int)
    valued = {u.group_id: u for u in parent.ltv_details()}[10002]
    assert valued.total_net_equity == before.total_net_equity + Decimal("450005")
    assert valued.ltv < before.ltv
    requests.post(f"{sandbox.url}/sandbox/prices", json={"prices": {"BTC": "1000"}}, timeout=10).raise_for_status()
    shocked = {u.group_id: u for u in parent.ltv_details()}[10002]
    assert valued.ltv < shocked.ltv < before.ltv


@pytest.mark.parametrize("body", [{"prices": {"BTC": "-1"}}, {"prices": {"BTC": "lots"}},
                                  {"prices": {"ETH": "1", "BTC": True}}, {"prices": ["BTC"]}, {"BTC": "1"}])
def test_bad_prices_are_refused_and_change_nothing(sandbox, body):
    answer = requests.post(f"{sandbox.url}/sandbox/prices", json=body, timeout=10)
    assert answer.status_code == 400 and answer.json()["code"] == -1130, answer.text
    assert requests.get(f"{sandbox.url}/sandbox/prices", timeout=10).json()["prices"] == {"USDT": "1", "USDC": "1"}
