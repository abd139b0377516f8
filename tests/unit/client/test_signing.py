"""Signatures: published/computed vectors, generated keys, key loading and its error messages."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from airflow_binance_loan.client.signing import (
    Ed25519Signer,
    HmacSigner,
    RsaSigner,
    detect_key_type,
    load_signer,
    normalize_pem,
)
from airflow_binance_loan.exceptions import ConfigurationError

from ..fakes import (
    BINANCE_RSA_TEST_PEM,
    ED25519_RFC8032_PEM,
    ED25519_RFC8032_PUBLIC_B64,
    OFFICIAL_HMAC,
    OFFICIAL_PAYLOAD,
    OFFICIAL_SECRET,
    V1_ED25519,
    V1_HMAC,
    V1_PAYLOAD,
    V1_RSA,
)

PAYLOAD = b"groupId=42&assetName=USDC&amount=0.00000001&recvWindow=5000&timestamp=1700000039900"


def pem_body(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


# -- vectors -------------------------------------------------------------------------------------


def test_official_binance_hmac_vector():
    assert HmacSigner(OFFICIAL_SECRET).sign(OFFICIAL_PAYLOAD.encode()) == OFFICIAL_HMAC


def test_repay_v1_hmac_vector():
    signer = load_signer(OFFICIAL_SECRET)
    assert signer.key_type == "hmac"
    assert signer.sign(V1_PAYLOAD.encode()) == V1_HMAC


def test_repay_v1_ed25519_vector_rfc8032_test1_key():
    signer = load_signer(ED25519_RFC8032_PEM)
    assert signer.key_type == "ed25519"
    assert signer.sign(V1_PAYLOAD.encode()) == V1_ED25519
    # the key really is RFC 8032 TEST 1
    public = serialization.load_pem_private_key(ED25519_RFC8032_PEM.encode(), None).public_key()
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert base64.b64encode(spki).decode() == ED25519_RFC8032_PUBLIC_B64


def test_repay_v1_rsa_vector_binance_published_test_key():
    # Key from binance/binance-signature-examples python/private_key.pem (commit 6fcc994...).
    signer = load_signer(BINANCE_RSA_TEST_PEM)
    assert signer.key_type == "rsa"
    signature = signer.sign(V1_PAYLOAD.encode())
    assert signature == V1_RSA
    assert len(signature) == 344


# -- generated keys, verified with the public key ----------------------------------------------


@pytest.mark.parametrize("fixture", ["rsa2048", "rsa4096"])
def test_rsa_signature_verifies_with_public_key(request, fixture):
    key: rsa.RSAPrivateKey = request.getfixturevalue(f"{fixture}_key")
    signer = load_signer(request.getfixturevalue(f"{fixture}_pem"))
    assert isinstance(signer, RsaSigner)
    signature = signer.sign(PAYLOAD)
    raw = base64.b64decode(signature, validate=True)
    assert len(raw) == key.key_size // 8
    key.public_key().verify(raw, PAYLOAD, padding.PKCS1v15(), hashes.SHA256())  # raises if invalid
    with pytest.raises(InvalidSignature):
        key.public_key().verify(raw, PAYLOAD + b"x", padding.PKCS1v15(), hashes.SHA256())


def test_ed25519_signature_verifies_with_public_key(ed25519_key, ed25519_pem):
    signer = load_signer(ed25519_pem)
    assert isinstance(signer, Ed25519Signer)
    signature = signer.sign(PAYLOAD)
    assert len(signature) == 88
    ed25519_key.public_key().verify(base64.b64decode(signature), PAYLOAD)


# -- key type detection and passphrases -----------------------------------------------------------


def test_key_type_auto_detection(rsa2048_pem, ed25519_pem):
    assert detect_key_type(OFFICIAL_SECRET) == "hmac"
    assert detect_key_type(rsa2048_pem) == "rsa"
    assert detect_key_type(ed25519_pem) == "ed25519"
    assert load_signer(OFFICIAL_SECRET).key_type == "hmac"
    assert load_signer(rsa2048_pem).key_type == "rsa"
    assert load_signer(ed25519_pem).key_type == "ed25519"


def test_explicit_key_type_is_case_insensitive(rsa2048_pem):
    assert load_signer(rsa2048_pem, key_type=" RSA ").key_type == "rsa"


def test_encrypted_pkcs8_with_passphrase(
    rsa2048_key, encrypted_rsa_pem, encrypted_ed25519_pem, ed25519_key, passphrase
):
    assert "ENCRYPTED PRIVATE KEY" in encrypted_rsa_pem
    rsa_signer = load_signer(encrypted_rsa_pem, passphrase=passphrase)
    rsa2048_key.public_key().verify(
        base64.b64decode(rsa_signer.sign(PAYLOAD)), PAYLOAD, padding.PKCS1v15(), hashes.SHA256()
    )
    ed_signer = load_signer(encrypted_ed25519_pem, key_type="ed25519", passphrase=passphrase)
    ed25519_key.public_key().verify(base64.b64decode(ed_signer.sign(PAYLOAD)), PAYLOAD)


def test_detect_key_type_on_encrypted_key_asks_for_passphrase(encrypted_rsa_pem):
    with pytest.raises(ConfigurationError, match=r"encrypted.*private_key_passphrase"):
        detect_key_type(encrypted_rsa_pem)


def test_wrong_passphrase(encrypted_rsa_pem):
    with pytest.raises(ConfigurationError, match="wrong passphrase"):
        load_signer(encrypted_rsa_pem, passphrase="not the passphrase")


def test_missing_passphrase(encrypted_rsa_pem):
    with pytest.raises(ConfigurationError, match="passphrase"):
        load_signer(encrypted_rsa_pem)


def test_passphrase_given_for_unencrypted_key(rsa2048_pem):
    with pytest.raises(ConfigurationError, match=r"passphrase problem.*not encrypted"):
        load_signer(rsa2048_pem, passphrase="unneeded")


# -- unusable keys ---------------------------------------------------------------------------------


def test_traditional_rsa_pem_is_refused_as_not_pkcs8(rsa2048_key):
    traditional = rsa2048_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    assert "BEGIN RSA PRIVATE KEY" in traditional
    with pytest.raises(ConfigurationError, match=r"PKCS#8"):
        load_signer(traditional)


def test_garbage_pem_is_refused():
    garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigurationError, match="could not load the private key"):
        load_signer(garbage)


def test_ec_key_is_refused_with_supported_types_named(pkcs8):
    pem = pkcs8(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigurationError, match="RSA or Ed25519"):
        load_signer(pem)


def test_rsa_1024_is_refused(pkcs8):
    pem = pkcs8(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(ConfigurationError, match=r"RSA key size 1024 not supported.*2048 or 4096"):
        load_signer(pem)


@pytest.mark.parametrize(
    ("key_type", "fixture", "message"),
    [
        ("ed25519", "rsa2048_pem", "key_type is ed25519 but the private key is rsa"),
        ("rsa", "ed25519_pem", "key_type is rsa but the private key is ed25519"),
        ("hmac", "ed25519_pem", "key_type is hmac but the password holds a PEM private key"),
    ],
)
def test_key_type_mismatch(request, key_type, fixture, message):
    with pytest.raises(ConfigurationError, match=message):
        load_signer(request.getfixturevalue(fixture), key_type=key_type)


def test_key_type_rsa_with_hmac_secret_explains_pkcs8():
    with pytest.raises(ConfigurationError, match="PKCS#8"):
        load_signer(OFFICIAL_SECRET, key_type="rsa")


def test_unknown_key_type():
    with pytest.raises(ConfigurationError, match=r"invalid key_type='dsa'.*hmac, rsa, ed25519"):
        load_signer(OFFICIAL_SECRET, key_type="dsa")


@pytest.mark.parametrize("secret", ["", "   ", None])
def test_empty_secret(secret):
    with pytest.raises(ConfigurationError, match="no secret"):
        load_signer(secret)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["has space", "non-ascii-é"])
def test_bad_hmac_secret(secret):
    with pytest.raises(ConfigurationError, match="HMAC secret"):
        HmacSigner(secret)


# -- PEM pasted on one line -----------------------------------------------------------------------


@pytest.mark.parametrize("joiner", [" ", ""])
def test_pem_pasted_on_one_line_still_loads(rsa2048_pem, rsa2048_key, joiner):
    one_line = joiner.join(rsa2048_pem.strip().splitlines())
    assert "\n" not in one_line
    signer = load_signer(one_line)
    rsa2048_key.public_key().verify(
        base64.b64decode(signer.sign(PAYLOAD)), PAYLOAD, padding.PKCS1v15(), hashes.SHA256()
    )


def test_encrypted_pem_on_one_line_with_passphrase(encrypted_ed25519_pem, ed25519_key, passphrase):
    one_line = " ".join(encrypted_ed25519_pem.strip().splitlines())
    signer = load_signer(one_line, passphrase=passphrase)
    ed25519_key.public_key().verify(base64.b64decode(signer.sign(PAYLOAD)), PAYLOAD)


def test_normalize_pem_rebuilds_64_column_lines(rsa2048_pem):
    assert normalize_pem(" ".join(rsa2048_pem.splitlines())) == rsa2048_pem
    assert normalize_pem(OFFICIAL_SECRET) == OFFICIAL_SECRET


# -- repr hides secrets ------------------------------------------------------------------------------


def test_signer_repr_never_shows_the_secret(rsa2048_pem, ed25519_pem, encrypted_rsa_pem, passphrase):
    cases = [
        (load_signer(OFFICIAL_SECRET), OFFICIAL_SECRET),
        (load_signer(rsa2048_pem), pem_body(rsa2048_pem)),
        (load_signer(ed25519_pem), pem_body(ed25519_pem)),
        (load_signer(encrypted_rsa_pem, passphrase=passphrase), passphrase),
    ]
    for signer, secret in cases:
        for text in (repr(signer), str(signer)):
            assert secret not in text
            assert secret[:16] not in text
            assert "hidden" in text
