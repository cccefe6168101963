"""The schema of an RtfCodec (``codec.json`` of ``"kind": "realtabformer"``): every field checked before use.

An RtfCodec sizes allocations (a mask of positions x tokens, strings as wide
as a number's text), so neither an edited ``codec.json`` nor a hostile
``rtf_config.json`` is trusted: every field has a known type, unknown and
missing fields are named, and every size that drives an allocation is
bounded (:data:`MAX_TOKENS`, :data:`MAX_POSITIONS`, :data:`MAX_CELLS`,
:data:`MAX_TEXT`). Whether the fields agree with each other (token names,
groups of positions, column kinds) is checked by
:func:`~fuseprune.tabular.realtabformer.structure.build_layout`. Any violation
is a one-line :class:`~fuseprune.errors.CodecError` naming the field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from fuseprune.errors import CodecError
from fuseprune.tabular.columns import HEAD_MINUS, HEAD_NA, HEAD_PLUS
from fuseprune.tabular.schema import MAX_CELLS, MAX_DECIMALS, MAX_DIGITS

KIND = "realtabformer"
SCHEMA_VERSION = 1
DIGITS = "fuseprune_digits"
MAX_TOKENS = 1_000_000  # a GPT-2 embedding of a million rows is far above any tabular model
MAX_POSITIONS = 65_534  # n_positions (at most 65,536) less BOS and EOS
MAX_TEXT = 400  # characters of one number's text (a double has at most 309 digits before the point)
COLUMN_KINDS = ("numeric", "categorical")

# field -> (accepted types, readable type, required)
TOP_FIELDS: dict[str, tuple[tuple[type, ...], str, bool]] = {
    "kind": ((str,), "a string", True),
    "schema_version": ((int,), "an integer", True),
    "tokens": ((list,), "a list of strings", True),
    "processed_columns": ((list,), "a list of strings", True),
    "position_ids": ((list,), "a list of lists of token ids", True),
    "columns": ((list,), "a list of column objects", True),
    "target": ((str, type(None)), "a string or null", False),
    "settings": ((dict,), "an object", False),
}
COLUMN_FIELDS: dict[str, tuple[tuple[type, ...], str, bool]] = {
    "name": ((str,), "a string", True),
    "kind": ((str,), "a string", True),
    "dtype": ((str,), "a string", True),
    "has_missing": ((bool,), "true or false", True),
    "transform": ((dict, type(None)), "an object or null", False),
}
# integer field -> (low, high): REaLTabFormer's col_transform_data of a numeric column, and its settings
TRANSFORM_RANGES = {"max_len": (1, MAX_TEXT), "numeric_precision": (0, MAX_TEXT), "mx_sig": (-1, MAX_TEXT),
                    "zfill": (1, MAX_TEXT), "ljust": (1, MAX_TEXT), "numeric_nparts": (1, MAX_TEXT),
                    "mean_date": (-(2**63), 2**63 - 1)}
SETTING_RANGES = {"numeric_nparts": (1, MAX_TEXT), "numeric_precision": (0, MAX_TEXT),
                  "numeric_max_len": (1, MAX_TEXT), "random_state": (0, 2**32 - 1)}
DIGIT_RANGES = {"width": (1, MAX_DIGITS), "decimals": (0, MAX_DECIMALS)}
HEADS = (HEAD_PLUS, HEAD_MINUS, HEAD_NA)


def check_codec(payload: Any) -> None:
    """Raise ``CodecError`` unless ``payload`` is a valid RtfCodec (the output of ``RtfCodec.to_dict``)."""
    if not isinstance(payload, Mapping):
        raise CodecError(f"a codec must be a JSON object; got {type(payload).__name__}.")
    _check_fields(payload, TOP_FIELDS, "codec")
    if payload["kind"] != KIND or payload["schema_version"] != SCHEMA_VERSION:
        raise CodecError(f"codec must be of kind {KIND!r} and schema_version {SCHEMA_VERSION}; "
                         f"got kind {payload['kind']!r:.60}, schema_version {payload['schema_version']!r:.60}.")
    tokens, names, positions = payload["tokens"], payload["processed_columns"], payload["position_ids"]
    _check_sizes(len(tokens), len(names), len(positions))
    _check_strings(tokens, "tokens")
    _check_strings(names, "processed_columns")
    for t, ids in enumerate(positions):
        _check_ids(ids, t, len(tokens))
    _check_columns(payload["columns"], len(names))
    _check_integers(payload.get("settings", {}), SETTING_RANGES, "codec `settings`",
                    {"realtabformer_version": (str, "a string")}, nullable=("random_state",))


def _check_fields(payload: Mapping[str, Any], fields: Mapping[str, tuple[tuple[type, ...], str, bool]],
                  where: str) -> None:
    unknown = sorted(str(k) for k in payload if k not in fields)
    if unknown:
        raise CodecError(f"{where} has unknown field {unknown[0]!r:.60}; known: {', '.join(fields)}.")
    missing = [k for k, (_, _, required) in fields.items() if required and k not in payload]
    if missing:
        raise CodecError(f"{where} lacks field {missing[0]!r}.")
    for key, value in payload.items():
        types, text, _ = fields[key]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise CodecError(f"{where}: `{key}` must be {text}; got {value!r:.60}.")


def _check_sizes(tokens: int, names: int, positions: int) -> None:
    if not 1 <= tokens <= MAX_TOKENS:
        raise CodecError(f"the vocabulary must have between 1 and {MAX_TOKENS:,} tokens; got {tokens:,}.")
    if not 1 <= names <= MAX_POSITIONS:
        raise CodecError(f"a row must have between 1 and {MAX_POSITIONS:,} token positions "
                         f"(processed_columns); got {names:,}.")
    if positions != names:
        raise CodecError(f"position_ids lists {positions:,} positions but processed_columns names {names:,}; "
                         "they must match.")
    if (names + 1) * tokens > MAX_CELLS:
        raise CodecError(f"{names:,} token positions of {tokens:,} tokens need a mask of "
                         f"{(names + 1) * tokens:,} cells; at most {MAX_CELLS:,} are supported.")


def _check_strings(values: list[Any], key: str) -> None:
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise CodecError(f"codec `{key}` must be a list of strings; entry {index} is {value!r:.60}.")


def _check_ids(ids: Any, t: int, tokens: int) -> None:
    """Position ``t`` allows a non-empty list of distinct token ids within the vocabulary."""
    if not isinstance(ids, list) or not 1 <= len(ids) <= tokens:
        size = f"{len(ids):,} ids" if isinstance(ids, list) else repr(ids)[:60]
        raise CodecError(f"codec `position_ids` entry {t} must be a list of 1 to {tokens:,} token ids; got {size}.")
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < tokens:
            raise CodecError(f"codec `position_ids` entry {t} holds {i!r:.60}; a token id must be an integer "
                             f"from 0 to {tokens - 1:,} (the vocabulary has {tokens:,} tokens).")


def _check_columns(columns: list[Any], positions: int) -> None:
    if not 1 <= len(columns) <= positions:
        raise CodecError(f"codec `columns` must list between 1 and {positions:,} columns (one token position "
                         f"at least each); got {len(columns):,}.")
    for index, column in enumerate(columns):
        if not isinstance(column, Mapping):
            raise CodecError(f"codec column {index} must be a JSON object; got {type(column).__name__}.")
        _check_fields(column, COLUMN_FIELDS, f"codec column {index}")
        _check_column(column, f"codec column {column['name']!r:.60}")
    twice = sorted(name for name, count in Counter(c["name"] for c in columns).items() if count > 1)
    if twice:
        raise CodecError(f"codec names column {twice[0]!r:.60} twice.")


def _check_column(column: Mapping[str, Any], where: str) -> None:
    if column["kind"] not in COLUMN_KINDS:
        raise CodecError(f"{where}: `kind` must be one of {', '.join(COLUMN_KINDS)}; got {column['kind']!r:.60}.")
    transform = column.get("transform")
    if transform is None:
        return
    if column["kind"] == "categorical":
        raise CodecError(f"{where}: `transform` must be null for a categorical column.")
    _check_integers(transform, TRANSFORM_RANGES, f"{where}: `transform`", {DIGITS: (dict, "an object")})
    if DIGITS in transform:
        spec = transform[DIGITS]
        _check_integers(spec, DIGIT_RANGES, f"{where}: `transform.{DIGITS}`", {"head": (list, "a list")},
                        required=True)
        head = spec["head"]
        if len(set(map(str, head))) != len(head) or not all(isinstance(h, str) and h in HEADS for h in head):
            raise CodecError(f"{where}: `transform.{DIGITS}.head` must list distinct signs among "
                             f"{', '.join(HEADS)}; got {head!r:.60}.")


def _check_integers(
    payload: Mapping[str, Any],
    ranges: Mapping[str, tuple[int, int]],
    where: str,
    others: Mapping[str, tuple[type, str]],
    *,
    nullable: tuple[str, ...] = (),
    required: bool = False,
) -> None:
    """Every key of ``payload`` is an integer within its range, or one of ``others`` of its type."""
    known = [*ranges, *others]
    unknown = sorted(str(k) for k in payload if k not in known)
    if unknown:
        raise CodecError(f"{where} has unknown field {unknown[0]!r:.60}; known: {', '.join(known)}.")
    missing = [k for k in known if k not in payload]
    if required and missing:
        raise CodecError(f"{where} lacks field {missing[0]!r}.")
    for key, value in payload.items():
        if key in others:
            kind, text = others[key]
            if not isinstance(value, kind):
                raise CodecError(f"{where}: `{key}` must be {text}; got {value!r:.60}.")
            continue
        low, high = ranges[key]
        if value is None and key in nullable:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise CodecError(f"{where}: `{key}` must be an integer between {low:,} and {high:,}; got {value!r:.60}.")
