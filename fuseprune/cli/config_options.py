"""Command-line options built from config dataclasses: one ``--field-name`` per chosen field.

An option's default is the field's default and its help the field's
``metadata["help"]``, so the command line cannot drift from the library.
Fields whose default is a tuple take comma-separated values; boolean fields
with default False are flags (``store_true``). Numbers need a parser from
:mod:`fuseprune.cli.output` (``integer``, ``number``, ``seed``, ...), which
holds the command line's bounds.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import MISSING, Field, fields
from typing import Any, TypeVar

from fuseprune.cli.output import names as comma_names

#: Attribute set on every generated argparse action: ``(config class, field name)``.
CONFIG_FIELD = "config_field"
C = TypeVar("C")


def config_field(config: type, name: str) -> Field[Any]:
    """The dataclass field ``name`` of ``config``."""
    for item in fields(config):
        if item.name == name:
            return item
    raise AttributeError(f"{config.__name__} has no field {name!r}")


def field_default(config: type, name: str) -> Any:
    """The default of field ``name`` of ``config`` (a factory's value for mutable defaults)."""
    item = config_field(config, name)
    if item.default is not MISSING:
        return item.default
    if item.default_factory is not MISSING:
        return item.default_factory()
    raise AttributeError(f"{config.__name__}.{name} has no default")


def show(value: Any) -> str:
    """A default as a user types it: tuples comma-separated, the rest as ``str``."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def option_help(config: type, name: str, text: str | None = None, default_text: str | None = None, *,
                show_default: bool = True) -> str:
    """The help of field ``name``: its ``metadata["help"]`` (or ``text``) and its default, ``%`` escaped for argparse.

    An empty default (``""``, None, ``()``, False) is not shown: the help says what empty means.
    """
    item = config_field(config, name)
    help_text = text if text is not None else item.metadata.get("help", "")
    if not show_default:
        return help_text.replace("%", "%%")
    if default_text is None:
        default = field_default(config, name)
        empty = default is None or default is False or (isinstance(default, str | tuple) and not default)
        default_text = None if empty else show(default)
    full = f"{help_text} (default: {default_text})" if default_text is not None else help_text
    return full.replace("%", "%%")


def add_config_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    config: type,
    names: Sequence[str],
    *,
    types: Mapping[str, Callable[[str], Any]] | None = None,
    flags: Mapping[str, str] | None = None,
    helps: Mapping[str, str] | None = None,
    unset: Mapping[str, str] | None = None,
    limits: Mapping[str, str] | None = None,
    required: Collection[str] = (),
) -> list[argparse.Action]:
    """Add an option for each field of ``config`` in ``names``; return the actions.

    Args:
        parser: The parser (or argument group) to add to.
        config: A dataclass whose fields carry ``metadata={"help": ...}``.
        names: The fields to expose, in the order they are listed in the help.
        types: Field -> parser of the option's text (for a tuple field, of the whole comma-separated
            text); a str field needs none, a tuple field defaults to comma-separated names.
        flags: Field -> option string, for an option not named ``--field-name``.
        helps: Field -> help text replacing the field's own (for text built at run time, like the presets).
        unset: Field -> what its default is, for fields whose option defaults to None because the
            command fills them later (a preset's recipe, say).
        limits: Field -> a bound of the command line's own (tighter than the config's), appended to the
            help: ``{"rows": "at most 1,000"}``.
        required: Fields that must be given (no default is shown).
    """
    types, flags, helps, unset, limits = types or {}, flags or {}, helps or {}, unset or {}, limits or {}
    actions = []
    for name in names:
        default = None if name in unset or name in required else field_default(config, name)
        flag = flags.get(name, "--" + name.replace("_", "-"))
        text = helps.get(name, config_field(config, name).metadata.get("help", ""))
        text = f"{text}, {limits[name]}" if name in limits else text
        help_text = option_help(config, name, text, unset.get(name), show_default=name not in required)
        kwargs: dict[str, Any] = {"default": default, "help": help_text, "dest": name, "required": name in required}
        if isinstance(default, bool) and name not in types:
            action = parser.add_argument(flag, action="store_true", **kwargs)
        else:
            parse = types.get(name, comma_names if isinstance(field_default(config, name), tuple) else None)
            if parse is not None:
                kwargs["type"] = parse
            metavar = flag.lstrip("-").replace("-", "_").upper()  # named after the option, not the field
            action = parser.add_argument(flag, metavar=metavar, **kwargs)
        setattr(action, CONFIG_FIELD, (config, name))
        actions.append(action)
    return actions


def values_from_args(config: type, args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    """The values of ``names`` given on the command line, as ``config`` takes them (lists become tuples)."""
    values = {}
    for name in names:
        value = getattr(args, name)
        tuple_field = isinstance(field_default(config, name), tuple)
        values[name] = tuple(value) if tuple_field and isinstance(value, list) else value
    return values


def config_from_args(config: type[C], args: argparse.Namespace, names: Sequence[str], **extra: Any) -> C:
    """Build ``config`` from the options :func:`add_config_options` added for ``names``, plus ``extra`` fields."""
    return config(**values_from_args(config, args, names), **extra)
