"""Publishing the month's files all or nothing, on a local folder or any object store.

Layout under the month's folder (e.g. ``.../binance_loan_books/2026-03/``)::

    v20260401T003012123456Z-1a2b3c4d/   one complete export (books.json, records.csv, interest.csv, totals.csv)
    v20260402T090000000000Z-5e6f7a8b/   a re-run for the same month
    CURRENT.json                        the pointer: which version is the month's books, and each file's SHA-256

An export writes a **new** version folder, reads every file back and checks its hash, and only then
replaces ``CURRENT.json``: written next to it under a temporary name, then renamed over it.
Readers follow ``CURRENT.json`` (:func:`read_current` does, and checks the hashes). What a reader sees:

* **while an export writes**: the pointer still names the previous complete version (none the first
  time: "no books yet"); the new folder is not named anywhere, so a half-written file is never read;
* **at the switch**: on a local disk the rename is atomic; on an object store the pointer is one
  small object replaced in one piece (a copy; S3 and its kind never show a partial object): the old
  or the new pointer, never a mix;
* **after**: the new version. The previous one is kept (a reader that read the old pointer a moment
  before can finish); older ones, and folders of exports that failed half-way, are removed (best
  effort: a failed clean-up never undoes the switch).

An export that fails before the switch leaves the published books as they were.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from airflow_binance_loan.exceptions import BooksNotPublishedError

POINTER = "CURRENT.json"
POINTER_FORMAT = 1
VERSION_PREFIX = "v"
log = logging.getLogger(__name__)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_version(now: datetime | None = None) -> str:
    """A version folder name that sorts by time and never collides: ``v20260401T003012123456Z-1a2b3c4d``.

    :param now: the time to put in it (default: now).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{VERSION_PREFIX}{moment:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


def _read_pointer(folder: Any) -> dict[str, Any] | None:
    pointer = folder / POINTER
    if not pointer.exists():
        return None
    data = json.loads(pointer.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != POINTER_FORMAT or not isinstance(data.get("files"), dict):
        raise BooksNotPublishedError(f"{pointer} is not a format-{POINTER_FORMAT} books pointer")
    return data


def _remove_tree(path: Any) -> None:
    if path.is_dir():
        for child in list(path.iterdir()):
            _remove_tree(child)
        with suppress(FileNotFoundError):  # object stores have no real folders
            path.rmdir()
    else:
        path.unlink()


def publish(folder: Any, files: Mapping[str, str], *, version: str | None = None,
            meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``files`` as a new version under ``folder`` and make it current (see the module docstring).

    :param folder: the month's folder: a ``pathlib.Path`` or an Airflow ``ObjectStoragePath``.
    :param files: file name → text (UTF-8).
    :param version: the version folder's name (default: :func:`new_version`).
    :param meta: extra fields for the pointer (e.g. the month, the run that wrote it).
    :returns: the pointer written.
    """
    version = version or new_version()
    folder.mkdir(parents=True, exist_ok=True)
    previous = _read_pointer(folder)
    target = folder / version
    target.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, dict[str, Any]] = {}
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
        hashes[name] = {"sha256": _sha256(text), "bytes": len(text.encode("utf-8"))}
    for name, expected in hashes.items():  # never point at a file that did not arrive whole
        if _sha256((target / name).read_text(encoding="utf-8")) != expected["sha256"]:
            raise BooksNotPublishedError(f"{target / name} does not read back as written; books not published")
    pointer = {"format": POINTER_FORMAT, **(meta or {}), "version": version,
               "written_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": hashes}
    staging = folder / f".{POINTER}.{version}.tmp"
    staging.write_text(json.dumps(pointer, indent=2) + "\n", encoding="utf-8")
    staging.rename(folder / POINTER)
    keep = {version, (previous or {}).get("version")}
    for child in list(folder.iterdir()):
        stale = (child.name.startswith(VERSION_PREFIX) and child.name not in keep and child.name < version) or (
            child.name.startswith(f".{POINTER}.") and child.name < f".{POINTER}.{version}")
        if stale:
            try:
                _remove_tree(child)
            except OSError as exc:
                log.warning("Could not remove the old books version %s (%s); it is not current", child, exc)
    return pointer


def read_current(folder: Any, *, verify: bool = True) -> tuple[dict[str, Any], Any]:
    """The month's pointer and its version folder, the files' hashes checked (``verify``).

    :param folder: the month's folder.
    :param verify: read every file and compare its SHA-256 with the pointer's.
    """
    pointer = _read_pointer(folder)
    if pointer is None:
        raise BooksNotPublishedError(f"no books published under {folder} ({POINTER} is missing)")
    target = folder / pointer["version"]
    if verify:
        for name, expected in pointer["files"].items():
            if _sha256((target / name).read_text(encoding="utf-8")) != expected["sha256"]:
                raise BooksNotPublishedError(f"{target / name} does not match {POINTER}")
    return pointer, target
