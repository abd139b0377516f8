"""Which store a client's weight budget lives in: ``process``, ``host[:/dir]`` or a Redis URL.

``process`` (the plain client's default): this process's budgets. ``host`` (the default
inside Airflow): files under ``<system temp dir>/binance_loan_budgets-<uid>``, shared by every
process of this user on this machine; ``host:/some/dir`` picks the directory (e.g. a volume
shared by the containers of one machine). ``redis://host:port/db`` / ``rediss://...``: one
Redis shared by every host. :func:`open_budget_store` opens each distinct store once per process.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from airflow_binance_loan.client.budgets.base import BudgetStore
from airflow_binance_loan.client.budgets.failover import FailoverStore
from airflow_binance_loan.client.budgets.file_store import FileBudgetStore
from airflow_binance_loan.client.budgets.memory import process_store
from airflow_binance_loan.exceptions import ConfigurationError

StoreKind = Literal["process", "host", "redis"]
SPEC_HELP = "'process', 'host', 'host:/absolute/dir' or a redis://host:port/db (rediss://) URL"
REDIS_SCHEMES = ("redis", "rediss")


@dataclass(frozen=True)
class BudgetSpec:
    """A parsed ``weight_budget`` setting; ``str()`` and ``repr()`` never show a Redis password."""

    kind: StoreKind
    location: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        if self.kind == "redis" and self.location:
            return redact_url(self.location)
        if self.kind == "host" and self.location:
            return f"host:{self.location}"
        return self.kind

    def __repr__(self) -> str:
        return f"BudgetSpec({str(self)!r})"


PROCESS = BudgetSpec("process")
HOST = BudgetSpec("host")


def redact_url(url: str) -> str:
    """``url`` with its password (``user:password@`` or a ``password=`` query parameter) as ``***``.

    :param url: a URL that may carry a password.
    """
    parts = urlsplit(url)
    if parts.password is not None:
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}")
    if "password" in parts.query.lower():
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = [(k, "***" if k.lower() == "password" else v) for k, v in pairs]
        parts = parts._replace(query=urlencode(query, safe="*"))
    return parts.geturl()


def parse_budget_spec(value: object, *, field_name: str = "weight_budget", default: BudgetSpec = HOST) -> BudgetSpec:
    """Parse and validate a ``weight_budget`` value; errors name the field and the (redacted) value.

    :param value: ``None``/empty (the default), ``process``, ``host``, ``host:/dir`` or a Redis URL.
    :param field_name: the setting's name, for error messages.
    :param default: what an empty value means.
    """
    if isinstance(value, BudgetSpec):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str):
        raise ConfigurationError(f"{field_name}={value!r} must be {SPEC_HELP}")
    text = value.strip()

    def fail(why: str) -> ConfigurationError:
        return ConfigurationError(f"{field_name}={redact_url(text)!r} {why}")

    lowered = text.lower()
    if lowered == "process":
        return PROCESS
    if lowered == "host":
        return HOST
    if lowered.startswith("host:"):
        directory = text[5:].strip()
        if not os.path.isabs(directory):
            raise fail("must name an absolute directory after 'host:' (e.g. host:/var/lib/airflow/budgets)")
        return BudgetSpec("host", os.path.normpath(directory))
    scheme = lowered.partition("://")[0]
    if scheme in REDIS_SCHEMES and "://" in lowered:
        return BudgetSpec("redis", _check_redis_url(text, fail))
    raise fail(f"must be {SPEC_HELP}")


def _check_redis_url(url: str, fail: Callable[[str], ConfigurationError]) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise fail("has an invalid port") from None
    if not parts.hostname:
        raise fail("has no host (expected redis://host:port/db)")
    if port == 0:
        raise fail("has an invalid port")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise fail("has an invalid database number (expected redis://host:port/0)")
    return url


def default_host_directory() -> Path:
    """``<system temp dir>/binance_loan_budgets-<uid>``: one per OS user and machine."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"binance_loan_budgets-{uid}"


_opened: dict[BudgetSpec, BudgetStore] = {}
_opened_lock = threading.Lock()


def open_budget_store(spec: BudgetSpec | str | None) -> BudgetStore:
    """The store for ``spec``, opened once per process (``None`` means ``process``).

    :param spec: a :class:`BudgetSpec` or its text form.
    """
    parsed = parse_budget_spec(spec, default=PROCESS)
    with _opened_lock:
        store = _opened.get(parsed)
        if store is None:
            store = _opened[parsed] = _open(parsed)
        return store


def _open(spec: BudgetSpec) -> BudgetStore:
    if spec.kind == "process":
        return process_store()
    if spec.kind == "host":
        if spec.location is None:
            return FileBudgetStore(default_host_directory(), private=True)
        return FileBudgetStore(spec.location)
    from airflow_binance_loan.client.budgets.redis_store import RedisBudgetStore

    assert spec.location is not None
    return FailoverStore(RedisBudgetStore(spec.location, label=str(spec)), process_store())
