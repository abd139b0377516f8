"""An LTV rehearsal through the provider's client: a collateral price shock set on the sandbox shows in ltv_details().

The sandbox's own tests check the admin endpoint's contract (``sandbox/tests/test_sandbox_prices.py``);
this one checks that the client's parsed RiskUnitDetails follow it, as an LTV sensor would read them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

pytestmark = pytest.mark.integration


def test_client_reads_the_ltv_after_a_btc_shock(client_for, sandbox):
    client = client_for("credit_hmac")
    [before] = client.ltv_details()
    limit_before = client.max_borrowable("USDT")
    answer = requests.post(f"{sandbox.url}/sandbox/prices", json={"prices": {"BTC": "45000.5"}}, timeout=5)
    assert answer.status_code == 200 and answer.json()["prices"]["BTC"] == "45000.5"
    [after] = client.ltv_details()
    assert before.total_net_equity - after.total_net_equity == 20 * (Decimal(50000) - Decimal("45000.5"))
    assert after.total_liability == before.total_liability
    assert after.ltv == Decimal("0.32136857") > before.ltv
    assert client.max_borrowable("USDT") < limit_before
