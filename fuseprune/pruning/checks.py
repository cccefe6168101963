"""Type checks for values read from a plan file: each failure is one line naming the field.

Every helper raises :class:`~fuseprune.errors.DataError` only, whatever the
input, so the plan loader never leaks a ``TypeError`` or ``KeyError``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any, Literal, overload

from fuseprune.errors import DataError

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_SHOWN = 60


def shown(value: Any) -> str:
    """Return a short one-line ``repr`` of ``value`` for an error message."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails must not hide the real error
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", " ")
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def expect_object(value: Any, where: str) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object (dict), else raise."""
    if not isinstance(value, dict):
        raise DataError(f"plan `{where}` must be an object; got {type(value).__name__}.")
    return value


def check_keys(data: Mapping[str, Any], required: Collection[str], optional: Collection[str], where: str) -> None:
    """Raise unless ``data`` has every ``required`` key and no key outside ``required | optional``."""
    known = set(required) | set(optional)
    missing = sorted(set(required) - set(data))
    if missing:
        raise DataError(f"plan `{where}` is missing field(s) {', '.join(missing)}.")
    extra = sorted(str(k) for k in set(data) - known)
    if extra:
        shown_extra = ", ".join(shown(k) for k in extra[:5])
        raise DataError(f"plan `{where}` has unknown field(s) {shown_extra}; known: {', '.join(sorted(known))}.")


def expect_int(value: Any, where: str, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` if it is an integer (not a bool) in ``[low, high]``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"plan `{where}` must be an integer; got {shown(value)}.")
    if low is not None and value < low:
        raise DataError(f"plan `{where}` must be at least {low}; got {shown(value)}.")
    if high is not None and value > high:
        raise DataError(f"plan `{where}` must be at most {high}; got {shown(value)}.")
    return value


@overload
def expect_str(value: Any, where: str, *, nullable: Literal[False] = False) -> str: ...
@overload
def expect_str(value: Any, where: str, *, nullable: bool) -> str | None: ...
def expect_str(value: Any, where: str, *, nullable: bool = False) -> str | None:
    """Return ``value`` if it is a non-empty string (or ``None`` when ``nullable``), else raise."""
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value:
        raise DataError(f"plan `{where}` must be a non-empty string; got {shown(value)}.")
    return value


@overload
def expect_sha256(value: Any, where: str, *, nullable: Literal[False] = False) -> str: ...
@overload
def expect_sha256(value: Any, where: str, *, nullable: bool) -> str | None: ...
def expect_sha256(value: Any, where: str, *, nullable: bool = False) -> str | None:
    """Return ``value`` if it is a lowercase hex sha256 digest (or ``None`` when ``nullable``)."""
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise DataError(f"plan `{where}` must be a sha256 hex digest (64 lowercase hex digits); got {shown(value)}.")
    return value


def expect_floats(value: Any, where: str, length: int | None = None) -> tuple[float, ...]:
    """Return a list of finite numbers as a tuple of floats (of ``length`` items if given)."""
    if not isinstance(value, list | tuple):
        raise DataError(f"plan `{where}` must be a list of numbers; got {type(value).__name__}.")
    numbers = tuple(_finite(v, f"{where}[{i}]") for i, v in enumerate(value))
    if length is not None and len(numbers) != length:
        raise DataError(f"plan `{where}` must have one value per layer ({length}); got {len(numbers)}.")
    return numbers


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"plan `{where}` must be a number; got {shown(value)}.")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise DataError(f"plan `{where}` must be a finite number; got {shown(value)}.")
    return number


def expect_ints(value: Any, where: str) -> tuple[int, ...]:
    """Return a list of integers as a tuple."""
    if not isinstance(value, list | tuple):
        raise DataError(f"plan `{where}` must be a list of layer indices; got {type(value).__name__}.")
    return tuple(expect_int(v, f"{where}[{i}]") for i, v in enumerate(value))


def json_ready(value: Any, where: str) -> Any:
    """Return ``value`` normalised through JSON (tuples become lists); raise unless it is plain, finite JSON."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"plan `{where}` must hold plain, finite JSON values; {reason}.") from None


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads`` that rejects an object repeating a key."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise DataError(f"plan JSON repeats the key {shown(key)} in one object.")
        data[key] = value
    return data
