"""Lazy package exports (PEP 562): a name is imported from its module on first use, so a package imports cheaply.

A package lists ``name -> module`` in a dict, declares the same names under
``if TYPE_CHECKING:`` (``from module import Name as Name``) so IDEs and type
checkers see them, and lists them in its literal ``__all__``;
``tests/test_public_api.py`` checks that the three agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], public: Iterable[str]) -> tuple[
        Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` of ``package`` whose ``exports`` are imported on first use.

    Args:
        package: The package's ``__name__`` (for error messages).
        exports: Public name -> module that defines it.
        public: The package's ``__all__`` (what ``dir()`` lists).
    """
    names = sorted(public)

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__
