"""Shared behaviour of configuration dataclasses: dict round-trip that rejects unknown keys."""

from __future__ import annotations

from dataclasses import MISSING, asdict, fields
from typing import Any, TypeVar

from fuseprune.errors import ConfigError

C = TypeVar("C", bound="ConfigMixin")


class ConfigMixin:
    """Mixin for dataclass configs: ``to_dict``/``from_dict`` and range checks.

    Every field should carry ``metadata={"help": ...}``; the command line builds
    its option help from it.
    """

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], payload: dict[str, Any]) -> C:
        """Build a config from a dict; unknown keys are rejected by name."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(payload) - names)
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}.")
        return cls(**payload)

    @classmethod
    def help_of(cls, name: str) -> str:
        """Return the help text of field ``name`` with its default."""
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name == name:
                default = "" if f.default is MISSING else f" (default: {f.default})"
                return f"{f.metadata.get('help', '')}{default}"
        raise ConfigError(f"{cls.__name__} has no field {name!r}.")


def check_range(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    """Raise ``ConfigError`` in the house shape unless ``low <= value <= high``."""
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        bound = f"greater than {low}" if low_open else f"at least {low}"
        limit = "" if high == float("inf") else f" and at most {high}"
        raise ConfigError(f"`{name}` must be {bound}{limit}; got {value}.")
