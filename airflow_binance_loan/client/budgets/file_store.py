"""Machine-wide budgets in small lock-protected files: every process on one host shares them.

One file per limit key (named by a hash of the key) holds a 28-byte record: magic, window
index, weight used, block end (server ms, a float: ``Retry-After`` fractions are kept). Each
operation opens the file, takes an exclusive POSIX record lock (``lockf``), reads, updates,
writes and closes, which releases the lock: a few microseconds, no service to run.

POSIX record locks belong to a process, are not inherited by a forked child and are released
by the kernel when the holder dies, so a crashed task never leaves a key locked. Because they
do not exclude threads of the same process, one process-wide lock serialises this process's
threads first.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from airflow_binance_loan.client.budgets.base import (
    BudgetRecord,
    Slot,
    apply_block,
    apply_observe,
    apply_release,
    apply_reserve,
    used_in,
)
from airflow_binance_loan.client.budgets.forksafe import ForkSafeLock
from airflow_binance_loan.exceptions import ConfigurationError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
RECORD = struct.Struct("<4sqqd")
MAGIC = b"BLB1"
SUFFIX = ".budget"
PRUNE_IDLE_SECONDS = 86400.0
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_PROCESS_LOCK = ForkSafeLock()


def _decode(data: bytes) -> BudgetRecord:
    if len(data) != RECORD.size:
        return BudgetRecord()
    magic, window, used, blocked = RECORD.unpack(data)
    if magic != MAGIC or used < 0:
        return BudgetRecord()
    return BudgetRecord(window, used, blocked)


def _encode(record: BudgetRecord) -> bytes:
    return RECORD.pack(MAGIC, record.window, record.used, record.blocked_until_ms)


class FileBudgetStore:
    """Budgets shared by every process of one machine through files in ``directory``.

    :param directory: where the budget files live (created if missing).
    :param private: the directory must belong to this user and not be writable by others
        (used for the default directory under the system temp dir).
    :param prune_idle_seconds: at start-up, delete budget files idle for longer than this
        whose block (if any) has ended; they describe windows long gone.
    """

    def __init__(self, directory: str | os.PathLike[str], *, private: bool = False,
                 prune_idle_seconds: float = PRUNE_IDLE_SECONDS) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise ConfigurationError(
                "weight_budget 'host' needs POSIX file locks (fcntl), which this platform lacks; "
                "use 'process' or a redis:// URL"
            )
        self.directory = Path(directory)
        self._private = private
        _prepare(self.directory, private)
        self._prune(prune_idle_seconds)

    def __repr__(self) -> str:
        return f"FileBudgetStore({str(self.directory)!r})"

    def path_of(self, key: str) -> Path:
        """The file holding ``key``'s budget.

        :param key: the budget's store key.
        """
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:40] + SUFFIX)

    # -- the store contract ----------------------------------------------------------------------

    def reserve(
        self, key: str, window: int, weight: int, limit: int, now_ms: float, settle_until_ms: float = 0.0
    ) -> Slot:
        """See :meth:`BudgetStore.reserve`."""
        return self._update(key, lambda r: apply_reserve(r, window, weight, limit, now_ms, settle_until_ms))

    def release(self, key: str, window: int, weight: int) -> None:
        """See :meth:`BudgetStore.release`."""
        self._update(key, lambda r: apply_release(r, window, weight))

    def observe(self, key: str, window: int, server_used: int) -> None:
        """See :meth:`BudgetStore.observe`."""
        self._update(key, lambda r: apply_observe(r, window, server_used))

    def block(self, key: str, until_ms: float) -> None:
        """See :meth:`BudgetStore.block`."""
        self._update(key, lambda r: apply_block(r, until_ms))

    def used(self, key: str, window: int) -> int:
        """See :meth:`BudgetStore.used`."""
        return self._update(key, lambda r: used_in(r, window), write=False)

    # -- files -----------------------------------------------------------------------------------

    def _update(self, key: str, change: Callable[[BudgetRecord], T], *, write: bool = True) -> T:
        path = self.path_of(key)
        with _PROCESS_LOCK:
            try:
                try:
                    fd = _open_locked(path)
                except FileNotFoundError:  # a temp-dir cleaner removed the directory: make it again
                    _prepare(self.directory, self._private)
                    fd = _open_locked(path)
                try:
                    record = _decode(os.pread(fd, RECORD.size, 0))
                    result = change(record)
                    if write:
                        os.pwrite(fd, _encode(record), 0)
                    return result
                finally:
                    os.close(fd)  # releases the lock
            except OSError as exc:
                raise ConfigurationError(
                    f"weight budget file {path}: {exc.strerror or exc}; check the directory of "
                    "weight_budget 'host'"
                ) from None

    def _prune(self, idle_seconds: float) -> None:
        now = time.time()
        with _PROCESS_LOCK:
            for path in self.directory.glob("*" + SUFFIX):
                try:
                    if now - path.lstat().st_mtime < idle_seconds:
                        continue
                    fd = _open_locked(path)
                    try:
                        record = _decode(os.pread(fd, RECORD.size, 0))
                        idle = now - os.fstat(fd).st_mtime >= idle_seconds
                        if idle and record.blocked_until_ms <= now * 1000.0:
                            path.unlink()  # still locked: whoever waits for it sees st_nlink == 0
                    finally:
                        os.close(fd)
                except OSError:
                    continue


def _open_locked(path: Path) -> int:
    """Open and exclusively lock ``path``; retry if it was pruned while we waited for the lock."""
    assert fcntl is not None
    while True:
        fd = os.open(path, _OPEN_FLAGS, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink > 0:
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _prepare(directory: Path, private: bool) -> None:
    """Create the directory; refuse a symlink, a non-directory, or (private) one others can write."""
    where = f"weight budget directory {directory}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        raise ConfigurationError(f"{where}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigurationError(f"{where} is not a directory (a symlink or a file is refused)")
    if private and hasattr(os, "getuid"):
        if info.st_uid != os.getuid():
            raise ConfigurationError(f"{where} belongs to another user; set weight_budget to 'host:/your/dir'")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigurationError(f"{where} is writable by other users; remove it or use 'host:/your/dir'")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigurationError(f"{where} is not writable by this user")
