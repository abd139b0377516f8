from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from .fakes import FakeClock


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def _pkcs8(key, password: bytes | None = None) -> str:
    encryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


@pytest.fixture(scope="session")
def rsa2048_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def rsa4096_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=4096)


@pytest.fixture(scope="session")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def rsa2048_pem(rsa2048_key) -> str:
    return _pkcs8(rsa2048_key)


@pytest.fixture(scope="session")
def rsa4096_pem(rsa4096_key) -> str:
    return _pkcs8(rsa4096_key)


@pytest.fixture(scope="session")
def ed25519_pem(ed25519_key) -> str:
    return _pkcs8(ed25519_key)


PASSPHRASE = "correct horse battery staple 7"


@pytest.fixture(scope="session")
def passphrase() -> str:
    return PASSPHRASE


@pytest.fixture(scope="session")
def encrypted_rsa_pem(rsa2048_key) -> str:
    return _pkcs8(rsa2048_key, PASSPHRASE.encode())


@pytest.fixture(scope="session")
def encrypted_ed25519_pem(ed25519_key) -> str:
    return _pkcs8(ed25519_key, PASSPHRASE.encode())


@pytest.fixture(scope="session")
def pkcs8():
    """Serialise any private key as PKCS#8 PEM (optionally encrypted)."""
    return _pkcs8
