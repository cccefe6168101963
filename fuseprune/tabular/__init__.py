"""The tabular app: a GPT-2 row generator (codec, model, training, loss, sampling) and the engine's stages for it.

Imported at once: :class:`TableCodec`, :class:`TabularGPT`, :func:`train_on_table`,
:func:`sample_rows`, :func:`sample_to_file`, ... . Imported on first use (they
load the engine's stages): :func:`score_tabular` and :func:`calibration_batches`,
:func:`make_tabular_plan`, :func:`prune_tabular`, :func:`distill_tabular`,
:func:`evaluate` (:class:`EvalConfig`, :class:`EvaluationRecord`),
:func:`build_bank` (:class:`BankConfig`), :func:`import_realtabformer` and
:func:`export_realtabformer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fuseprune.lazy import lazy_exports
from fuseprune.tabular.codec import TableCodec, load_codec
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.loss import mean_row_nll, tabular_loss_fn
from fuseprune.tabular.model import PRESETS, ModelPreset, TabularGPT, build_model
from fuseprune.tabular.sampler import RowSampler, sample_ids, sample_rows
from fuseprune.tabular.stream import ScaleConfig, ScaleResult, sample_to_file
from fuseprune.tabular.train import TrainConfig, TrainHistory, split_of, train_on_table, train_tabular

if TYPE_CHECKING:
    from fuseprune.tabular.bank import BankConfig as BankConfig
    from fuseprune.tabular.bank import build_bank as build_bank
    from fuseprune.tabular.compressed import load_compressed as load_compressed
    from fuseprune.tabular.compressed import save_compressed as save_compressed
    from fuseprune.tabular.distill import distill_tabular as distill_tabular
    from fuseprune.tabular.evaluation import EvalConfig as EvalConfig
    from fuseprune.tabular.evaluation import EvaluationRecord as EvaluationRecord
    from fuseprune.tabular.evaluation import evaluate as evaluate
    from fuseprune.tabular.pruning import make_tabular_plan as make_tabular_plan
    from fuseprune.tabular.pruning import prune_tabular as prune_tabular
    from fuseprune.tabular.realtabformer import (
        export_realtabformer as export_realtabformer,
    )
    from fuseprune.tabular.realtabformer import (
        import_realtabformer as import_realtabformer,
    )
    from fuseprune.tabular.scoring import calibration_batches as calibration_batches
    from fuseprune.tabular.scoring import score_tabular as score_tabular

_EXPORTS = {
    "BankConfig": "fuseprune.tabular.bank",
    "EvalConfig": "fuseprune.tabular.evaluation",
    "EvaluationRecord": "fuseprune.tabular.evaluation",
    "build_bank": "fuseprune.tabular.bank",
    "calibration_batches": "fuseprune.tabular.scoring",
    "distill_tabular": "fuseprune.tabular.distill",
    "evaluate": "fuseprune.tabular.evaluation",
    "export_realtabformer": "fuseprune.tabular.realtabformer",
    "import_realtabformer": "fuseprune.tabular.realtabformer",
    "load_compressed": "fuseprune.tabular.compressed",
    "make_tabular_plan": "fuseprune.tabular.pruning",
    "prune_tabular": "fuseprune.tabular.pruning",
    "save_compressed": "fuseprune.tabular.compressed",
    "score_tabular": "fuseprune.tabular.scoring",
}

__all__ = [
    "PRESETS",
    "BankConfig",
    "Codec",
    "EvalConfig",
    "EvaluationRecord",
    "ModelPreset",
    "RowSampler",
    "ScaleConfig",
    "ScaleResult",
    "TableCodec",
    "TabularGPT",
    "TrainConfig",
    "TrainHistory",
    "build_bank",
    "build_model",
    "calibration_batches",
    "distill_tabular",
    "evaluate",
    "export_realtabformer",
    "import_realtabformer",
    "load_codec",
    "load_compressed",
    "make_tabular_plan",
    "mean_row_nll",
    "prune_tabular",
    "sample_ids",
    "sample_rows",
    "sample_to_file",
    "save_compressed",
    "score_tabular",
    "split_of",
    "tabular_loss_fn",
    "train_on_table",
    "train_tabular",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
