"""Binance's signature rules, checked the way the exchange checks them: the sandbox's own implementation.

What Binance specifies (``binance-signing-and-limits.md`` §2):

* the signed payload is the query string as sent immediately followed by the body as sent;
* since 2026-01-15 that payload must be percent-encoded: only ``A-Z a-z 0-9 - . _ ~``, the
  delimiters ``=`` ``&`` (and ``+`` for a space, as Binance's own form encoder writes it) and
  ``%XX`` escapes may appear (:func:`is_percent_encoded`);
* HMAC-SHA256 keyed with the secret's ASCII bytes, hex output, **not** case-sensitive;
* RSA: RSASSA-PKCS1-v1_5 with SHA-256, base64 output (case-sensitive);
* Ed25519: RFC 8032 over the payload bytes, base64 output (case-sensitive).

This is a **deliberately independent** implementation: the provider's client has its own signers,
and the sandbox must not borrow them, or an encoding or signing bug in the client would be
accepted by the server instead of caught. ``sandbox/tests/test_sandbox_signatures.py`` checks this module
against Binance's published vectors; the provider's ``tests/integration/test_signing_agrees.py``
checks that the client's signers and these verifiers agree on the same vectors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

KEY_TYPES = ("hmac", "rsa", "ed25519")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DELIMITERS = frozenset(b"=&+")
_HEX_DIGITS = frozenset(b"0123456789ABCDEFabcdef")


def is_percent_encoded(raw: bytes) -> bool:
    """True when every byte is unreserved, a delimiter (``= & +``) or part of a ``%XX`` escape.

    :param raw: the bytes as received (query string or body).
    """
    position = 0
    while position < len(raw):
        byte = raw[position]
        if byte == ord("%"):
            escape = raw[position + 1:position + 3]
            if len(escape) != 2 or not all(digit in _HEX_DIGITS for digit in escape):
                return False
            position += 3
        elif byte in _UNRESERVED or byte in _DELIMITERS:
            position += 1
        else:
            return False
    return True


class Verifier(Protocol):
    """Checks a signature (already percent-decoded) over payload bytes."""

    def verify(self, payload: bytes, signature: str) -> bool:
        """True when ``signature`` is valid for ``payload``.

        :param payload: the signed bytes.
        :param signature: the ``signature`` parameter, percent-decoded.
        """
        ...


class HmacSha256Verifier:
    """HMAC-SHA256 with the API key's secret; hex signatures compared case-insensitively."""

    key_type = "hmac"

    def __init__(self, secret: str) -> None:
        """
        :param secret: the HMAC secret Binance issued with the API key (ASCII).
        """
        self._secret = secret.encode("ascii")

    def verify(self, payload: bytes, signature: str) -> bool:
        """True when ``signature`` is the hex HMAC-SHA256 of ``payload``, in either letter case.

        :param payload: the signed bytes.
        :param signature: the ``signature`` parameter, percent-decoded.
        """
        expected = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("ascii", "replace"))


class PublicKeyVerifier:
    """RSA PKCS#1 v1.5 / SHA-256 or Ed25519, with the public key registered for the API key."""

    def __init__(self, public_key_pem: str) -> None:
        """
        :param public_key_pem: the SPKI PEM public key (``-----BEGIN PUBLIC KEY-----``).
        :raises ValueError: for a key that is neither RSA nor Ed25519, or not a PEM public key.
        """
        key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
        if isinstance(key, rsa.RSAPublicKey):
            self.key_type = "rsa"
        elif isinstance(key, ed25519.Ed25519PublicKey):
            self.key_type = "ed25519"
        else:
            raise ValueError(f"public key type {type(key).__name__} is not RSA or Ed25519")
        self._key = key

    def verify(self, payload: bytes, signature: str) -> bool:
        """True when ``signature`` (standard base64, case-sensitive) verifies over ``payload``.

        :param payload: the signed bytes.
        :param signature: the ``signature`` parameter, percent-decoded.
        """
        try:
            raw = base64.b64decode(signature.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return False
        try:
            if isinstance(self._key, rsa.RSAPublicKey):
                self._key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
            else:
                self._key.verify(raw, payload)
        except InvalidSignature:
            return False
        return True


def verifier_for(key_type: str, key: str) -> Verifier:
    """The verifier for a registered API key.

    :param key_type: ``hmac``, ``rsa`` or ``ed25519``.
    :param key: the HMAC secret, or the SPKI PEM public key.
    :raises ValueError: for an unknown key type, or a public key of another type than ``key_type``.
    """
    if key_type == "hmac":
        return HmacSha256Verifier(key)
    if key_type not in KEY_TYPES:
        raise ValueError(f"unknown key type {key_type!r}")
    verifier = PublicKeyVerifier(key)
    if verifier.key_type != key_type:
        raise ValueError(f"the registered public key is {verifier.key_type}, not {key_type}")
    return verifier
