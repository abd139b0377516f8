"""Package attributes imported on first use (PEP 562), so importing one module of a package does not
load its siblings: a DAG file importing the LTV sensor does not pay for the repay operator's client."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``where[name]`` (a module path) on first access of ``name``.

    :param package: the package's ``__name__`` (for the error message).
    :param where: attribute name → the module that defines it.
    """

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name]), name)

    return __getattr__
