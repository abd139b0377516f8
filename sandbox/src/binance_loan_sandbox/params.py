"""Request parameters from the raw query string and form body, with Binance's validation errors.

The query string and the body are parsed separately: a name twice in the same
place is -1101, a name in both places takes the query-string value. Typed
getters raise the -1100 / -1102 / -1105 / -1130 / -27016 errors Binance uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import unquote_to_bytes

from binance_loan_sandbox import binance_facts as facts
from binance_loan_sandbox.errors import (
    SandboxError,
    duplicate_param,
    empty_param,
    illegal_chars,
    invalid_value,
    mandatory,
)

MAX_LONG = 2**63 - 1
LONG_PATTERN = "^[0-9]{1,20}$"
_LONG_RE = re.compile(r"^[0-9]{1,20}$")
_AMOUNT_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
MAX_AMOUNT_DECIMALS = 8

Pairs = list[tuple[str, str]]


def split_pairs(raw: bytes) -> list[tuple[bytes, bytes]]:
    """``name=value`` pairs of a raw form string, still encoded; empty segments are skipped.

    :param raw: a raw query string or form body.
    """
    pairs: list[tuple[bytes, bytes]] = []
    for segment in raw.split(b"&"):
        if not segment:
            continue
        name, _, value = segment.partition(b"=")
        pairs.append((name, value))
    return pairs


def decode_component(raw: bytes) -> str:
    """Form-decode one component (``+`` is a space, ``%XX`` a byte) as strict UTF-8 (-1100 otherwise).

    :param raw: one encoded name or value.
    """
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise SandboxError(facts.ILLEGAL_CHARS, facts.MSG_ILLEGAL_CHARS) from None


def decode_pairs(pairs: Sequence[tuple[bytes, bytes]]) -> Pairs:
    """Decode pairs and refuse a name given twice (-1101).

    :param pairs: encoded (name, value) pairs from :func:`split_pairs`.
    """
    seen: set[str] = set()
    out: Pairs = []
    for raw_name, raw_value in pairs:
        name = decode_component(raw_name)
        if name in seen:
            raise duplicate_param()
        seen.add(name)
        out.append((name, decode_component(raw_value)))
    return out


class Params:
    """The merged parameters of one request (query string wins over body)."""

    def __init__(self, query: Pairs, body: Pairs) -> None:
        """
        :param query: the query string's decoded pairs.
        :param body: the body's decoded pairs.
        """
        merged = dict(body)
        merged.update(dict(query))
        self._values = merged

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def names(self) -> list[str]:
        """The parameter names received."""
        return list(self._values)

    def raw(self, name: str) -> str | None:
        """The decoded value as sent (None when absent), without validation.

        :param name: the parameter.
        """
        return self._values.get(name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        """The decoded value; missing or empty raises -1102 when required, empty raises -1105 otherwise.

        :param name: the parameter.
        :param required: missing or empty is -1102 (else empty is -1105).
        """
        value = self._values.get(name)
        if value is None:
            if required:
                raise mandatory(name)
            return None
        if value == "":
            raise mandatory(name) if required else empty_param(name)
        return value

    def long(self, name: str, *, required: bool = False) -> int | None:
        """A LONG: digits only (-1100 otherwise), at most 2^63−1.

        :param name: the parameter.
        :param required: as for :meth:`text`.
        """
        value = self.text(name, required=required)
        if value is None:
            return None
        if not _LONG_RE.match(value) or int(value) > MAX_LONG:
            if required and name == "groupId":
                raise mandatory(name)
            raise illegal_chars(name, LONG_PATTERN)
        return int(value)

    def enum(self, name: str, choices: Sequence[str], *, required: bool = False, upper: bool = False) -> str | None:
        """One of ``choices`` (-1130 otherwise); ``upper`` makes the match case-insensitive.

        :param name: the parameter.
        :param choices: the accepted values.
        :param required: as for :meth:`text`.
        :param upper: compare upper-cased (case-insensitive).
        """
        value = self.text(name, required=required)
        if value is None:
            return None
        if upper:
            value = value.upper()
        if value not in choices:
            raise invalid_value(name)
        return value

    def amount(self, name: str, asset: str) -> Decimal:
        """A plain positive decimal with at most 8 decimals (-27016 for precision or form, -1102 missing).

        :param name: the parameter.
        :param asset: the asset named in the -27016 message.
        """
        value = self.text(name, required=True)
        assert value is not None
        match = _AMOUNT_RE.match(value)
        if not match or (match.group(1) is not None and len(match.group(1)) - 1 > MAX_AMOUNT_DECIMALS):
            raise SandboxError(facts.ILLEGAL_PRECISION, facts.MSG_ILLEGAL_PRECISION.format(asset=asset))
        amount = Decimal(value)
        if amount <= 0:
            raise SandboxError(facts.ILLEGAL_ARGUMENT, facts.MSG_ILLEGAL_ARGUMENT)
        return amount

    def page(self) -> tuple[int, int]:
        """``current`` (from 1, default 1) and ``size`` (1..100, default 10)."""
        current = self.long("current")
        size = self.long("size")
        current = 1 if current is None else current
        size = 10 if size is None else size
        if current < 1:
            raise invalid_value("current")
        if not 1 <= size <= 100:
            raise invalid_value("size")
        return current, size
