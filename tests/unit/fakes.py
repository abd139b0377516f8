"""Shared fakes and constants for the unit tests (no Airflow import here)."""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
from urllib.parse import unquote

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from airflow_binance_loan.client.loan_api import LoanClient
from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.client.retry import RetryPolicy
from airflow_binance_loan.client.session import BinanceSession
from airflow_binance_loan.client.signing import HmacSigner

BASE = "https://api.binance.com"
TIME_URL = f"{BASE}/api/v3/time"
REPAY_URL = f"{BASE}/sapi/v1/margin/loan-group/repay"
BORROW_URL = f"{BASE}/sapi/v1/margin/loan-group/borrow"
LTV_URL = f"{BASE}/sapi/v1/margin/loan-group/ltv-details"
RECORDS_URL = f"{BASE}/sapi/v1/margin/loan-group/borrow-repay"
RESTRICTIONS_URL = f"{BASE}/sapi/v1/account/apiRestrictions"

# Binance's official documentation vector (request-security page).
OFFICIAL_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
OFFICIAL_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
OFFICIAL_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
OFFICIAL_HMAC = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"

# Repay payload V1 (reference §3.2).
V1_PAYLOAD = "groupId=123456&assetName=USDT&amount=100.5&timestamp=1499827319559&recvWindow=5000"
V1_HMAC = "8429f7210f24f9a8bddb055decd15789a01d1ce89c4a92d43a1fc1ba8a6bb139"
V1_ED25519 = "s6cIwiJIGTaDnnyjoVZC1k4u2pBq3dPEHoWs6D2G0VIun7qaQ52YghV7263bF1tl+sq4ouHwMu0jcX50+PwBDg=="
V1_RSA = (
    "WICDdK7rkZ9KY731otJSii9/RF3GIrfpkrwDcYY+ckyTmoiPrpRwLh9J2FsFaRbDR5bvDFrtn7FDefYohd7yU+EnDya6zPoRYS5xh/c2Mj/0"
    "zkU2jtBiMjWhe4evw5srE+HDS0HbGAnIjrNEXSU0D06WVtSV0J82w++nx1VaVnNeOJNIqv8HUvhKxHrTrC1LOm2dJ3IKtQNStG+BtbrkL9Fe"
    "EHQ6tb+rnE2OMRyDh8AEE5dhw8n7HIUpvHcnSA+WC0Wtf9J/g+L4YEUqTCbMgqQ+TKuqcCiOAsPDSCQOJ1k3pmVIEOti2rbrcfTZp2G59w0f"
    "j5Kina1owRBCFJBXag=="
)

# RFC 8032 §7.1 TEST 1 private key as PKCS#8 PEM (reference §3.2).
ED25519_RFC8032_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n"
)
ED25519_RFC8032_PUBLIC_B64 = "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

# Unencrypted RSA-2048 PKCS#8 test key published by Binance in binance/binance-signature-examples,
# python/private_key.pem at commit 6fcc9942d45ff7bfc38d3e7def9b8c30ed659ec8 (a public test key).
BINANCE_RSA_TEST_PEM = """-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDPrfWMr2yqxJgJ
cIyA5TDFpZBlB9E3RMbbEcPZijmPDiciZjuRiD1Q6oQzi1MFGTZ523HwSXe9XG3R
NQaLCjxi+VkLsvCoxzgurkWXoQr0VHJyEDxnyRaCzTyvvHQgt0LKCWfqalYNz0ue
doxnYnde3DH/tFFXX0/rTkJyK6LpOyKOAqE0G7OhuQWkLvlUO8mqwtGNqdrtOgzv
kTN5rhb5VeWB4JGWDcAYFb9CQI9wD7/JJU1XQGIOJEY3L/PjGLcjDEiROt57/RS3
i6OVTiAgDcgA405tNLgS326hfbEchI5tKeOxqrFYVfvOK8+4o+rrUBnMhrBg0tJv
1feQKeAnAgMBAAECggEAUdB8PZIWQyfzpTRbhaPElPhmbAaqWxWTKVZUS2zyw/KV
ZC3WJb0AOtJIhm3KpOWL2nGi70BiFY1GDfbPvxKnO25zr/IscLEa5vjsnZFp2Vsz
QtA2m8RSQ/FKiQi6zvCjNSiDcYu2nvYdGi4lnczirdIdOFj2+m6n81D/SC78nNhj
P/JLbSPFw+XOfVqOVelXHw7XGtMH9dgFjWDdB317HcJjZyPDahpQQ7s6PcecDwuv
Qucs+Hi4sAWiHOiwKusx3sT/NL5Og/jAvC5aMy1QswWFnPr90T3qFE4MN1GZszzX
DmDkWaGaRwuwdpi/ocIZF3R9XX3m+WOVdEZRfzzcEQKBgQDt11achN666/j1kgQM
xPdzo06eUUZb/JUtEXz8hU+AzRsN/eso/47pjaPq7nrXFYE4aEx7Je2I9S52Y+b/
SLrctuza25VOxvqIpDynlvM/Iatg9WuTEIuOk7gkBFanDNjDjZDKFuDYSEfN+sX+
UakFT7cm+xu12PWR8HlZmFZL5QKBgQDfiRrC8zADSIE74uFBJ5K88t6cwrktqdPH
9QT69j+VpRXssyUoCfR4/zchKbEyTwSASvL1saJR14Opmvn6Le+0DKq+EV7Z1UM6
svVIzd9pWWMhRh9G83CC5Krx9Ie+34QHNRxBf+rya5if/aBCDtBFedRGbR6Le8MB
yvrpT5hzGwKBgQCU2+QPjnHA2BQ3zq3OODEQJTP9jqzUwd+0F2/8tIsv+C9osHXQ
cTLHJqljTuN/XqxD27OSmAh1Yc80tg5L1P9vSOYxjKGEbrE7eF+mHKod5zrWMoSj
xQUztWzYzgZWA4pfymjGs08Czypx1vS42e9JrbzaHuwXArWgI7wvwVKxqQKBgQCS
ByIZav7Zljr+oUdf5fdBQjPVGowYXZJBVTpMrCN7od4BxEIotuAjTy53lqHwaJhb
KxsvED0m0/BqExjsq6ek6oV8JyLckSobJZ+BUSR60O8mZIW4Nv4wNCvMZl9rfN7m
SnbL/0G/3jRViD1yCfVa/ayD2XMT0eThvfVOBzZjMwKBgB5jasP9TcDAyaEKta+g
6glTM0MKUWfhZzYRbvDXdnatjjMEdixWm9aXwc0Nw+aN0KkdLBwvnDiVMtX+Xl2n
BU2Gxxe3H8qrvkoi8zmzh3VWpqzfB+L3sXAq+6VNNYLEFLBR6D2u4DD86FvY+DsU
miJlY6JEKpSxvkrS04XrbvHk
-----END PRIVATE KEY-----
"""

API_KEY = "TestApiKey0123456789abcdefABCDEF"
HMAC_SECRET = "TestHmacSecretXy7Qp2Lm9Rt4Vw6Zs8Nb1Kd3Fg5Hj0"

# A whole minute in server time: 1_700_000_040 s is exactly on a 60 s boundary.
T0 = 1_700_000_040.0


class FakeClock:
    """Clock protocol double: sleep() advances time instantly and records the call."""

    def __init__(self, start: float = T0) -> None:
        self._lock = threading.Lock()
        self.now = start
        self.mono = 10_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        with self._lock:
            return self.now

    def monotonic(self) -> float:
        with self._lock:
            return self.mono

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self.now += seconds
                self.mono += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            self.mono += seconds


def make_session(
    clock: FakeClock,
    *,
    signer: object | None = None,
    base_url: str = BASE,
    api_key: str = API_KEY,
    seed: int = 7,
    pacer: WeightPacer | None = None,
    retry_policy: RetryPolicy | None = None,
    **options: object,
) -> BinanceSession:
    """A session wired to the fake clock: its own pacer, seeded jitter, never the shared pacer."""
    return BinanceSession(
        api_key,
        signer or HmacSigner(HMAC_SECRET),  # type: ignore[arg-type]
        base_url,
        clock=clock,
        pacer=pacer or WeightPacer(clock),
        retry_policy=retry_policy or RetryPolicy(rng=random.Random(seed)),
        **options,  # type: ignore[arg-type]
    )


def make_client(clock: FakeClock, **kwargs: object) -> LoanClient:
    return LoanClient(make_session(clock, **kwargs))  # type: ignore[arg-type]


def serve_time(requests_mock, clock: FakeClock, offset_ms: float = 0.0, rtt: float = 0.0, base: str = BASE):
    """Register /api/v3/time: server clock = fake clock + offset; the round trip takes ``rtt`` seconds."""

    def answer(request, context):
        clock.advance(rtt / 2)
        server = int(clock.time() * 1000 + offset_ms)
        clock.advance(rtt / 2)
        return {"serverTime": server}

    return requests_mock.get(f"{base}/api/v3/time", json=answer)


def hmac_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def split_signature(text: str) -> tuple[str, str]:
    """Split ``...&signature=X`` (signature last) into the signed part and the raw (encoded) signature."""
    signed, sep, signature = text.rpartition("&signature=")
    if not sep:
        assert text.startswith("signature="), text
        return "", text[len("signature="):]
    assert "&" not in signature and "signature=" not in signed, text
    return signed, signature


def decoded_signature(text: str) -> str:
    return unquote(split_signature(text)[1])


def refused_error(url: str = BASE) -> requests.exceptions.ConnectionError:
    """What requests raises when the TCP connection is refused (the request never left)."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, url, reason))


def dropped_error() -> requests.exceptions.ConnectionError:
    """What requests raises when the server drops the connection after the request was written."""
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    )


def fast_settings(**kwargs: object):
    """Hypothesis settings for this suite: no example database written into the checkout."""
    from hypothesis import settings

    kwargs.setdefault("database", None)
    kwargs.setdefault("deadline", None)
    return settings(**kwargs)  # type: ignore[arg-type]
