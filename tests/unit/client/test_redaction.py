"""No secret, private key, passphrase or signature ever shows up in logs, exceptions or reprs.

Uses a real HTTP server on 127.0.0.1 so that urllib3's own DEBUG request lines are captured too.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from airflow_binance_loan.client import connect
from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.client.retry import RetryPolicy
from airflow_binance_loan.exceptions import BinanceLoanError, ExecutionUnknownError
from airflow_binance_loan.hooks.connection_config import config_from_connection

from ..fakes import API_KEY, HMAC_SECRET, FakeClock

REPAY = "/sapi/v1/margin/loan-group/repay"


class Recorder(BaseHTTPRequestHandler):
    signatures: list[str]

    def log_message(self, format, *args):  # keep the server quiet
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("ascii") if length else ""
        path, _, query = self.path.partition("?")
        for text in (query, body):
            if "signature=" in text:
                value = text.rpartition("signature=")[2]
                self.server.signatures.extend([value, unquote(value)])  # type: ignore[attr-defined]
        if path == "/drop":
            self.close_connection = True
            return  # no answer at all: the client sees the connection drop after sending
        status, payload, ctype = self._answer(path)
        data = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, path):
        if path == "/api/v3/time":
            return 200, json.dumps({"serverTime": 1_700_000_040_000}), "application/json"
        if path == "/sapi/v1/margin/loan-group/ltv-details":
            return 200, "[]", "application/json"
        if path == REPAY:
            return 200, json.dumps({"transactionId": 1, "amount": "1"}), "application/json"
        if path == "/err/json":
            return 400, json.dumps({"code": -1102, "msg": "Mandatory parameter 'x' was not sent."}), "application/json"
        if path == "/err/echo":
            return 404, f"<html><body>Not found: {self.requestline}</body></html>", "text/html"
        if path == "/err/503":
            return 503, "<html>Service Unavailable</html>", "text/html"
        return 404, "{}", "application/json"

    do_GET = _handle
    do_POST = _handle


@pytest.fixture
def local_binance():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.signatures = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def secrets_for(kind, request) -> tuple[str, str | None, str | None, list[str]]:
    """(secret, key_type, passphrase, forbidden strings)."""
    if kind == "hmac":
        return HMAC_SECRET, None, None, [HMAC_SECRET]
    if kind == "rsa":
        pem = request.getfixturevalue("encrypted_rsa_pem")
        phrase = request.getfixturevalue("passphrase")
        return pem, "rsa", phrase, [*body_lines(pem), phrase]
    pem = request.getfixturevalue("ed25519_pem")
    return pem, None, None, body_lines(pem)


def client_for(base_url, secret, key_type, passphrase):
    clock = FakeClock()
    return connect(
        API_KEY, secret, base_url, key_type=key_type, passphrase=passphrase, clock=clock,
        pacer=WeightPacer(clock), retry_policy=RetryPolicy(rng=random.Random(5)),
    )


def exception_texts(exc: BaseException) -> list[str]:
    texts, seen = [], set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current)]
        texts += [repr(a) for a in current.args]
        stack += [current.__cause__, current.__context__]
    return texts


def assert_clean(texts, forbidden):
    for text in texts:
        for secret in forbidden:
            assert secret not in text, f"leaked {secret[:12]}... in {text[:200]}"


def exercise(client, errors):
    """Success, error and network-failure paths, GET and POST."""
    client.ltv_details()
    client.repay(123456, "USDT", "1")
    calls = [
        ("GET", "/err/json"), ("POST", "/err/json"), ("GET", "/err/echo"), ("POST", "/err/echo"),
        ("POST", "/err/503"), ("GET", "/err/503"), ("POST", "/drop"), ("GET", "/drop"),
    ]
    for method, path in calls:
        with pytest.raises(BinanceLoanError) as info:
            client.signed_request(method, path, {"groupId": 1})
        errors.append(info.value)


@pytest.mark.parametrize("kind", ["hmac", "rsa", "ed25519"])
def test_nothing_secret_in_logs_or_exceptions(kind, request, local_binance, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    secret, key_type, passphrase, forbidden = secrets_for(kind, request)
    base_url = f"http://127.0.0.1:{local_binance.server_address[1]}"
    client = client_for(base_url, secret, key_type, passphrase)
    errors: list[BaseException] = []

    exercise(client, errors)

    signatures = [s for s in local_binance.signatures if len(s) >= 40]
    assert len(signatures) >= 2 * 10
    forbidden = [*forbidden, *signatures]
    # the test is not vacuous: urllib3's request lines and our retry warnings were captured
    assert '"GET /sapi/v1/margin/loan-group/ltv-details?recvWindow=5000&timestamp=' in caplog.text
    assert "signature=***" in caplog.text
    assert "retry 1 in" in caplog.text
    assert_clean([caplog.text, *(r.getMessage() for r in caplog.records)], forbidden)
    for error in errors:
        assert_clean(exception_texts(error), forbidden)
    echo = next(e for e in errors if "Not found: GET /err/echo" in str(e))
    assert "signature=***" in str(echo)
    assert any(isinstance(e, ExecutionUnknownError) and "connection lost after sending" in str(e) for e in errors)
    assert_clean([repr(client), repr(client.session), str(client)], [*forbidden, API_KEY])


@pytest.mark.parametrize("kind", ["hmac", "rsa", "ed25519"])
def test_refused_connection_logs_and_post_errors_are_clean(kind, request, closed_port, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    secret, key_type, passphrase, forbidden = secrets_for(kind, request)
    client = client_for(f"http://127.0.0.1:{closed_port}", secret, key_type, passphrase)
    client.session.server_time.sync(lambda: 1_700_000_040_000)
    errors = []
    for call in (lambda: client.repay(123456, "USDT", "1"), client.ltv_details):
        with pytest.raises(BinanceLoanError) as info:
            call()
        errors.append(info.value)
    assert "could not connect" in str(errors[0])
    assert "Starting new HTTP connection" in caplog.text
    assert_clean([caplog.text], forbidden)
    assert_clean(exception_texts(errors[0]), forbidden)
    # only ***-redacted signatures may appear anywhere in the log
    for line in caplog.text.splitlines():
        for piece in line.split("signature=")[1:]:
            assert piece.startswith("***"), line


def test_refused_get_exception_chain_has_no_signature(closed_port):
    client = client_for(f"http://127.0.0.1:{closed_port}", HMAC_SECRET, None, None)
    client.session.server_time.sync(lambda: 1_700_000_040_000)
    with pytest.raises(BinanceLoanError) as info:
        client.ltv_details(5)
    texts = exception_texts(info.value)
    assert "signature=" in " ".join(texts)
    for text in texts:
        for piece in text.split("signature=")[1:]:
            assert piece.startswith("***"), text[:300]


def test_repr_of_connection_config_hides_secret_passphrase_and_proxy(encrypted_rsa_pem, passphrase):
    config = config_from_connection(
        conn_id="c", login=API_KEY, password=encrypted_rsa_pem, host=None, port=None,
        extra={"private_key_passphrase": passphrase, "key_type": "rsa", "proxy": "http://user:pw@proxy:3128"},
    )
    text = repr(config) + str(config)
    assert_clean([text], [*body_lines(encrypted_rsa_pem), passphrase, "user:pw"])
    assert "key_type='rsa'" in text


def test_repr_of_the_hook_and_its_client(monkeypatch, ed25519_pem):
    from airflow_binance_loan.hooks.credit import BinanceCreditHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_BINANCE_REDACT", json.dumps({"conn_type": "binance_credit", "login": API_KEY,
                                                   "password": ed25519_pem})
    )
    hook = BinanceCreditHook("binance_redact", pacer=WeightPacer(FakeClock()), clock=FakeClock())
    client = hook.get_conn()
    texts = [repr(hook), str(hook), repr(client), repr(client.session), repr(hook.connection_config())]
    assert_clean(texts, body_lines(ed25519_pem))
    assert "binance_redact" in repr(hook)
    assert "ed25519" in repr(client.session)


def test_log_filter_redacts_urllib3_style_records(caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "api.binance.com", 443, "GET",
        "/sapi/v1/x?a=1&signature=0123456789abcdef0123456789abcdef", "HTTP/1.1", 200, 2,
    )
    assert "0123456789abcdef" not in caplog.text
    assert "/sapi/v1/x?a=1&signature=***" in caplog.text
