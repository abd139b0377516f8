"""BinanceCreditHook: connection parsing and test_connection() verdicts."""

from __future__ import annotations

import json
import random
import socket

import pytest

from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.client.retry import RetryPolicy
from airflow_binance_loan.exceptions import ConfigurationError
from airflow_binance_loan.hooks.connection_config import config_from_connection
from airflow_binance_loan.hooks.credit import BinanceCreditHook

from ..fakes import API_KEY, BASE, HMAC_SECRET, RESTRICTIONS_URL, serve_time

PERMS_ON = {"enableReading": True, "enableSpotAndMarginTrading": True, "ipRestrict": True}
PERMS_OFF = {"enableReading": True, "enableSpotAndMarginTrading": False, "ipRestrict": False}


def set_conn(monkeypatch, conn_id: str = "binance_credit_default", **fields) -> None:
    conn = {"conn_type": "binance_credit", "login": API_KEY, "password": HMAC_SECRET, **fields}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def make_hook(fake_clock, conn_id: str = "binance_credit_default") -> BinanceCreditHook:
    return BinanceCreditHook(
        conn_id, pacer=WeightPacer(fake_clock), clock=fake_clock,
        retry_policy=RetryPolicy(rng=random.Random(1)),
    )


def test_default_connection_from_env_builds_the_client(monkeypatch, fake_clock, requests_mock, ed25519_pem):
    set_conn(monkeypatch, password=ed25519_pem, host="https://api.binance.com",
             extra={"recv_window": 3000, "timeout": 9, "key_type": "ed25519"})
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(f"{BASE}/sapi/v1/margin/loan-group/ltv-details", json=[])
    hook = make_hook(fake_clock)
    client = hook.get_conn()
    assert hook.get_conn() is client
    assert client.session.base_url == "https://api.binance.com"
    assert client.session.recv_window == 3000
    assert client.session.key_type == "ed25519"
    assert hook.ltv_details() == []
    sent = ltv.last_request
    assert sent.timeout == (5.0, 9.0)
    assert "recvWindow=3000" in sent.url
    assert sent.headers["X-MBX-APIKEY"] == API_KEY


def test_defaults_when_host_and_extras_are_empty(monkeypatch):
    set_conn(monkeypatch, "binance_defaults")
    config = BinanceCreditHook("binance_defaults").connection_config()
    assert (config.base_url, config.recv_window, config.timeout, config.key_type) == (BASE, 5000, 15.0, None)
    assert config.connect_timeout == 5.0
    assert BinanceCreditHook("binance_defaults").get_conn().session.key_type == "hmac"


def test_extras_as_strings(monkeypatch):
    set_conn(monkeypatch, "binance_strings", host="http://127.0.0.1", port=8080,
             extra=json.dumps({"recv_window": "6000", "timeout": "2.5", "key_type": " HMAC ",
                               "max_weight_wait": "30", "proxy": ""}))
    config = BinanceCreditHook("binance_strings").connection_config()
    assert config.recv_window == 6000
    assert config.timeout == 2.5 and config.connect_timeout == 2.5
    assert config.key_type == "hmac"
    assert config.max_weight_wait == 30.0
    assert config.proxy is None
    assert config.base_url == "http://127.0.0.1:8080"


def test_host_without_scheme_means_https(monkeypatch):
    set_conn(monkeypatch, "binance_bare_host", host="api1.binance.com")
    assert BinanceCreditHook("binance_bare_host").connection_config().base_url == "https://api1.binance.com"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"extra": {"recv_window": 0}}, "extra recv_window=0 must be between 1 and 60000 ms"),
        ({"extra": {"recv_window": 60001}}, "extra recv_window=60001 must be between 1 and 60000 ms"),
        ({"extra": {"recv_window": "abc"}}, "extra recv_window='abc' is not a number"),
        ({"extra": {"recv_window": 5000.5}}, "extra recv_window=5000.5 must be a whole number"),
        ({"extra": {"recv_window": True}}, "extra recv_window=True is not a number"),
        ({"extra": {"timeout": 0}}, "extra timeout=0.0 must be between 0.1 and 300 seconds"),
        ({"extra": {"timeout": "slow"}}, "extra timeout='slow' is not a number"),
        ({"extra": {"key_type": "dsa"}}, "extra key_type='dsa' must be one of hmac, rsa, ed25519"),
        ({"extra": {"recvWindow": 5000}}, "unknown extra field(s) recvWindow; expected some of key_type"),
        ({"login": ""}, "login (API key) is empty"),
        ({"login": "  "}, "login (API key) is empty"),
        ({"password": ""}, "password (HMAC secret or PEM private key) is empty"),
        ({"host": "http://example.com"}, "refusing plain-http base URL 'http://example.com'"),
        ({"host": "https://api.binance.com/sapi"}, "give only scheme, host and port"),
    ],
)
def test_invalid_connection_names_connection_and_field(monkeypatch, fields, message):
    set_conn(monkeypatch, "binance_bad", **fields)
    with pytest.raises(ConfigurationError) as info:
        BinanceCreditHook("binance_bad").connection_config()
    assert str(info.value).startswith("connection 'binance_bad': ")
    assert message in str(info.value)


@pytest.mark.parametrize("value", ["-1", "nan", "inf", 100000])
def test_invalid_max_weight_wait_is_refused(value):
    with pytest.raises(ConfigurationError, match="max_weight_wait"):
        config_from_connection(conn_id="c", login="k", password="s", host=None, port=None,
                               extra={"max_weight_wait": value})


def test_bad_key_in_password_names_the_connection(monkeypatch):
    set_conn(monkeypatch, "binance_badpem", password="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
    with pytest.raises(ConfigurationError, match="connection 'binance_badpem': could not load the private key"):
        BinanceCreditHook("binance_badpem").get_conn()


# -- test_connection verdicts ------------------------------------------------------------------


def run_test_connection(monkeypatch, fake_clock, requests_mock, restrictions, time_offset_ms=0.0, **conn):
    set_conn(monkeypatch, "binance_probe", **conn)
    time_route = serve_time(requests_mock, fake_clock, time_offset_ms)
    route = requests_mock.get(RESTRICTIONS_URL, restrictions)
    ok, message = make_hook(fake_clock, "binance_probe").test_connection()
    return ok, message, time_route, route


def test_connection_permission_on(monkeypatch, fake_clock, requests_mock):
    ok, message, _, route = run_test_connection(monkeypatch, fake_clock, requests_mock, [{"json": PERMS_ON}])
    assert ok is True
    assert message == (
        "Connected to https://api.binance.com with a HMAC key. 'Enable Spot & Margin Trading' is ON: repay is "
        "allowed. IP whitelist: restricted."
    )
    assert route.call_count == 1
    assert "signature=" in route.last_request.url


def test_connection_permission_off_warns_repay_will_be_refused(monkeypatch, fake_clock, requests_mock):
    ok, message, _, _ = run_test_connection(monkeypatch, fake_clock, requests_mock, [{"json": PERMS_OFF}])
    assert ok is True
    assert "'Enable Spot & Margin Trading' is OFF: repay and borrow will be refused" in message
    assert "IP whitelist: unrestricted." in message


def test_connection_reports_large_clock_offset(monkeypatch, fake_clock, requests_mock):
    ok, message, _, _ = run_test_connection(monkeypatch, fake_clock, requests_mock, [{"json": PERMS_ON}],
                                            time_offset_ms=-2_500)
    assert ok is True
    assert "Local clock is -2.5 s off Binance (corrected automatically)." in message


def error(code, msg, status=400):
    return {"status_code": status, "json": {"code": code, "msg": msg}}


def test_connection_key_rejected(monkeypatch, fake_clock, requests_mock):
    ok, message, _, route = run_test_connection(
        monkeypatch, fake_clock, requests_mock, [error(-2015, "Invalid API-key, IP, or permissions for action.", 401)]
    )
    assert ok is False
    assert message.startswith("Binance rejected the API key (code -2015: Invalid API-key, IP, or permissions")
    assert "IP is not whitelisted" in message and "permission" in message
    assert route.call_count == 1


def test_connection_bad_signature(monkeypatch, fake_clock, requests_mock):
    ok, message, _, _ = run_test_connection(
        monkeypatch, fake_clock, requests_mock, [error(-1022, "Signature for this request is not valid.")]
    )
    assert ok is False
    assert message.startswith("Binance rejected the signature (code -1022)")
    assert "secret or private key does not match" in message


def test_connection_clock_skew(monkeypatch, fake_clock, requests_mock):
    skew = error(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    ok, message, time_route, route = run_test_connection(monkeypatch, fake_clock, requests_mock, [skew, skew])
    assert ok is False
    assert message.startswith("Clock skew: Binance rejected the timestamp even after resyncing server time")
    assert "NTP" in message
    assert time_route.call_count == 2 and route.call_count == 2


def test_connection_rate_limited(monkeypatch, fake_clock, requests_mock):
    ok, message, _, _ = run_test_connection(
        monkeypatch, fake_clock, requests_mock,
        [{"status_code": 418, "headers": {"Retry-After": "600"}, "json": {"code": -1003, "msg": "IP banned."}}],
    )
    assert ok is False
    assert message.startswith("Rate-limited by Binance")


def test_connection_refused_is_network_unreachable(monkeypatch, fake_clock):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    set_conn(monkeypatch, "binance_down", host=f"http://127.0.0.1:{port}")
    ok, message = make_hook(fake_clock, "binance_down").test_connection()
    assert ok is False
    assert message.startswith("Network unreachable: GET /api/v3/time: could not connect")
    assert len(fake_clock.sleeps) == 3  # retried on the fake clock, never really slept


def test_connection_bad_pem(monkeypatch, fake_clock, requests_mock):
    set_conn(monkeypatch, "binance_pem", password="-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----")
    ok, message = make_hook(fake_clock, "binance_pem").test_connection()
    assert ok is False
    assert message.startswith("Bad connection settings or key format: connection 'binance_pem': ")
    assert "could not load the private key" in message
    assert requests_mock.call_count == 0


def test_connection_bad_settings(monkeypatch, fake_clock, requests_mock):
    set_conn(monkeypatch, "binance_http", host="http://example.com")
    ok, message = make_hook(fake_clock, "binance_http").test_connection()
    assert ok is False
    assert "Bad connection settings" in message and "refusing plain-http" in message
    assert requests_mock.call_count == 0


def test_hook_metadata():
    assert BinanceCreditHook.conn_type == "binance_credit"
    assert BinanceCreditHook.default_conn_name == "binance_credit_default"
    assert BinanceCreditHook.conn_name_attr == "binance_credit_conn_id"
    assert BinanceCreditHook.hook_name == "Binance Institutional Loan"


def test_only_secret_extras_are_masked_in_logs(monkeypatch, fake_clock, encrypted_ed25519_pem, passphrase, caplog):
    """extra_dejson would mask every string extra ("ed25519" → ***) and warn about "hmac" in every task log."""
    from airflow.sdk.log import _secrets_masker

    set_conn(monkeypatch, password=encrypted_ed25519_pem,
             extra={"key_type": "ed25519", "private_key_passphrase": passphrase, "proxy": ""})
    with caplog.at_level("WARNING"):
        config = make_hook(fake_clock).connection_config()
    assert config.key_type == "ed25519"
    masker = _secrets_masker()
    assert masker.redact(f"key ed25519 with {passphrase}") == "key ed25519 with ***"
    assert "Skipping masking" not in caplog.text


def test_extra_that_is_not_an_object_is_a_clear_configuration_error(monkeypatch, fake_clock):
    set_conn(monkeypatch, extra=["not", "an", "object"])
    with pytest.raises(ConfigurationError, match="extra must be a JSON object"):
        make_hook(fake_clock).connection_config()


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("https://api.binance.com", None, "https://api.binance.com"),
        ("https://api.binance.com", 0, "https://api.binance.com"),  # what the UI sends for an empty port
        ("https://api.binance.com", 443, "https://api.binance.com"),
        ("api.binance.com", 443, "https://api.binance.com"),
        ("http://127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("http://127.0.0.1:8123", 8123, "http://127.0.0.1:8123"),
    ],
)
def test_port_field_is_optional_and_consistent(host, port, expected):
    config = config_from_connection(conn_id="c", login=API_KEY, password=HMAC_SECRET, host=host, port=port, extra={})
    assert config.base_url == expected


def test_contradicting_port_is_a_clear_error():
    with pytest.raises(ConfigurationError, match=r"connection 'c'.*says port 8123 but the port field says 9000"):
        config_from_connection(conn_id="c", login=API_KEY, password=HMAC_SECRET, host="http://127.0.0.1:8123",
                               port=9000, extra={})
