"""The command line, state files (load/save round trip) and the shipped demo data."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
import requests
from hand_signing import public_key_pem

from binance_loan_sandbox import SandboxServer, demo_credentials, load_state, save_state

pytestmark = pytest.mark.integration


def start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "binance_loan_sandbox", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().rstrip("\n")
    return proc, first


def test_cli_starts_answers_and_stops_on_sigterm():
    proc, first = start_cli("--port", "0", "--state", "demo")
    try:
        assert first.startswith("listening on http://127.0.0.1:")
        port = int(first.rsplit(":", 1)[1])
        assert port > 0
        assert "serverTime" in requests.get(f"http://127.0.0.1:{port}/api/v3/time", timeout=5).json()
        assert requests.get(f"http://127.0.0.1:{port}/sandbox/state", timeout=5).status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_cli_save_writes_the_state_back(tmp_path):
    path = tmp_path / "rehearsal.json"
    proc, first = start_cli("--port", "0", "--state", str(path), "--admin", "--save")
    try:
        url = first.removeprefix("listening on ")
        assert requests.post(f"{url}/sandbox/advance", json={"hours": 1}, timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    saved = load_state(path)
    assert len(saved.interest_rows) == 5
    assert saved.liability(10001, "USDT").interest == Decimal("208.25") + Decimal("8.33")


def test_cli_refuses_to_save_into_the_demo_state():
    proc = subprocess.run([sys.executable, "-m", "binance_loan_sandbox", "--state", "demo", "--save"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--save needs" in proc.stderr


def test_state_round_trip_keeps_every_decimal(tmp_path, raw, sandbox):
    repay = raw.call("POST", "/sapi/v1/margin/loan-group/repay",
                     {"groupId": 10003, "assetName": "USDC", "amount": "0.00000001"}, "credit_ed25519")
    assert repay.status_code == 200, repay.text
    sandbox.advance_hours(1)
    path = tmp_path / "state.json"
    sandbox.save(path)
    reloaded = load_state(path)
    assert reloaded.snapshot() == sandbox.state.snapshot()
    assert reloaded.next_transaction_id == 12317283618
    with SandboxServer(path, save_on_exit=True) as again:
        assert again.state.liability(10003, "USDC") == sandbox.state.liability(10003, "USDC")
    assert json.loads(path.read_text())["records"][0]["amount"] == "0.00000001"
    save_state(reloaded, path)


def test_demo_state_matches_its_credentials():
    state = load_state("demo")
    creds = demo_credentials()
    key_types = set()
    for name, cred in creds.items():
        account = state.account(name)
        assert account.api is not None and account.api.api_key == cred["apiKey"]
        key_types.add(cred["keyType"])
        if cred["keyType"] == "hmac":
            assert account.api.key == cred["secret"]
        else:
            assert account.api.key == public_key_pem(cred["secret"])  # the state holds only public keys
            assert "PRIVATE" not in account.api.key
    assert key_types == {"hmac", "rsa", "ed25519"}
    assert len(state.units) >= 4
    short = state.unit(10004)
    assert short.credit.balance("MARGIN", "USDT") < short.liability("USDT").outstanding
    assert {a for u in state.units.values() for a in u.liabilities} == {"USDT", "USDC"}


def test_snapshot_can_redact_hmac_secrets(sandbox):
    dump = json.dumps(sandbox.state.snapshot(redact_secrets=True))
    assert demo_credentials()["credit_hmac"]["secret"] not in dump
    assert "BEGIN PUBLIC KEY" in dump
