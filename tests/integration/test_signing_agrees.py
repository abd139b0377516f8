"""The client's signers and the sandbox's verifiers agree on Binance's published vectors.

The two sides are independent implementations of Binance's signing rules (the sandbox must not
import the client). Here, and only here, both meet: the client must produce each vector, and the
sandbox must accept exactly what the client produced. A shared bug would have to be in both.
Vectors: binance-signing-and-limits.md §3.1 (ASCII HMAC), §3.1b (non-ASCII, mixed query + body) and
§3.2 (repay payload V1: HMAC, RSA, Ed25519).
"""

from __future__ import annotations

import pytest
from binance_loan_sandbox.auth import split_signed
from binance_loan_sandbox.signatures import is_percent_encoded, verifier_for
from unit.fakes import (
    BINANCE_RSA_TEST_PEM,
    ED25519_RFC8032_PEM,
    OFFICIAL_HMAC,
    OFFICIAL_PAYLOAD,
    OFFICIAL_SECRET,
    V1_ED25519,
    V1_HMAC,
    V1_PAYLOAD,
    V1_RSA,
)

from airflow_binance_loan.client.encoding import encode_params, percent_encode, signature_payload
from airflow_binance_loan.client.signing import load_signer, public_key_pem

NON_ASCII_PARAMS = [("symbol", "１２３４５６"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
                    ("quantity", "1"), ("price", "0.1"), ("recvWindow", "5000"), ("timestamp", "1499827319559")]
NON_ASCII_HMAC = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
MIXED_HMAC = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"


def sent_by_the_client(payload: bytes, secret: str) -> bytes:
    """The request the client would send with everything in the query string: payload + signature, encoded."""
    return payload + b"&signature=" + percent_encode(load_signer(secret).sign(payload)).encode()


@pytest.mark.parametrize(("payload", "vector"), [(OFFICIAL_PAYLOAD.encode(), OFFICIAL_HMAC),
                                                 (V1_PAYLOAD.encode(), V1_HMAC)])
def test_ascii_hmac_vectors(payload, vector):
    signature = load_signer(OFFICIAL_SECRET).sign(payload)
    assert signature == vector
    assert verifier_for("hmac", OFFICIAL_SECRET).verify(payload, signature)


def test_non_ascii_vector_client_encodes_signs_and_the_sandbox_accepts():
    payload = signature_payload(encode_params(NON_ASCII_PARAMS), "")
    assert payload.startswith(b"symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY")
    assert load_signer(OFFICIAL_SECRET).sign(payload) == NON_ASCII_HMAC
    assert is_percent_encoded(payload)
    signed = split_signed(sent_by_the_client(payload, OFFICIAL_SECRET), b"")
    assert signed.payload == payload and signed.params.raw("symbol") == "１２３４５６"
    assert verifier_for("hmac", OFFICIAL_SECRET).verify(signed.payload, signed.signature)


def test_mixed_query_and_body_vector():
    query = encode_params(NON_ASCII_PARAMS[:4]).replace(percent_encode("１２３４５６"), "LTCBTC")
    body = encode_params(NON_ASCII_PARAMS[4:])
    payload = signature_payload(query, body)
    signature = load_signer(OFFICIAL_SECRET).sign(payload)
    assert signature == MIXED_HMAC
    signed = split_signed(query.encode(), body.encode() + b"&signature=" + signature.encode())
    assert signed.payload == payload
    assert verifier_for("hmac", OFFICIAL_SECRET).verify(signed.payload, signed.signature)


@pytest.mark.parametrize(("key_type", "private_pem", "vector"), [("ed25519", ED25519_RFC8032_PEM, V1_ED25519),
                                                                 ("rsa", BINANCE_RSA_TEST_PEM, V1_RSA)])
def test_repay_v1_public_key_vectors(key_type, private_pem, vector):
    payload = V1_PAYLOAD.encode()
    signer = load_signer(private_pem)
    assert signer.key_type == key_type
    assert signer.sign(payload) == vector
    signed = split_signed(sent_by_the_client(payload, private_pem), b"")  # '+', '/', '=' travel as %2B %2F %3D
    assert signed.signature == vector
    assert verifier_for(key_type, public_key_pem(private_pem)).verify(signed.payload, signed.signature)


def test_the_sandbox_refuses_what_the_client_must_never_send():
    payload = V1_PAYLOAD.encode()
    unencoded = payload + b"&signature=" + load_signer(ED25519_RFC8032_PEM).sign(payload).encode()
    signed = split_signed(unencoded, b"")  # an unencoded '+' in base64 arrives as a space
    assert " " in signed.signature
    assert not verifier_for("ed25519", public_key_pem(ED25519_RFC8032_PEM)).verify(signed.payload, signed.signature)
    other = load_signer(OFFICIAL_SECRET[::-1]).sign(payload)
    assert not verifier_for("hmac", OFFICIAL_SECRET).verify(payload, other)
