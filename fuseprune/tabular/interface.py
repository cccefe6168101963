"""The codec interface: what sampling, training, scoring, pruning and evaluation need of a codec.

Two codecs implement it: :class:`~fuseprune.tabular.codec.TableCodec`, fitted
by fuseprune, and :class:`~fuseprune.tabular.realtabformer.RtfCodec`, the
vocabulary of a model imported from REaLTabFormer. Code outside a codec's own
modules uses only these members (never a codec's private layout), so it works
on both; :func:`~fuseprune.tabular.codec.load_codec` reads either from a
model folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

from fuseprune.tabular.constraints import PositionTables


class Codec(Protocol):
    """Table rows <-> token id rows ``BOS t_0 ... t_{n-1} EOS``, with the tokens allowed at every position."""

    @property
    def column_names(self) -> list[str]:
        """Column names in row order."""

    @property
    def vocab_size(self) -> int:
        """Number of distinct token ids."""

    @property
    def sequence_length(self) -> int:
        """Tokens per row, BOS and EOS included."""

    def token_names(self) -> list[str]:
        """Readable name of every token id."""

    def allowed_mask(self) -> torch.Tensor:
        """Boolean (sequence_length - 1, vocab_size): the tokens that may follow t tokens, whatever they were."""

    def allowed_next(self, prefix: torch.Tensor, static: torch.Tensor | None = None) -> torch.Tensor:
        """Boolean (rows, vocab_size): the tokens allowed after each row's ``prefix`` (rows, t)."""

    def logit_bias(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        """Additive logit mask, static or (with full rows ``ids``) exactly what the sampler allows along them."""

    def constraint_tables(self) -> PositionTables:
        """The rule of :meth:`allowed_next` as the lookup tables the sampler decodes with."""

    def example_row(self) -> pd.DataFrame:
        """One decoded row with every column's dtype and no missing value (the schema of sampled rows)."""

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        """Encode rows as a LongTensor (rows, sequence_length)."""

    def decode(self, ids: torch.Tensor | np.ndarray) -> pd.DataFrame:
        """Decode token ids (rows, sequence_length) into rows of the table's dtypes."""

    def check_columns(self, frame: pd.DataFrame) -> None:
        """Raise a one-line error unless ``frame`` has exactly the codec's columns."""

    def metadata(self) -> dict[str, Any]:
        """SDMetrics single-table metadata: the kind (sdtype) of every column."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""

    def check_model_config(self, vocab_size: int, n_positions: int) -> None:
        """Raise ``CodecError`` unless a network of this vocabulary and context length fits the codec."""

    def save(self, folder: str | Path) -> Path:
        """Write ``codec.json`` into ``folder`` (atomically) and return its path."""
