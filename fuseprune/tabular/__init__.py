"""The tabular transformer: codec, GPT-2 model, training, loss and sampling."""

from __future__ import annotations

from fuseprune.tabular.codec import TableCodec, load_codec
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.loss import mean_row_nll, tabular_loss_fn
from fuseprune.tabular.model import PRESETS, ModelPreset, TabularGPT, build_model
from fuseprune.tabular.sampler import RowSampler, sample_ids, sample_rows
from fuseprune.tabular.stream import ScaleConfig, ScaleResult, sample_to_file
from fuseprune.tabular.train import TrainConfig, TrainHistory, split_of, train_on_table, train_tabular

__all__ = [
    "PRESETS",
    "Codec",
    "ModelPreset",
    "RowSampler",
    "ScaleConfig",
    "ScaleResult",
    "TableCodec",
    "TabularGPT",
    "TrainConfig",
    "TrainHistory",
    "build_model",
    "load_codec",
    "mean_row_nll",
    "sample_ids",
    "sample_rows",
    "sample_to_file",
    "split_of",
    "tabular_loss_fn",
    "train_on_table",
    "train_tabular",
]
