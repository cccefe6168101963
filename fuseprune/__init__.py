"""fuseprune: layer pruning with fused importance signals for tabular transformers.

The public API, stage by stage (imported lazily, so ``import fuseprune`` is quick):

- data: :func:`load_table`, :data:`DATASETS`
- tabular model: :class:`TableCodec`, :class:`TabularGPT`, :func:`train_on_table`, :func:`sample_rows`,
  :func:`sample_to_file` (:class:`ScaleConfig`)
- REaLTabFormer models: :func:`import_realtabformer`, :func:`export_realtabformer`
- scoring: :func:`score_layers`, :func:`score_tabular`, :class:`ScoreTable`
- fusion: :class:`FusionBank`, :class:`LinearFusion`, :class:`ForestFusion`, :func:`validate`
- pruning: :func:`make_plan`, :func:`make_tabular_plan`, :class:`PrunePlan`, :func:`apply_plan`, :func:`prune_tabular`
- distillation: :class:`DistillationLoss`, :func:`distill_step`, :func:`distill_tabular`, :class:`DistillationCallback`
- evaluation: :func:`evaluate`, :class:`EvaluationRecord`
- comparisons: :class:`GridConfig`, :func:`run_grid`, :func:`write_report`
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "DATASETS": "fuseprune.data",
    "DistillConfig": "fuseprune.distill",
    "DistillationCallback": "fuseprune.distill",
    "DistillationLoss": "fuseprune.distill",
    "EvalConfig": "fuseprune.evaluation",
    "EvaluationRecord": "fuseprune.evaluation",
    "ForestFusion": "fuseprune.fusion",
    "FusepruneError": "fuseprune.errors",
    "GridConfig": "fuseprune.compare",
    "FusionBank": "fuseprune.fusion",
    "LinearFusion": "fuseprune.fusion",
    "PrunePlan": "fuseprune.pruning",
    "ScaleConfig": "fuseprune.tabular",
    "ScoreTable": "fuseprune.scoring",
    "Table": "fuseprune.data",
    "TableCodec": "fuseprune.tabular",
    "TabularGPT": "fuseprune.tabular",
    "TrainConfig": "fuseprune.tabular",
    "apply_plan": "fuseprune.pruning",
    "distill_step": "fuseprune.distill",
    "distill_tabular": "fuseprune.distill",
    "evaluate": "fuseprune.evaluation",
    "export_realtabformer": "fuseprune.tabular.realtabformer",
    "import_realtabformer": "fuseprune.tabular.realtabformer",
    "load_table": "fuseprune.data",
    "make_plan": "fuseprune.pruning",
    "make_tabular_plan": "fuseprune.pruning",
    "prune_tabular": "fuseprune.pruning",
    "run_grid": "fuseprune.compare",
    "sample_rows": "fuseprune.tabular",
    "sample_to_file": "fuseprune.tabular",
    "score_layers": "fuseprune.scoring",
    "score_tabular": "fuseprune.scoring",
    "train_on_table": "fuseprune.tabular",
    "validate": "fuseprune.fusion",
    "write_report": "fuseprune.compare.report",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'fuseprune' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
