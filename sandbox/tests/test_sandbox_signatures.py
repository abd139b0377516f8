"""The sandbox's own signature verification against Binance's published vectors (no client code involved).

Vectors from the project's signing reference (``binance-signing-and-limits.md``): §3.1 Binance's
ASCII HMAC example, §3.1b its non-ASCII example and its mixed query + body example, and §3.2 the
repay payload V1 (HMAC with the §3.1 secret, RSA with Binance's published RSA test key, Ed25519 with
the RFC 8032 TEST 1 key). Only public keys appear here: the sandbox verifies, it never signs.
"""

from __future__ import annotations

import pytest

from binance_loan_sandbox.auth import split_signed
from binance_loan_sandbox.errors import SandboxError
from binance_loan_sandbox.params import decode_component
from binance_loan_sandbox.signatures import (
    HmacSha256Verifier,
    PublicKeyVerifier,
    is_percent_encoded,
    verifier_for,
)

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # §3.1
ASCII_PAYLOAD = (
    b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
ASCII_HMAC = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
NON_ASCII_PAYLOAD = (  # §3.1b: the symbol １２３４５６ (full-width digits), percent-encoded before signing
    b"symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC"
    b"&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
NON_ASCII_HMAC = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
MIXED_QUERY = b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"  # §3.1b: query then body, no separator
MIXED_BODY = b"quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
MIXED_HMAC = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"

V1_PAYLOAD = b"groupId=123456&assetName=USDT&amount=100.5&timestamp=1499827319559&recvWindow=5000"  # §3.2
V1_HMAC = "8429f7210f24f9a8bddb055decd15789a01d1ce89c4a92d43a1fc1ba8a6bb139"
V1_ED25519 = "s6cIwiJIGTaDnnyjoVZC1k4u2pBq3dPEHoWs6D2G0VIun7qaQ52YghV7263bF1tl+sq4ouHwMu0jcX50+PwBDg=="
V1_ED25519_SENT = "s6cIwiJIGTaDnnyjoVZC1k4u2pBq3dPEHoWs6D2G0VIun7qaQ52YghV7263bF1tl%2Bsq4ouHwMu0jcX50%2BPwBDg%3D%3D"
ED25519_PUBLIC_PEM = (  # RFC 8032 TEST 1, SPKI as given in §3.2
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "-----END PUBLIC KEY-----\n"
)
V1_RSA = (
    "WICDdK7rkZ9KY731otJSii9/RF3GIrfpkrwDcYY+ckyTmoiPrpRwLh9J2FsFaRbDR5bvDFrtn7FDefYohd7yU+EnDya6zPoRYS5xh/c2Mj/0"
    "zkU2jtBiMjWhe4evw5srE+HDS0HbGAnIjrNEXSU0D06WVtSV0J82w++nx1VaVnNeOJNIqv8HUvhKxHrTrC1LOm2dJ3IKtQNStG+BtbrkL9Fe"
    "EHQ6tb+rnE2OMRyDh8AEE5dhw8n7HIUpvHcnSA+WC0Wtf9J/g+L4YEUqTCbMgqQ+TKuqcCiOAsPDSCQOJ1k3pmVIEOti2rbrcfTZp2G59w0f"
    "j5Kina1owRBCFJBXag=="
)
RSA_TEST_PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAz631jK9sqsSYCXCMgOUw
xaWQZQfRN0TG2xHD2Yo5jw4nImY7kYg9UOqEM4tTBRk2edtx8El3vVxt0TUGiwo8
YvlZC7LwqMc4Lq5Fl6EK9FRychA8Z8kWgs08r7x0ILdCygln6mpWDc9LnnaMZ2J3
Xtwx/7RRV19P605Cciui6TsijgKhNBuzobkFpC75VDvJqsLRjana7ToM75Ezea4W
+VXlgeCRlg3AGBW/QkCPcA+/ySVNV0BiDiRGNy/z4xi3IwxIkTree/0Ut4ujlU4g
IA3IAONObTS4Et9uoX2xHISObSnjsaqxWFX7zivPuKPq61AZzIawYNLSb9X3kCng
JwIDAQAB
-----END PUBLIC KEY-----
"""  # the public half of Binance's RSA-2048 test key (binance-signature-examples, python/private_key.pem)

HMAC_VECTORS = [(ASCII_PAYLOAD, ASCII_HMAC), (NON_ASCII_PAYLOAD, NON_ASCII_HMAC),
                (MIXED_QUERY + MIXED_BODY, MIXED_HMAC), (V1_PAYLOAD, V1_HMAC)]


def flip(text: str) -> str:
    """The same signature with its first character changed (in any letter case)."""
    return ("0" if text[0].lower() != "0" else "1") + text[1:]


@pytest.mark.parametrize(("payload", "signature"), HMAC_VECTORS)
def test_hmac_vectors_verify_in_either_letter_case(payload, signature):
    verifier = HmacSha256Verifier(SECRET)
    assert verifier.verify(payload, signature)
    assert verifier.verify(payload, signature.upper())  # HMAC signatures are not case-sensitive
    assert not verifier.verify(payload + b"0", signature)
    assert not verifier.verify(payload, flip(signature))
    assert not HmacSha256Verifier(SECRET.lower()).verify(payload, signature)  # the secret is case-sensitive
    assert not verifier.verify(payload, "é" * 64)


def test_non_ascii_vector_is_signed_over_the_percent_encoded_bytes():
    assert is_percent_encoded(NON_ASCII_PAYLOAD)
    raw = NON_ASCII_PAYLOAD.replace(b"%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96", "１２３４５６".encode())
    assert not is_percent_encoded(raw)  # raw UTF-8 is refused (-1022) whatever its signature
    assert not HmacSha256Verifier(SECRET).verify(raw, NON_ASCII_HMAC)
    lower_hex = NON_ASCII_PAYLOAD.replace(b"%EF%BC", b"%ef%bc")
    assert not HmacSha256Verifier(SECRET).verify(lower_hex, NON_ASCII_HMAC)  # Binance signs upper-case hex


def test_the_pipeline_signs_query_then_body_with_no_separator():
    signed = split_signed(MIXED_QUERY, MIXED_BODY + b"&signature=" + MIXED_HMAC.encode())
    assert signed.payload == MIXED_QUERY + MIXED_BODY
    assert signed.signature == MIXED_HMAC
    assert HmacSha256Verifier(SECRET).verify(signed.payload, signed.signature)
    assert signed.params.raw("symbol") == "LTCBTC" and signed.params.raw("timestamp") == "1499827319559"
    in_query = split_signed(MIXED_QUERY + b"&signature=" + MIXED_HMAC.encode(), MIXED_BODY)
    assert in_query.payload == MIXED_QUERY + MIXED_BODY  # the signature may sit at the end of either part


def test_the_non_ascii_vector_passes_the_pipeline_and_decodes_to_the_full_width_symbol():
    signed = split_signed(NON_ASCII_PAYLOAD + b"&signature=" + NON_ASCII_HMAC.encode(), b"")
    assert HmacSha256Verifier(SECRET).verify(signed.payload, signed.signature)
    assert signed.params.raw("symbol") == "１２３４５６"
    with pytest.raises(SandboxError) as info:
        split_signed("symbol=１２３４５６&timestamp=1&signature=00".encode(), b"")
    assert info.value.code == -1022


def test_repay_v1_ed25519_vector_as_sent_and_decoded():
    verifier = verifier_for("ed25519", ED25519_PUBLIC_PEM)
    assert is_percent_encoded(V1_ED25519_SENT.encode())
    assert decode_component(V1_ED25519_SENT.encode()) == V1_ED25519
    assert verifier.verify(V1_PAYLOAD, V1_ED25519)
    assert not verifier.verify(V1_PAYLOAD, V1_ED25519.lower())  # base64 signatures are case-sensitive
    assert not verifier.verify(V1_PAYLOAD.replace(b"100.5", b"100.6"), V1_ED25519)
    assert not verifier.verify(V1_PAYLOAD, V1_ED25519_SENT)  # still percent-encoded: not base64
    assert not verifier.verify(V1_PAYLOAD, flip(V1_ED25519))


def test_repay_v1_rsa_vector_with_binances_published_test_key():
    verifier = verifier_for("rsa", RSA_TEST_PUBLIC_PEM)
    assert verifier.verify(V1_PAYLOAD, V1_RSA)
    assert len(V1_RSA) == 344
    assert not verifier.verify(V1_PAYLOAD + b"&x=1", V1_RSA)
    assert not verifier.verify(V1_PAYLOAD, flip(V1_RSA))
    assert not verifier.verify(V1_PAYLOAD, "not base64!")


def test_key_types_must_match_the_registered_key():
    assert isinstance(verifier_for("hmac", SECRET), HmacSha256Verifier)
    assert PublicKeyVerifier(RSA_TEST_PUBLIC_PEM).key_type == "rsa"
    assert PublicKeyVerifier(ED25519_PUBLIC_PEM).key_type == "ed25519"
    with pytest.raises(ValueError):
        verifier_for("ed25519", RSA_TEST_PUBLIC_PEM)
    with pytest.raises(ValueError):
        verifier_for("dsa", RSA_TEST_PUBLIC_PEM)


@pytest.mark.parametrize(("raw", "encoded"), [
    (b"", True), (b"a=1&b=2", True), (b"note=a+b", True), (b"email=a%40b.c", True), (b"x=%2b", True),
    (b"email=a@b.c", False), (b"x=a,b", False), (b"x=%2", False), (b"x=%zz", False), (b"x=a b", False),
    (b"x=a/b", False), (b"x=\xff", False),
])
def test_percent_encoding_rule(raw, encoded):
    assert is_percent_encoded(raw) is encoded
