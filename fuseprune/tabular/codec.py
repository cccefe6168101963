"""TableCodec: a table's rows <-> token id sequences, exactly and reversibly.

A row becomes ``BOS col1 ... colN EOS``, where each column takes one or more
token positions (see :mod:`fuseprune.tabular.columns`). Every position has its
own set of allowed tokens, which the sampler and the training loss use to mask
the model's logits, so every generated row decodes.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

from fuseprune.data.columns import infer_column_kinds
from fuseprune.errors import CodecError, DataError, PathNotFoundError
from fuseprune.files import write_json_atomic
from fuseprune.tabular.columns import HEAD_PLUS, ColumnCodec
from fuseprune.tabular.constraints import PositionTables, bounded_tables
from fuseprune.tabular.schema import check_table

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
CODEC_FILE = "codec.json"
SCHEMA_VERSION = 1
DEFAULT_MAX_VALUES = 32


@dataclass(frozen=True)
class TableCodec:
    """Encodes table rows as token ids and decodes them back (a :class:`~fuseprune.tabular.interface.Codec`).

    Attributes:
        columns: One :class:`ColumnCodec` per column, in row order.
    """

    columns: tuple[ColumnCodec, ...]

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        kinds: Mapping[str, str] | None = None,
        max_values: int = DEFAULT_MAX_VALUES,
    ) -> TableCodec:
        """Learn the encoding of every column of ``frame``.

        Args:
            frame: Rows to fit on (every value the codec must encode later).
            kinds: Column kinds; inferred from dtypes where not given.
            max_values: Numerical columns with at most this many distinct values
                get one token per value; wider ones are written digit by digit.
        """
        if len(frame) == 0 or frame.shape[1] == 0:
            raise DataError("cannot fit a codec on an empty table; pass rows with at least one column.")
        kinds = infer_column_kinds(frame, {k: v for k, v in (kinds or {}).items() if k in frame.columns})
        return cls(tuple(ColumnCodec.fit(frame[c], kinds[str(c)], max_values) for c in frame.columns))

    @property
    def column_names(self) -> list[str]:
        """Column names in row order."""
        return [c.name for c in self.columns]

    @cached_property
    def _positions(self) -> list[tuple[int, int]]:
        """(column index, number of tokens) of every token position, in order."""
        return [(i, len(tokens)) for i, col in enumerate(self.columns) for tokens in col.position_tokens()]

    @cached_property
    def _offsets(self) -> np.ndarray:
        sizes = [size for _, size in self._positions]
        return len(SPECIAL_TOKENS) + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    @property
    def vocab_size(self) -> int:
        """Number of distinct token ids."""
        return len(SPECIAL_TOKENS) + sum(size for _, size in self._positions)

    @property
    def sequence_length(self) -> int:
        """Tokens per row, BOS and EOS included."""
        return len(self._positions) + 2

    def token_names(self) -> list[str]:
        """Readable name of every token id."""
        return list(SPECIAL_TOKENS) + [t for col in self.columns for pos in col.position_tokens() for t in pos]

    @cached_property
    def _digit_positions(self) -> dict[int, tuple[int, int, int | None]]:
        """Token position -> (column index, digit index, head position or None) for digit positions."""
        layout, position = {}, 0
        for index, col in enumerate(self.columns):
            head = position if col.head else None
            first = position + (1 if col.head else 0)
            for digit in range(col.width if col.encoding == "digits" else 0):
                layout[first + digit] = (index, digit, head)
            position += len(col.position_tokens())
        return layout

    def allowed_mask(self) -> torch.Tensor:
        """Boolean (sequence_length - 1, vocab_size): row t lists the tokens that may follow t tokens.

        This is the static part; digits are further restricted by the digits
        before them (see :meth:`allowed_next`) so numbers stay in range.
        """
        mask = torch.zeros(self.sequence_length - 1, self.vocab_size, dtype=torch.bool)
        for t, ((_, size), offset) in enumerate(zip(self._positions, self._offsets, strict=True)):
            mask[t, offset : offset + size] = True
        mask[-1, EOS_ID] = True
        for index, digit, head in self._digit_positions.values():
            col = self.columns[index]
            if digit == 0 and head is not None and col.positive is None:  # no number >= 0 was fitted
                mask[head, int(self._offsets[head]) + col.head.index(HEAD_PLUS)] = False
        return mask

    def allowed_next(self, prefix: torch.Tensor, static: torch.Tensor | None = None) -> torch.Tensor:
        """Boolean (rows, vocab_size): the tokens allowed after each row's ``prefix`` (rows, t)."""
        t = prefix.shape[1] - 1
        static = self.allowed_mask() if static is None else static
        allowed = static[t].expand(len(prefix), -1).clone()
        if t in self._digit_positions:
            index, digit, head = self._digit_positions[t]
            col, offset = self.columns[index], int(self._offsets[t])
            first = t - digit + 1  # sequence index of the column's first digit (BOS shifts by one)
            heads = None if head is None else prefix[:, head + 1] - int(self._offsets[head])
            digits = prefix[:, first:] - torch.as_tensor(self._offsets[first - 1 : t], dtype=torch.long)
            allowed[:, offset : offset + 10] = col.allowed_digits(heads, digits)
        return allowed

    def logit_bias(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        """Additive logit mask: 0 where a token is allowed, -inf elsewhere.

        Without ``ids`` it is the static (sequence_length - 1, vocab_size) mask;
        with full rows ``ids`` it is (rows, sequence_length - 1, vocab_size) and
        also keeps every digit in range given the true digits before it, which
        is exactly what the sampler allows.
        """
        static = self.allowed_mask()
        if ids is None:
            allowed = static
        else:
            allowed = static.unsqueeze(0).repeat(len(ids), 1, 1)
            for t in self._digit_positions:
                allowed[:, t] = self.allowed_next(ids[:, : t + 1], static)
        return torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))

    def constraint_tables(self) -> PositionTables:
        """:meth:`allowed_next` as the sampler's lookup tables (see :mod:`fuseprune.tabular.constraints`)."""
        ranges = [(int(o), int(o) + size) for o, (_, size) in zip(self._offsets, self._positions, strict=True)]
        digits = {t: (self.columns[index], digit) for t, (index, digit, _) in self._digit_positions.items()}
        return bounded_tables(self.allowed_mask(), [*ranges, (EOS_ID, EOS_ID + 1)], digits)

    def example_row(self) -> pd.DataFrame:
        """One row with every column's dtype and no missing value: the first token of every position."""
        return self.decode(torch.tensor([[BOS_ID, *(int(o) for o in self._offsets), EOS_ID]]))

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        """Encode rows as a LongTensor (rows, sequence_length)."""
        self.check_columns(frame)
        local = np.concatenate([c.encode(frame[c.name]) for c in self.columns], axis=1)
        ids = local + self._offsets[None, :]
        bos = np.full((len(frame), 1), BOS_ID, dtype=np.int64)
        eos = np.full((len(frame), 1), EOS_ID, dtype=np.int64)
        return torch.from_numpy(np.concatenate([bos, ids, eos], axis=1))

    def decode(self, ids: torch.Tensor | np.ndarray) -> pd.DataFrame:
        """Decode token ids (rows, sequence_length) back into a DataFrame of the original dtypes."""
        ids = np.asarray(ids.cpu() if isinstance(ids, torch.Tensor) else ids, dtype=np.int64)
        if ids.ndim != 2 or ids.shape[1] != self.sequence_length:
            raise CodecError(f"token ids must have shape (rows, {self.sequence_length}); got {ids.shape}.")
        local = ids[:, 1:-1] - self._offsets[None, :]
        sizes = np.array([size for _, size in self._positions])
        bad = (local < 0) | (local >= sizes[None, :])
        if bad.any():
            row, pos = map(int, np.argwhere(bad)[0])
            raise CodecError(f"token id {int(ids[row, pos + 1])} in row {row} is not allowed at position {pos + 1}.")
        owner = np.array([i for i, _ in self._positions])
        parts = {c.name: c.decode(local[:, owner == i]) for i, c in enumerate(self.columns)}
        return pd.DataFrame(parts)

    def check_columns(self, frame: pd.DataFrame) -> None:
        """Raise a one-line error unless ``frame`` has exactly the codec's columns."""
        check_frame_columns(frame, self.column_names)

    def metadata(self) -> dict[str, Any]:
        """SDMetrics single-table metadata: the kind (sdtype) of every column."""
        return {"columns": {c.name: {"sdtype": c.kind} for c in self.columns}}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"schema_version": SCHEMA_VERSION, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> TableCodec:
        """Rebuild a codec from :meth:`to_dict` output, checking every field first.

        Raises:
            CodecError: The payload fails the schema of :mod:`fuseprune.tabular.schema` (one line naming the field).
        """
        columns = check_table(payload, SCHEMA_VERSION)
        return cls(tuple(ColumnCodec.from_dict(c, i) for i, c in enumerate(columns)))

    def check_model_config(self, vocab_size: int, n_positions: int) -> None:
        """Raise ``CodecError`` unless a network of this vocabulary and context length fits the codec."""
        check_codec_fits(self, vocab_size, n_positions)

    def save(self, folder: str | Path) -> Path:
        """Write ``codec.json`` into ``folder`` (atomically) and return its path."""
        return write_json_atomic(Path(folder) / CODEC_FILE, self.to_dict())

    @classmethod
    def load(cls, folder: str | Path) -> TableCodec:
        """Read ``codec.json`` from ``folder`` (see :func:`load_codec`)."""
        return load_codec(folder, cls)


def check_frame_columns(frame: pd.DataFrame, want: list[str]) -> None:
    """Raise a one-line error unless ``frame`` has exactly the columns ``want``."""
    have = [str(c) for c in frame.columns]
    missing = [c for c in want if c not in have]
    extra = [c for c in have if c not in want]
    if missing or extra:
        raise DataError(
            f"data columns do not match the model's codec: missing {missing or 'none'}, "
            f"unexpected {extra or 'none'}; use the table the model was trained on."
        )


CODEC_KINDS = {"table": "fuseprune.tabular.codec:TableCodec",
               "realtabformer": "fuseprune.tabular.realtabformer.codec:RtfCodec"}


def read_codec_file(folder: str | Path) -> tuple[Path, dict[str, Any]]:
    """The path of ``folder``'s ``codec.json`` and the JSON object it holds.

    Raises:
        PathNotFoundError: There is no ``codec.json``.
        CodecError: It is not UTF-8 text, not JSON (line and column named) or not a JSON object.
    """
    path = Path(folder) / CODEC_FILE
    if not path.is_file():
        raise PathNotFoundError(f"{str(path)!r} does not exist; is {str(folder)!r} a fuseprune model folder?")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CodecError(f"{str(path)!r} is not a valid codec file (not UTF-8 text).") from None
    except json.JSONDecodeError as exc:
        raise CodecError(f"{str(path)!r} is not a valid codec file (not JSON: {exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}).") from None
    if not isinstance(payload, dict):
        raise CodecError(f"{str(path)!r} is not a valid codec file: a codec must be a JSON object; "
                         f"got {type(payload).__name__}.")
    return path, payload


class CodecClass(Protocol):
    """A codec class: builds its codec from the payload of ``codec.json``."""

    def from_dict(self, payload: Mapping[str, Any]) -> Any:
        """The codec of ``payload``."""


def load_codec(folder: str | Path, cls: CodecClass | None = None) -> Any:
    """Read ``codec.json`` from ``folder`` as ``cls``, or as the codec class its ``kind`` names (``table`` if none).

    Raises:
        PathNotFoundError: There is no ``codec.json``.
        CodecError: It is damaged, of an unknown kind, or fails its class's schema (one line naming the file).
    """
    path, payload = read_codec_file(folder)
    if cls is None:
        kind = payload.get("kind", "table")
        if not isinstance(kind, str) or kind not in CODEC_KINDS:
            raise CodecError(f"{str(path)!r} has codec kind {kind!r:.60}; known: {', '.join(CODEC_KINDS)}.")
        module, name = CODEC_KINDS[kind].split(":")
        cls = getattr(importlib.import_module(module), name)
    try:
        return cls.from_dict(payload)
    except CodecError as exc:
        raise CodecError(f"{str(path)!r} is not a valid codec file: {exc}") from None


def check_codec_fits(codec: Any, vocab_size: int, n_positions: int) -> None:
    """Raise ``CodecError`` unless a network of ``vocab_size`` tokens and ``n_positions`` fits ``codec``."""
    if codec.vocab_size != vocab_size:
        raise CodecError(f"codec.json describes {codec.vocab_size} tokens but the model's vocab_size is "
                         f"{vocab_size}; the codec does not belong to this model.")
    if codec.sequence_length > n_positions:
        raise CodecError(f"codec.json describes rows of {codec.sequence_length} tokens but the model holds at "
                         f"most {n_positions} (n_positions); the codec does not belong to this model.")
