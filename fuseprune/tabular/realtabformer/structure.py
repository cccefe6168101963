"""The layout of an RtfCodec: token order, per-position values, column groups, and its checks.

Built once per codec; every check of a REaLTabFormer vocabulary lives here, so
an inconsistent ``rtf_config.json`` (or an edited ``codec.json``) is refused
with one line naming what is wrong before any model is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fuseprune.errors import CodecError
from fuseprune.tabular.realtabformer import text as rtext
from fuseprune.tabular.realtabformer.layout import (
    BOS,
    EOS,
    NA_TOKEN,
    PAD,
    SEP,
    TEACHER_FORCING,
    split_processed,
    token_value,
)

if TYPE_CHECKING:
    from fuseprune.tabular.realtabformer.codec import RtfCodec, RtfColumn

FLOAT_KEYS = ("numeric_precision", "mx_sig", "max_len", "ljust")


@dataclass(frozen=True)
class Group:
    """The token positions that write one column (``hidden``: REaLTabFormer's teacher-forcing copy)."""

    source: str
    column: RtfColumn
    positions: list[int]
    hidden: bool = False


@dataclass(frozen=True)
class Layout:
    """Where every token sits; see :func:`build_layout`.

    Every position's tokens are a contiguous range of fuseprune ids
    (``offsets[t]`` to ``offsets[t] + sizes[t]``); ``links`` maps a later part
    of a number that can be missing to (its first part's position, the missing
    tokens here); ``present`` is, per position, the first token writing no
    missing value (local index).
    """

    order: np.ndarray
    offsets: list[int]
    sizes: list[int]
    values: list[list[str]]
    lookup: list[dict[str, int]]
    missing_text: list[str | None]
    missing_ids: torch.Tensor
    links: dict[int, tuple[int, torch.Tensor]]
    groups: list[Group]
    present: list[int]


def build_layout(codec: RtfCodec) -> Layout:
    """Check ``codec``'s vocabulary and lay out its tokens (fuseprune id -> REaLTabFormer id)."""
    vocab = len(codec.tokens)
    _check_tokens(codec)
    order = _order(codec, vocab)
    sizes = [len(p) for p in codec.position_ids]
    offsets = list(3 + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int))
    values = [[token_value(codec.tokens[i]) for i in ids] for ids in codec.position_ids]
    lookup = [{v: j for j, v in enumerate(vals)} for vals in values]
    groups = _groups(codec)
    numeric = {t for g in groups if g.column.kind == "numeric" for t in g.positions}
    missing_text = [next((v for v in vals if v.startswith(NA_TOKEN)), None) if t in numeric else None
                    for t, vals in enumerate(values)]
    missing_ids = torch.zeros(vocab, dtype=torch.bool)
    for t in numeric:
        for j, value in enumerate(values[t]):
            missing_ids[offsets[t] + j] = value.startswith(NA_TOKEN)
    links = _links(groups, values, offsets, missing_ids, vocab)
    owner = {t: group.column for group in groups for t in group.positions}
    present = [_first_present(owner[t], values[t], t in numeric) for t in range(len(values))]
    return Layout(order, offsets, sizes, values, lookup, missing_text, missing_ids, links, groups, present)


def _first_present(column: RtfColumn, values: list[str], numeric: bool) -> int:
    """The first token of a position that writes no missing value (the first token if every one does)."""
    def missing(value: str) -> bool:  # as decoding reads the value
        return value.startswith(NA_TOKEN) if numeric else column.has_missing and rtext.is_missing_category(value)

    return next((j for j, value in enumerate(values) if not missing(value)), 0)


def _check_tokens(codec: RtfCodec) -> None:
    if len(set(codec.tokens)) != len(codec.tokens):
        raise CodecError("the REaLTabFormer vocabulary repeats a token; rtf_config.json is corrupt.")
    absent = [t for t in (PAD, BOS, EOS) if t not in codec.tokens]
    if absent:
        raise CodecError(f"the REaLTabFormer vocabulary lacks the special tokens {', '.join(absent)}.")
    if len(codec.position_ids) != len(codec.processed_columns):
        raise CodecError(f"col_idx_ids has {len(codec.position_ids)} positions but there are "
                         f"{len(codec.processed_columns)} processed columns; the vocabulary does not match.")
    seen: set[int] = set()
    for t, (name, ids) in enumerate(zip(codec.processed_columns, codec.position_ids, strict=True)):
        if not ids:
            raise CodecError(f"position {t} ({name!r}) allows no token; the vocabulary is incomplete.")
        for i in ids:
            if not 0 <= i < len(codec.tokens) or i in seen or not codec.tokens[i].startswith(name + SEP):
                token = codec.tokens[i] if 0 <= i < len(codec.tokens) else "none: out of range"
                raise CodecError(f"col_idx_ids gives position {t} ({name!r}) token id {i} ({token}), which is "
                                 "not one of that column's tokens; the vocabulary does not match.")
            seen.add(i)


def _order(codec: RtfCodec, vocab: int) -> np.ndarray:
    first = [codec.tokens.index(t) for t in (PAD, BOS, EOS)]
    placed = first + [i for ids in codec.position_ids for i in ids]
    rest = sorted(set(range(vocab)) - set(placed))
    return np.array(placed + rest, dtype=np.int64)


def _groups(codec: RtfCodec) -> list[Group]:
    by_name = {c.name: c for c in codec.columns}
    positions: dict[str, list[int]] = {}
    kinds: dict[str, str] = {}
    for t, name in enumerate(codec.processed_columns):
        kind, source = split_processed(name)
        if kind == "DATETIME":
            raise CodecError(f"column {source!r} holds dates; REaLTabFormer date columns are not supported yet.")
        positions.setdefault(source, []).append(t)
        kinds[source] = kind
    groups = []
    for source, where in positions.items():
        if where != list(range(where[0], where[0] + len(where))):  # a number's state is carried part to part
            raise CodecError(f"the token positions of column {source!r} ({', '.join(map(str, where))}) are not "
                             "consecutive; the vocabulary does not match.")
        hidden = source not in by_name
        written = source
        if hidden:  # only the teacher-forcing copy of the target may write a column the table does not hold
            target = codec.target
            if not (target and source == f"{TEACHER_FORCING}_{target}" and target in by_name):
                raise CodecError(f"processed column {codec.processed_columns[where[0]]!r} writes {source!r}, "
                                 "which is not one of the table's columns; the vocabulary does not match.")
            written = target
        column = by_name[written]
        groups.append(Group(written, column, where, hidden))
        _check_column(column, kinds[source], where, hidden)
    unwritten = [c.name for c in codec.columns if c.name not in positions]
    if unwritten:
        raise CodecError(f"no token position writes column(s) {', '.join(unwritten)}; "
                         "the vocabulary does not match.")
    return groups


def _check_column(column: RtfColumn, kind: str, where: list[int], hidden: bool) -> None:
    if (kind == "NUMERIC") != (column.kind == "numeric"):
        raise CodecError(f"column {column.name!r} is {column.kind} but its tokens are {kind}; "
                         "the config is inconsistent.")
    if column.kind == "categorical" and len(where) != 1:
        raise CodecError(f"categorical column {column.name!r} has {len(where)} token positions; it must have one.")
    rtext.check_dtype(column.name, column.dtype)
    if column.kind == "numeric" and not hidden:
        transform: dict[str, Any] = column.transform or {}
        if "zfill" not in transform and not all(k in transform for k in FLOAT_KEYS):
            raise CodecError(f"numeric column {column.name!r} has no col_transform_data (zfill, or "
                             f"{', '.join(FLOAT_KEYS)}); the config is incomplete.")


def _links(groups: list[Group], values: list[list[str]], offsets: list[int], missing_ids: torch.Tensor,
           vocab: int) -> dict[int, tuple[int, torch.Tensor]]:
    """Later parts of a number that can be missing: missing iff the first part is."""
    links = {}
    for group in groups:
        if group.column.kind != "numeric":
            continue
        first, *rest = group.positions
        for t in rest:
            here = torch.zeros(vocab, dtype=torch.bool)
            here[offsets[t] : offsets[t] + len(values[t])] = missing_ids[offsets[t] : offsets[t] + len(values[t])]
            if not here.any():
                continue
            if bool(here.sum() == len(values[t])):
                raise CodecError(f"digit position {t} of column {group.source!r} has only missing-value tokens; "
                                 "the vocabulary is inconsistent.")
            links[t] = (first, here)
    return links
