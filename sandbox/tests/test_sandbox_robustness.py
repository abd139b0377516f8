"""Malformed HTTP never crashes or hangs the sandbox: every answer is Binance-shaped JSON."""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from binance_loan_sandbox.server import LISTEN_BACKLOG

pytestmark = pytest.mark.integration

LTV = "/sapi/v1/margin/loan-group/ltv-details"


def still_alive(server) -> bool:
    return requests.get(f"{server.url}/api/v3/time", timeout=5).status_code == 200


def test_huge_body_is_413(sandbox):
    response = requests.post(f"{sandbox.url}/sapi/v1/margin/loan-group/repay", data=b"a=" + b"x" * 200_000,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert response.status_code == 413 and response.json()["code"] == -1100
    assert still_alive(sandbox)


def test_absurd_content_length_is_refused_without_reading(sandbox, raw_socket):
    reply = raw_socket(sandbox, b"POST /sapi/v1/margin/loan-group/repay HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: 999999999\r\n\r\nabc")
    assert reply.status == 413 and reply.json()["code"] == -1100


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1, 2"])
def test_bad_content_length(sandbox, raw_socket, length):
    reply = raw_socket(sandbox, b"POST /api/v3/time HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n")
    assert reply.status == 400 and reply.json()["code"] == -1100


def test_body_shorter_than_content_length(sandbox, raw_socket):
    reply = raw_socket(sandbox, b"POST /api/v3/time HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort",
                       shutdown_write=True)
    assert reply.status == 400 and "shorter" in reply.json()["msg"]


def test_chunked_body_is_refused(sandbox, raw_socket):
    reply = raw_socket(sandbox, b"POST /api/v3/time HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"0\r\n\r\n")
    assert reply.status == 411 and reply.json()["code"] == -1100


def test_garbage_request_line_and_unknown_method(sandbox, raw_socket):
    reply = raw_socket(sandbox, b"THIS IS NOT HTTP\r\n\r\n")
    assert reply.status == 400 and reply.json()["code"] == -1100
    reply = raw_socket(sandbox, b"BREW /api/v3/time HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.status == 501 and reply.json()["code"] == -1020
    assert still_alive(sandbox)


def test_non_utf8_bytes(sandbox, raw, raw_socket):
    ts = sandbox.now_ms() - 10
    encoded = f"groupId=10001&note=%FF%FE&timestamp={ts}"  # well encoded, but not UTF-8 once decoded
    assert raw.call("GET", LTV, query=encoded).json()["code"] == -1100
    reply = raw_socket(sandbox, b"GET " + LTV.encode() + b"?groupId=\xff\xfe&timestamp=1&signature=00 HTTP/1.1\r\n"
                                b"Host: x\r\nX-MBX-APIKEY: " + raw.creds["credit_hmac"]["apiKey"].encode() +
                                b"\r\n\r\n")
    assert reply.status == 400 and reply.json()["code"] == -1022
    reply = raw_socket(sandbox, b"GET " + LTV.encode() + b" HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: \xff\xfe\r\n\r\n")
    assert reply.status == 401 and reply.json()["code"] == -2014


@pytest.mark.parametrize("query", ["%zz=1&signature=ab", "&&&=&signature=", "signature", "=x&signature=%"])
def test_malformed_query_strings(sandbox, raw, query):
    response = requests.get(f"{sandbox.url}{LTV}?{query}",
                            headers={"X-MBX-APIKEY": raw.creds["credit_hmac"]["apiKey"]}, timeout=5)
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "msg"}


def test_missing_api_key_header(sandbox):
    response = requests.get(f"{sandbox.url}{LTV}?timestamp=1&signature=00", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}


def test_unknown_path_and_wrong_method(sandbox):
    missing = requests.get(f"{sandbox.url}/sapi/v1/margin/loan-group/nothing", timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == -1099
    wrong = requests.get(f"{sandbox.url}/sapi/v1/margin/loan-group/repay", timeout=5)
    assert wrong.status_code == 405 and wrong.json()["code"] == -1020
    assert sandbox.endpoint_counts == {}
    assert sandbox.request_count == 2


def test_keep_alive_connection_is_reused_and_cut_on_stop(sandbox_factory):
    server = sandbox_factory()
    url = server.url
    session = requests.Session()
    for _ in range(3):
        assert session.get(f"{url}/api/v3/time", timeout=5).status_code == 200
    assert len(server._httpd._connections) == 1  # one keep-alive connection served all three
    server.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(f"{url}/api/v3/time", timeout=2)
    assert server.request_count == 3


def test_a_burst_of_50_concurrent_connections_is_answered(sandbox):
    """Each its own connection. A full listen backlog resets (tcp_abort_on_overflow) or drops the SYN, which
    the client retransmits after >= 1 s, so a quick connect shows the backlog held them all."""
    assert LISTEN_BACKLOG >= 128
    parts = urlsplit(sandbox.url)
    barrier = threading.Barrier(50)
    results: list[tuple[int, float] | str] = []
    lock = threading.Lock()

    def one() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            barrier.wait(timeout=10)
            started = time.monotonic()
            connection.connect()
            connect_seconds = time.monotonic() - started
            connection.request("GET", "/api/v3/time")
            response = connection.getresponse()
            response.read()
            result: tuple[int, float] | str = (response.status, connect_seconds)
        except (OSError, http.client.HTTPException) as exc:
            result = repr(exc)
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r[0] if isinstance(r, tuple) else r for r in results] == [200] * 50
    slowest = max(r[1] for r in results if isinstance(r, tuple))
    assert slowest < 0.9, f"a connect took {slowest:.2f} s: SYN dropped, listen backlog too small"
    assert sandbox.endpoint_counts["server_time"] == 50
