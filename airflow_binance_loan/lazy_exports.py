"""Package exports resolved on first use (PEP 562), so importing one leaf module stays cheap.

A DAG file that imports an operator must not pay for ``requests`` and ``cryptography`` at parse
time; a package ``__init__`` that imported every export eagerly would load them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose exports live in ``homes``.

    :param package: the package's ``__name__``.
    :param homes: export name → the module that defines it.
    :param namespace: the package's ``globals()``; a resolved export is cached there.
    """

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *homes})

    return getattr_, dir_
