"""API keys, signatures and timestamps, checked over the exact bytes the client sent.

The signed payload is the raw query string (without its trailing
``signature=...``) immediately followed by the raw body (likewise); the payload
must be properly percent-encoded (Binance's rule since 2026-01-15) and the
signature value is form-decoded once. The signature rules themselves live in
:mod:`.signatures`, the sandbox's own implementation (not the client's).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from binance_loan_sandbox import binance_facts as facts
from binance_loan_sandbox.errors import (
    SandboxError,
    bad_signature,
    duplicate_param,
    mandatory,
    rejected_key,
)
from binance_loan_sandbox.params import Params, decode_component, decode_pairs, split_pairs
from binance_loan_sandbox.signatures import Verifier, is_percent_encoded, verifier_for
from binance_loan_sandbox.state import Account, ApiKey, SandboxState

_KEY_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")


@dataclass(frozen=True)
class SignedRequest:
    """The pieces of a signed request: what was signed, the signature, and the decoded parameters."""

    payload: bytes
    signature: str
    params: Params


def _strip_signature(raw: bytes) -> tuple[bytes, bytes | None]:
    segments = raw.split(b"&")
    names = [segment.partition(b"=")[0] for segment in segments]
    count = names.count(b"signature")
    if count == 0:
        return raw, None
    if count > 1:
        raise duplicate_param()
    if names[-1] != b"signature":
        raise bad_signature()  # signature must be the last parameter of its part
    return b"&".join(segments[:-1]), segments[-1].partition(b"=")[2]


def split_signed(raw_query: bytes, raw_body: bytes) -> SignedRequest:
    """Separate the signature from the payload and decode the parameters (-1101 / -1102 / -1022).

    :param raw_query: the query string as received.
    :param raw_body: the body as received.
    """
    query, in_query = _strip_signature(raw_query)
    body, in_body = _strip_signature(raw_body)
    if in_query is not None and in_body is not None:
        raise duplicate_param()
    raw_signature = in_query if in_query is not None else in_body
    if not raw_signature:
        raise mandatory("signature")
    payload = query + body
    if not is_percent_encoded(payload) or not is_percent_encoded(raw_signature):
        raise bad_signature()
    signature = decode_component(raw_signature)
    params = Params(decode_pairs(split_pairs(query)), decode_pairs(split_pairs(body)))
    return SignedRequest(payload, signature, params)


class KeyRing:
    """Maps an ``X-MBX-APIKEY`` to its account and verifier (verifiers cached per key)."""

    def __init__(self, state: SandboxState) -> None:
        """
        :param state: the state whose accounts hold the keys.
        """
        self._state = state
        self._lock = threading.Lock()
        self._verifiers: dict[tuple[str, str, str], Verifier] = {}

    def identify(self, header: str | None) -> Account:
        """The account owning the key: missing/unknown → -2015, malformed → -2014.

        :param header: the ``X-MBX-APIKEY`` header, or None.
        """
        if header is None or header.strip() == "":
            raise rejected_key()
        if not _KEY_RE.match(header):
            raise SandboxError(facts.BAD_API_KEY_FMT, facts.MSG_BAD_KEY_FORMAT)
        for account in self._state.accounts():
            if account.api is not None and account.api.api_key == header:
                return account
        raise rejected_key()

    def verifier(self, api: ApiKey) -> Verifier:
        """The (cached) verifier for a registered key: HMAC secret or public key PEM.

        :param api: the registered key.
        """
        cache_key = (api.api_key, api.key_type, api.key)
        with self._lock:
            found = self._verifiers.get(cache_key)
            if found is None:
                found = verifier_for(api.key_type, api.key)
                self._verifiers[cache_key] = found
            return found

    def verify(self, account: Account, signed: SignedRequest) -> None:
        """-1022 unless the signature verifies over the exact payload bytes.

        :param account: the account the key belongs to.
        :param signed: the request's payload and signature.
        """
        assert account.api is not None
        if not signed.signature.isascii() or not self.verifier(account.api).verify(signed.payload, signed.signature):
            raise bad_signature()


def check_timestamp(params: Params, now_ms: int) -> tuple[int, int]:
    """Binance's rule: accept only if timestamp < now + 1000 and now − timestamp ≤ recvWindow.

    :param params: the request's parameters.
    :param now_ms: the sandbox time on receipt.
    """
    timestamp = params.long("timestamp", required=True)
    recv_window = params.long("recvWindow")
    assert timestamp is not None
    if recv_window is None:
        recv_window = facts.DEFAULT_RECV_WINDOW_MS
    if recv_window > facts.MAX_RECV_WINDOW_MS:
        raise SandboxError(facts.BAD_RECV_WINDOW, facts.MSG_RECV_WINDOW)
    check_window(timestamp, recv_window, now_ms)
    return timestamp, recv_window


def check_window(timestamp: int, recv_window: int, now_ms: int) -> None:
    """The -1021 test alone (run again when processing starts, after any injected latency).

    :param timestamp: the request's timestamp.
    :param recv_window: its recvWindow.
    :param now_ms: the sandbox time now.
    """
    if timestamp >= now_ms + facts.AHEAD_TOLERANCE_MS:
        raise SandboxError(facts.INVALID_TIMESTAMP, facts.MSG_TIMESTAMP_AHEAD)
    if now_ms - timestamp > recv_window:
        raise SandboxError(facts.INVALID_TIMESTAMP, facts.MSG_TIMESTAMP_OLD)


def require_permission(account: Account, permission: str) -> None:
    """-2015 unless the account's key has ``permission`` switched on.

    :param account: the caller.
    :param permission: the permission name, e.g. ``enableReading``.
    """
    if account.api is None or account.api.permissions.get(permission) is not True:
        raise rejected_key()
