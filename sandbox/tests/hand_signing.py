"""Signing by hand for the sandbox's tests: Binance's three signature kinds, with hmac and cryptography only.

The sandbox never signs (it verifies, :mod:`binance_loan_sandbox.signatures`); its tests play the
client, so they need a signer that shares no code with either the sandbox or the provider's client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa


def sign(secret: str, key_type: str, payload: bytes) -> str:
    """Binance's signature over ``payload``: HMAC-SHA256 hex, or RSA PKCS#1 v1.5 SHA-256 / Ed25519 base64."""
    if key_type == "hmac":
        return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    key = serialization.load_pem_private_key(secret.encode(), None)
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        raw = key.sign(payload)
    return base64.b64encode(raw).decode()


def public_key_pem(private_pem: str) -> str:
    """The SPKI PEM public key of a demo private key (what the state file registers)."""
    key = serialization.load_pem_private_key(private_pem.encode(), None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
