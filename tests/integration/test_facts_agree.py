"""The client's endpoint table and the sandbox's table of Binance's facts agree, field by field.

Both were written from the reference docs, independently: the sandbox must not import the client,
or a wrong weight in the client would be copied by the server instead of caught. This test is the
only place that looks at both, so a drift on either side fails here, naming the endpoint.
"""

from __future__ import annotations

import pytest
from binance_loan_sandbox import binance_facts

from airflow_binance_loan.client import endpoints
from airflow_binance_loan.client.validation import RECV_WINDOW_MAX_MS

CLIENT = {e.name: e for e in endpoints.ENDPOINTS}
SANDBOX = {r.name: r for r in binance_facts.ROUTES}


def test_both_tables_list_the_same_endpoints():
    assert sorted(CLIENT) == sorted(SANDBOX)
    assert len(CLIENT) == len(endpoints.ENDPOINTS) and len(SANDBOX) == len(binance_facts.ROUTES)


@pytest.mark.parametrize("name", sorted(CLIENT))
def test_each_endpoint_has_the_same_route_weight_limit_kind_and_limit(name):
    client, sandbox = CLIENT[name], SANDBOX[name]
    assert (sandbox.method, sandbox.path) == (client.method, client.path)
    assert sandbox.weight == client.weight, f"{name}: sandbox weight {sandbox.weight}, client {client.weight}"
    assert sandbox.limit_kind == client.limit_kind
    assert sandbox.limit == client.limit, f"{name}: sandbox limit {sandbox.limit}, client {client.limit}"
    assert sandbox.signed == client.signed
    assert sandbox.label == client.label


def test_the_budgets_and_the_window_agree():
    assert binance_facts.SAPI_IP_LIMIT == endpoints.IP_LIMIT_PER_WINDOW
    assert binance_facts.SAPI_UID_LIMIT == endpoints.UID_LIMIT_PER_WINDOW
    assert binance_facts.API_IP_LIMIT == endpoints.API_IP_LIMIT_PER_WINDOW
    assert binance_facts.WINDOW_SECONDS == endpoints.WINDOW_SECONDS
    assert binance_facts.MAX_RECV_WINDOW_MS == RECV_WINDOW_MAX_MS
