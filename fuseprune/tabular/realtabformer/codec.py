"""RtfCodec: a REaLTabFormer model's vocabulary as a fuseprune codec.

It implements the codec interface (:class:`~fuseprune.tabular.interface.Codec`), so sampling,
training, scoring, pruning, distillation and evaluation work on an imported
model unchanged. Token ids are REaLTabFormer's, reordered: ``<pad> <bos> <eos>``
first (ids 0, 1, 2, as every fuseprune model has them), then the tokens of each
position (``col_idx_ids``) in order, then REaLTabFormer's other special tokens,
which no position allows. The importer reorders the embedding rows the same
way, so logits are REaLTabFormer's, permuted.

Each position allows the tokens REaLTabFormer's own sampler allows there
(``col_idx_ids``), with one more rule its decoding implies: the parts of a
number are either all missing (``@``) or all digits, so every sampled row is
one REaLTabFormer's decoding keeps (it discards the mixed ones). Decoding
follows REaLTabFormer's (see :mod:`~fuseprune.tabular.realtabformer.text`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from fuseprune.errors import CodecError
from fuseprune.files import write_json_atomic
from fuseprune.tabular.codec import (
    BOS_ID,
    CODEC_FILE,
    EOS_ID,
    check_codec_fits,
    check_frame_columns,
    load_codec,
)
from fuseprune.tabular.constraints import PositionTables
from fuseprune.tabular.realtabformer import text as rtext
from fuseprune.tabular.realtabformer.constraints import missing_tables
from fuseprune.tabular.realtabformer.layout import codec_fields
from fuseprune.tabular.realtabformer.schema import (
    DIGITS,
    KIND,
    SCHEMA_VERSION,
    check_codec,
)
from fuseprune.tabular.realtabformer.structure import Group, Layout, build_layout


@dataclass(frozen=True)
class RtfColumn:
    """One column of the table as REaLTabFormer wrote it.

    Attributes:
        name: Column name.
        kind: ``numeric`` (written in digit parts) or ``categorical`` (one token per value).
        dtype: The dtype REaLTabFormer recorded (``column_dtypes``); decoded values are cast to it.
        has_missing: Whether the column had missing values (``column_has_missing``).
        transform: REaLTabFormer's ``col_transform_data`` of a numeric column.
    """

    name: str
    kind: str
    dtype: str
    has_missing: bool
    transform: dict[str, Any] | None = None


@dataclass(frozen=True)
class RtfCodec:
    """Encodes rows with a REaLTabFormer vocabulary and decodes them as REaLTabFormer does.

    Attributes:
        tokens: REaLTabFormer's vocabulary, indexed by its token id.
        processed_columns: REaLTabFormer's name of every token position.
        position_ids: REaLTabFormer ids allowed at each position (``col_idx_ids``).
        columns: The table's columns, in order.
        target: REaLTabFormer's ``target_col``, whose copy leads each row, or None.
        settings: REaLTabFormer's numeric settings, kept for export.
    """

    tokens: tuple[str, ...]
    processed_columns: tuple[str, ...]
    position_ids: tuple[tuple[int, ...], ...]
    columns: tuple[RtfColumn, ...]
    target: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._layout  # noqa: B018 - builds and checks the layout now, so a bad vocabulary fails early

    @cached_property
    def _layout(self) -> Layout:
        return build_layout(self)

    @property
    def column_names(self) -> list[str]:
        """Column names in row order."""
        return [c.name for c in self.columns]

    @property
    def vocab_size(self) -> int:
        """Number of distinct token ids (REaLTabFormer's whole vocabulary)."""
        return len(self.tokens)

    @property
    def sequence_length(self) -> int:
        """Tokens per row, BOS and EOS included."""
        return len(self.processed_columns) + 2

    @property
    def order(self) -> np.ndarray:
        """REaLTabFormer's id of each fuseprune token id."""
        return self._layout.order

    def token_names(self) -> list[str]:
        """Readable name (REaLTabFormer's token) of every token id."""
        return [self.tokens[i] for i in self._layout.order]

    def allowed_mask(self) -> torch.Tensor:
        """Boolean (sequence_length - 1, vocab_size): row t lists the tokens that may follow t tokens."""
        layout = self._layout
        mask = torch.zeros(self.sequence_length - 1, self.vocab_size, dtype=torch.bool)
        for t, (offset, size) in enumerate(zip(layout.offsets, layout.sizes, strict=True)):
            mask[t, offset : offset + size] = True
        mask[-1, EOS_ID] = True
        return mask

    def allowed_next(self, prefix: torch.Tensor, static: torch.Tensor | None = None) -> torch.Tensor:
        """Boolean (rows, vocab_size): the tokens allowed after each row's ``prefix`` (rows, t)."""
        t = prefix.shape[1] - 1
        static = self.allowed_mask() if static is None else static
        allowed = static[t].expand(len(prefix), -1).clone()
        link = self._layout.links.get(t)
        if link is not None:
            first, missing_here = link
            missing_first = self._layout.missing_ids[prefix[:, first + 1]]
            allowed &= torch.where(missing_first[:, None], missing_here[None, :], ~missing_here[None, :])
        return allowed

    def logit_bias(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        """Additive logit mask: 0 where a token is allowed, -inf elsewhere (see ``TableCodec.logit_bias``)."""
        static = self.allowed_mask()
        if ids is None:
            allowed = static
        else:
            allowed = static.unsqueeze(0).repeat(len(ids), 1, 1)
            for t in self._layout.links:
                allowed[:, t] = self.allowed_next(ids[:, : t + 1], static)
        return torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))

    def constraint_tables(self) -> PositionTables:
        """:meth:`allowed_next` as the sampler's lookup tables (see :func:`.constraints.missing_tables`)."""
        return missing_tables(self._layout)

    def example_row(self) -> pd.DataFrame:
        """One row with every column's dtype and no missing value: the first token writing none at every position."""
        layout = self._layout
        ids = [BOS_ID, *(int(o) + j for o, j in zip(layout.offsets, layout.present, strict=True)), EOS_ID]
        return self.decode(torch.tensor([ids]))

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        """Encode rows as a LongTensor (rows, sequence_length), as REaLTabFormer tokenises them for training."""
        self.check_columns(frame)
        layout = self._layout
        local = np.zeros((len(frame), len(self.processed_columns)), dtype=np.int64)
        for group in layout.groups:
            local[:, group.positions] = self._encode_group(group, frame[group.source])
        ids = local + np.asarray(layout.offsets)[None, :]
        ends = [np.full((len(frame), 1), i, dtype=np.int64) for i in (BOS_ID, EOS_ID)]
        return torch.from_numpy(np.concatenate([ends[0], ids, ends[1]], axis=1))

    def _encode_group(self, group: Group, series: pd.Series) -> np.ndarray:
        lookups = [self._layout.lookup[t] for t in group.positions]
        parts_of: dict[Any, list[int]] = {}
        rows = []
        for value in series.tolist():
            key = ("NA",) if pd.isna(value) else (type(value).__name__, value)
            if key not in parts_of:
                pairs = list(zip(self._parts(group, value), lookups, strict=True))
                known = [lookup[p] for p, lookup in pairs if p is not None and p in lookup]
                if len(known) != len(pairs):
                    missing = next(p for p, lookup in pairs if p is None or p not in lookup)
                    raise CodecError(
                        f"column {group.source!r} holds {value!r}, which the model's vocabulary cannot write "
                        f"(no token {missing!r}); use the data the model was trained on."
                    )
                parts_of[key] = known
            rows.append(parts_of[key])
        return np.array(rows, dtype=np.int64).reshape(len(series), len(group.positions))

    def _parts(self, group: Group, value: Any) -> Sequence[str | None]:
        if group.column.kind == "categorical":
            return [rtext.category_text(value)]
        transform = group.column.transform or {}
        try:
            number = None if pd.isna(value) else float(value)
            if DIGITS in transform:  # written by fuseprune's export: one digit per part
                return rtext.digit_parts(number, transform[DIGITS])
            text = rtext.number_text(number, transform)
        except (TypeError, ValueError) as exc:
            raise CodecError(
                f"column {group.source!r} must hold numbers; {value!r} cannot be written ({exc})."
            ) from None
        width = int(transform.get("numeric_nparts", self.settings.get("numeric_nparts", 1)))
        if text is None:
            return [self._layout.missing_text[t] for t in group.positions]
        if len(text) > width * len(group.positions):
            raise CodecError(f"column {group.source!r} holds {value!r}, wider than the model's "
                             f"{len(group.positions)} digit positions; use the data the model was trained on.")
        return rtext.split_text(text, width, len(group.positions))

    def decode(self, ids: torch.Tensor | np.ndarray) -> pd.DataFrame:
        """Decode token ids (rows, sequence_length) into rows, as REaLTabFormer's decoding reads them."""
        ids = np.asarray(ids.cpu() if isinstance(ids, torch.Tensor) else ids, dtype=np.int64)
        if ids.ndim != 2 or ids.shape[1] != self.sequence_length:
            raise CodecError(f"token ids must have shape (rows, {self.sequence_length}); got {ids.shape}.")
        layout = self._layout
        local = ids[:, 1:-1] - np.asarray(layout.offsets)[None, :]
        bad = (local < 0) | (local >= np.asarray(layout.sizes)[None, :])
        if bad.any():
            row, pos = map(int, np.argwhere(bad)[0])
            raise CodecError(f"token id {int(ids[row, pos + 1])} in row {row} is not allowed at position {pos + 1}.")
        parts = {g.source: self._decode_group(g, local) for g in layout.groups if not g.hidden}
        return pd.DataFrame({name: parts[name] for name in self.column_names})

    def _decode_group(self, group: Group, local: np.ndarray) -> pd.Series:
        column, values = group.column, self._layout.values
        texts = [""] * len(local)
        for t in group.positions:
            texts = [a + b for a, b in zip(texts, np.asarray(values[t], dtype=object)[local[:, t]], strict=True)]
        if column.kind == "categorical":
            missing = np.array([column.has_missing and rtext.is_missing_category(x) for x in texts], dtype=bool)
            domain = [v for v in values[group.positions[0]]
                      if not (column.has_missing and rtext.is_missing_category(v))]
            return rtext.restore_categories(column.name, texts, missing, column.dtype, domain)
        missing = np.array([rtext.is_missing_number(x) for x in texts], dtype=bool)
        numbers = np.array(
            [np.nan if m else rtext.parse_number(x) for x, m in zip(texts, missing, strict=True)], dtype=float
        )
        return rtext.restore_numbers(column.name, numbers, missing, column.dtype)

    def check_columns(self, frame: pd.DataFrame) -> None:
        """Raise a one-line error unless ``frame`` has exactly the codec's columns."""
        check_frame_columns(frame, self.column_names)

    def metadata(self) -> dict[str, Any]:
        """SDMetrics single-table metadata: the kind (sdtype) of every column."""
        def sdtype(column: RtfColumn) -> str:
            if column.dtype == "bool":
                return "boolean"
            return "numerical" if column.kind == "numeric" else "categorical"

        return {"columns": {c.name: {"sdtype": sdtype(c)} for c in self.columns}}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``kind`` tells :func:`~fuseprune.tabular.codec.load_codec` the class)."""
        return {"kind": KIND, "schema_version": SCHEMA_VERSION, "tokens": list(self.tokens),
                "processed_columns": list(self.processed_columns),
                "position_ids": [list(p) for p in self.position_ids],
                "columns": [asdict(c) for c in self.columns], "target": self.target, "settings": dict(self.settings)}

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> RtfCodec:
        """Rebuild a codec from :meth:`to_dict` output, checking every field first.

        Raises:
            CodecError: The payload fails the schema of :mod:`~fuseprune.tabular.realtabformer.schema`
                or its fields disagree (one line naming the field).
        """
        check_codec(payload)
        return cls(tuple(payload["tokens"]), tuple(payload["processed_columns"]),
                   tuple(tuple(p) for p in payload["position_ids"]),
                   tuple(RtfColumn(**c) for c in payload["columns"]), payload.get("target"),
                   dict(payload.get("settings", {})))

    @classmethod
    def from_rtf_config(cls, config: Mapping[str, Any]) -> RtfCodec:
        """Build the codec of a REaLTabFormer config (``rtf_config.json``, already checked to be tabular).

        Raises:
            CodecError: The vocabulary is malformed, too large or inconsistent (see :meth:`from_dict`).
        """
        return cls.from_dict({"kind": KIND, "schema_version": SCHEMA_VERSION, **codec_fields(config)})

    def check_model_config(self, vocab_size: int, n_positions: int) -> None:
        """Raise ``CodecError`` unless a network of this vocabulary and context length fits the codec."""
        check_codec_fits(self, vocab_size, n_positions)

    def save(self, folder: str | Path) -> Path:
        """Write ``codec.json`` into ``folder`` (atomically) and return its path."""
        return write_json_atomic(Path(folder) / CODEC_FILE, self.to_dict())

    @classmethod
    def load(cls, folder: str | Path) -> RtfCodec:
        """Read ``codec.json`` from ``folder`` (see :func:`~fuseprune.tabular.codec.load_codec`)."""
        return load_codec(folder, cls)
