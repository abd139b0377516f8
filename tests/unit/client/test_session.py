"""The exact bytes a signed call puts on the wire (requests-mock, fake clock)."""

from __future__ import annotations

import base64
from urllib.parse import unquote, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from airflow_binance_loan.client import connect
from airflow_binance_loan.client.base_url import check_base_url
from airflow_binance_loan.client.session import BinanceSession
from airflow_binance_loan.client.signing import HmacSigner, load_signer
from airflow_binance_loan.exceptions import ConfigurationError

from ..fakes import (
    API_KEY,
    BASE,
    BINANCE_RSA_TEST_PEM,
    ED25519_RFC8032_PEM,
    HMAC_SECRET,
    LTV_URL,
    REPAY_URL,
    T0,
    hmac_hex,
    make_client,
    serve_time,
    split_signature,
)

OFFSET_MS = 5_000  # Binance's clock runs 5 s ahead of ours
EXPECTED_TS = int(T0 * 1000 + OFFSET_MS - 100)  # server time minus the 100 ms safety margin
REPAY_OK = {"transactionId": 12317283617, "amount": "100.5", "repayFrom": "MARGIN"}


def query_of(request) -> str:
    return urlsplit(request.url).query


def test_get_puts_everything_in_the_query_with_signature_last(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, OFFSET_MS)
    ltv = requests_mock.get(LTV_URL, json=[])
    client = make_client(fake_clock, recv_window=7000)

    assert client.ltv_details(group_id="123456") == []

    sent = ltv.last_request
    query = query_of(sent)
    assert query == (
        f"groupId=123456&recvWindow=7000&timestamp={EXPECTED_TS}&signature="
        + hmac_hex(HMAC_SECRET, f"groupId=123456&recvWindow=7000&timestamp={EXPECTED_TS}")
    )
    assert not sent.body
    assert sent.headers["X-MBX-APIKEY"] == API_KEY
    assert "Content-Type" not in sent.headers


def test_post_sends_a_form_body_with_signature_last(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, OFFSET_MS)
    repay = requests_mock.post(REPAY_URL, json=REPAY_OK)
    client = make_client(fake_clock)

    client.repay(123456, "USDT", "100.50", repay_from="SPOT")

    sent = repay.last_request
    assert sent.url == REPAY_URL  # nothing in the query string
    signed = f"groupId=123456&assetName=USDT&amount=100.5&repayFrom=SPOT&recvWindow=5000&timestamp={EXPECTED_TS}"
    assert sent.body == f"{signed}&signature={hmac_hex(HMAC_SECRET, signed)}".encode("ascii")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.headers["X-MBX-APIKEY"] == API_KEY
    assert sent.headers["Content-Length"] == str(len(sent.body))


def test_signature_covers_exactly_the_encoded_bytes_sent(requests_mock, fake_clock):
    """Reserved characters are encoded once; the signature is over that encoded text."""
    serve_time(requests_mock, fake_clock)
    get = requests_mock.get(f"{BASE}/sapi/v1/test/echo", json={})
    post = requests_mock.post(f"{BASE}/sapi/v1/test/echo", json={})
    client = make_client(fake_clock)

    client.signed_request("GET", "/sapi/v1/test/echo", {"email": "a+b@x.com", "note": "美元 x/y"})
    client.signed_request("POST", "/sapi/v1/test/echo", {"email": "a+b@x.com", "note": "美元 x/y"})

    for sent_text in (query_of(get.last_request), post.last_request.body.decode("ascii")):
        signed, signature = split_signature(sent_text)
        assert signed.startswith("email=a%2Bb%40x.com&note=%E7%BE%8E%E5%85%83+x%2Fy&recvWindow=5000&timestamp=")
        assert signature == hmac_hex(HMAC_SECRET, signed)


@pytest.mark.parametrize("pem", [BINANCE_RSA_TEST_PEM, ED25519_RFC8032_PEM], ids=["rsa", "ed25519"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_base64_signature_is_percent_encoded_exactly_once(requests_mock, fake_clock, pem, method):
    serve_time(requests_mock, fake_clock)
    route = requests_mock.register_uri(method, f"{BASE}/sapi/v1/test/echo", json={})
    signer = load_signer(pem)
    client = make_client(fake_clock, signer=signer)

    client.signed_request(method, "/sapi/v1/test/echo", {"groupId": 99})

    sent = route.last_request
    text = query_of(sent) if method == "GET" else sent.body.decode("ascii")
    signed, encoded = split_signature(text)
    assert encoded.endswith("%3D%3D")  # 64- and 256-byte signatures both end with "=="
    assert not set("+/=") & set(encoded)
    assert "%25" not in encoded  # never encoded twice
    raw_b64 = unquote(encoded)
    assert raw_b64 == signer.sign(signed.encode("ascii"))
    raw = base64.b64decode(raw_b64, validate=True)
    public = serialization.load_pem_private_key(pem.encode(), None).public_key()
    if signer.key_type == "rsa":
        assert len(raw_b64) == 344
        public.verify(raw, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        assert len(raw_b64) == 88
        public.verify(raw, signed.encode())


def test_rsa_signature_with_plus_and_slash_is_encoded(requests_mock, fake_clock):
    """A 344-character base64 RSA signature practically always holds '+' and '/'."""
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, json=REPAY_OK)
    client = make_client(fake_clock, signer=load_signer(BINANCE_RSA_TEST_PEM))
    client.repay(123456, "USDT", "100.5")
    _, encoded = split_signature(repay.last_request.body.decode())
    assert "%2B" in encoded and "%2F" in encoded


def test_timestamp_follows_server_time_and_recv_window_is_sent(requests_mock, fake_clock):
    time_route = serve_time(requests_mock, fake_clock, offset_ms=-3_250, rtt=0.4)
    ltv = requests_mock.get(LTV_URL, json=[])
    client = make_client(fake_clock, recv_window=60000)

    client.ltv_details()

    assert time_route.call_count == 1
    params = dict(pair.split("=") for pair in query_of(ltv.last_request).split("&"))
    # offset measured at the midpoint of a 400 ms round trip: exactly -3250 ms
    assert int(params["timestamp"]) == int(fake_clock.time() * 1000 - 3_250 - 100)
    assert params["recvWindow"] == "60000"


def test_unsigned_server_time_call_carries_no_key_or_signature(requests_mock, fake_clock):
    time_route = serve_time(requests_mock, fake_clock)
    requests_mock.get(LTV_URL, json=[])
    make_client(fake_clock).ltv_details()
    sent = time_route.last_request
    assert query_of(sent) == ""
    assert "X-MBX-APIKEY" not in sent.headers


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:9000", "http://127.0.0.2", BASE, BASE + "/"],
)
def test_loopback_http_and_https_base_urls_are_accepted(url):
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["http://example.com", "http://api.binance.com", "http://localhost.example.com", "http://10.0.0.1:8080"]
)
def test_plain_http_to_a_remote_host_is_refused(url):
    with pytest.raises(ConfigurationError, match=r"refusing plain-http base URL .*HTTPS"):
        check_base_url(url)
    with pytest.raises(ConfigurationError, match="refusing plain-http"):
        BinanceSession(API_KEY, HmacSigner(HMAC_SECRET), url)
    with pytest.raises(ConfigurationError, match="refusing plain-http"):
        connect(API_KEY, HMAC_SECRET, url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://api.binance.com", "expected https://host"),
        ("https://api.binance.com/sapi", "only scheme, host and port"),
        ("https://user@api.binance.com", "only scheme, host and port"),
    ],
)
def test_malformed_base_urls(url, message):
    with pytest.raises(ConfigurationError, match=message):
        check_base_url(url)


def test_loopback_http_really_sends_there(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, base="http://127.0.0.1:8080")
    ltv = requests_mock.get("http://127.0.0.1:8080/sapi/v1/margin/loan-group/ltv-details", json=[])
    make_client(fake_clock, base_url="http://127.0.0.1:8080").ltv_details()
    assert ltv.call_count == 1


@pytest.mark.parametrize("name", ["timestamp", "recvWindow", "signature"])
def test_control_parameters_cannot_be_passed(requests_mock, fake_clock, name):
    client = make_client(fake_clock)
    with pytest.raises(ConfigurationError, match=f"parameter '{name}' is set by the client"):
        client.signed_request("GET", "/sapi/v1/test/echo", {name: "1"})
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("api_key", ["", "with space", "clé"])
def test_bad_api_key_refused(api_key):
    with pytest.raises(ConfigurationError, match="API key must be"):
        BinanceSession(api_key, HmacSigner(HMAC_SECRET))
