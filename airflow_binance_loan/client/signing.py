"""Request signatures: HMAC-SHA256 (hex), RSA PKCS#1 v1.5 SHA-256 and Ed25519 (base64).

Signers hold the secret and never show it (``repr`` names only the key type).
The local sandbox (``binance-loan-sandbox``) verifies with its own, independent code;
``tests/integration/test_signing_agrees.py`` checks that both sides agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from airflow_binance_loan.exceptions import ConfigurationError

KeyType = Literal["hmac", "rsa", "ed25519"]
KEY_TYPES: tuple[KeyType, ...] = ("hmac", "rsa", "ed25519")
RSA_KEY_SIZES = (2048, 4096)


class Signer(Protocol):
    """Signs payload bytes; returns the signature text before percent-encoding."""

    key_type: KeyType

    def sign(self, payload: bytes) -> str: ...


class HmacSigner:
    """HMAC-SHA256 over the payload, hex output (64 characters)."""

    key_type: KeyType = "hmac"

    def __init__(self, secret: str) -> None:
        if not secret or not secret.isascii() or any(c.isspace() for c in secret):
            raise ConfigurationError("HMAC secret key must be non-empty printable ASCII without spaces")
        self.__key = secret.encode("ascii")

    def sign(self, payload: bytes) -> str:
        return hmac.new(self.__key, payload, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "HmacSigner(<secret hidden>)"


class RsaSigner:
    """RSASSA-PKCS1-v1_5 with SHA-256, base64 output."""

    key_type: KeyType = "rsa"

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        if key.key_size not in RSA_KEY_SIZES:
            raise ConfigurationError(f"RSA key size {key.key_size} not supported by Binance (2048 or 4096)")
        self.__key = key

    def sign(self, payload: bytes) -> str:
        raw = self.__key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        return f"RsaSigner(<{self.__key.key_size}-bit private key hidden>)"


class Ed25519Signer:
    """Ed25519 (RFC 8032) over the payload, base64 output (88 characters)."""

    key_type: KeyType = "ed25519"

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self.__key = key

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self.__key.sign(payload)).decode("ascii")

    def __repr__(self) -> str:
        return "Ed25519Signer(<private key hidden>)"


def detect_key_type(secret: str) -> KeyType:
    """Guess the key type from the secret: a PEM private key is RSA or Ed25519, else HMAC."""
    if "PRIVATE KEY-----" not in secret:
        return "hmac"
    key = _load_private_key(secret, None, allow_encrypted_probe=True)
    if key is None:
        raise ConfigurationError(
            "the private key is encrypted: set key_type and private_key_passphrase in the connection extra"
        )
    return _private_key_type(key)


def load_signer(secret: str, key_type: str | None = None, passphrase: str | None = None) -> Signer:
    """Build the signer for a connection's secret (HMAC secret or PEM private key).

    :param secret: the HMAC secret, or an RSA / Ed25519 PKCS#8 private key in PEM (line breaks may be lost).
    :param key_type: ``hmac``, ``rsa`` or ``ed25519``; detected from ``secret`` when omitted.
    :param passphrase: the PEM key's passphrase, if it is encrypted.
    """
    secret = normalize_pem(secret or "")
    if not secret:
        raise ConfigurationError("no secret: put the HMAC secret or the PEM private key in the password field")
    kind = (key_type or "").strip().lower() or None
    if kind is not None and kind not in KEY_TYPES:
        raise ConfigurationError(f"invalid key_type={key_type!r}: expected one of {', '.join(KEY_TYPES)}")
    if kind is None:
        kind = "hmac" if "PRIVATE KEY-----" not in secret else None
    if kind == "hmac":
        if "PRIVATE KEY-----" in secret:
            raise ConfigurationError("key_type is hmac but the password holds a PEM private key")
        return HmacSigner(secret)
    key = _load_private_key(secret, passphrase)
    assert key is not None
    actual = _private_key_type(key)
    if kind is not None and kind != actual:
        raise ConfigurationError(f"key_type is {kind} but the private key is {actual}")
    if isinstance(key, rsa.RSAPrivateKey):
        return RsaSigner(key)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return Ed25519Signer(key)


def _load_private_key(
    pem: str, passphrase: str | None, *, allow_encrypted_probe: bool = False
) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | None:
    if "BEGIN PRIVATE KEY" not in pem and "BEGIN ENCRYPTED PRIVATE KEY" not in pem:
        raise ConfigurationError("private key must be PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)")
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii", "replace"), password=password)
    except TypeError as exc:  # encrypted without passphrase, or passphrase for a clear key
        if allow_encrypted_probe and password is None:
            return None
        raise ConfigurationError(f"private key passphrase problem: {_first_sentence(exc)}") from None
    except ValueError:
        raise ConfigurationError(
            "could not load the private key (malformed PEM or wrong passphrase)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ConfigurationError(f"unsupported private key type {type(key).__name__}: use RSA or Ed25519")
    return key


def _private_key_type(key: object) -> KeyType:
    return "rsa" if isinstance(key, rsa.RSAPrivateKey) else "ed25519"


def _first_sentence(exc: Exception) -> str:
    return str(exc).split(".")[0]


def public_key_pem(private_pem: str, passphrase: str | None = None) -> str:
    """The SPKI PEM public key matching a private key (what a user registers with Binance)."""
    key = _load_private_key(private_pem, passphrase)
    assert key is not None
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def normalize_pem(text: str) -> str:
    """Rebuild a PEM whose line breaks were lost (pasted into a one-line password field)."""
    text = text.strip()
    if "-----BEGIN" not in text or "\n" in text:
        return text
    head_end = text.index("-----", text.index("-----BEGIN") + 5) + 5
    foot_start = text.rindex("-----END")
    body = "".join(text[head_end:foot_start].split())
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([text[:head_end], *lines, text[foot_start:]]) + "\n"
