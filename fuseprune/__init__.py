"""fuseprune: layer pruning with fused importance signals, for any transformers model.

The top level is the engine, stage by stage (imported lazily, so ``import fuseprune`` is quick):

- score: :func:`score_layers` -> :class:`ScoreTable`
- plan: :func:`make_plan` -> :class:`PrunePlan` (fusion: :class:`FusionBank`, :class:`LinearFusion`,
  :class:`ForestFusion`)
- apply: :func:`apply_plan`
- distill: :class:`DistillationLoss` (:class:`DistillConfig`), :func:`distill_model`, :func:`distill_step`,
  :class:`DistillationCallback`
- extend: :class:`Signal` and :func:`register_signal` (reads a :class:`LayerTrace`);
  :class:`Strategy` and :func:`register_strategy` (returns a :class:`Ranking` given a :class:`RankContext`)

The apps are namespaces of their own: :mod:`fuseprune.tabular` (the GPT-2 row
generator: train, sample, score/plan/prune/distil/evaluate a TabularGPT,
REaLTabFormer import and export, fusion banks) and :mod:`fuseprune.compare`
(strategy comparison grids and their reports). Data sets: :mod:`fuseprune.data`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fuseprune.lazy import lazy_exports
from fuseprune.version import __version__

if TYPE_CHECKING:
    from fuseprune.distill import DistillationCallback as DistillationCallback
    from fuseprune.distill import DistillationLoss as DistillationLoss
    from fuseprune.distill import DistillConfig as DistillConfig
    from fuseprune.distill import distill_model as distill_model
    from fuseprune.distill import distill_step as distill_step
    from fuseprune.errors import FusepruneError as FusepruneError
    from fuseprune.fusion import ForestFusion as ForestFusion
    from fuseprune.fusion import FusionBank as FusionBank
    from fuseprune.fusion import LinearFusion as LinearFusion
    from fuseprune.pruning import PrunePlan as PrunePlan
    from fuseprune.pruning import RankContext as RankContext
    from fuseprune.pruning import Ranking as Ranking
    from fuseprune.pruning import Strategy as Strategy
    from fuseprune.pruning import apply_plan as apply_plan
    from fuseprune.pruning import make_plan as make_plan
    from fuseprune.pruning import register_strategy as register_strategy
    from fuseprune.scoring import LayerTrace as LayerTrace
    from fuseprune.scoring import ScoreTable as ScoreTable
    from fuseprune.scoring import Signal as Signal
    from fuseprune.scoring import register_signal as register_signal
    from fuseprune.scoring import score_layers as score_layers

_EXPORTS = {
    "DistillConfig": "fuseprune.distill",
    "DistillationCallback": "fuseprune.distill",
    "DistillationLoss": "fuseprune.distill",
    "ForestFusion": "fuseprune.fusion",
    "FusepruneError": "fuseprune.errors",
    "FusionBank": "fuseprune.fusion",
    "LayerTrace": "fuseprune.scoring",
    "LinearFusion": "fuseprune.fusion",
    "PrunePlan": "fuseprune.pruning",
    "RankContext": "fuseprune.pruning",
    "Ranking": "fuseprune.pruning",
    "ScoreTable": "fuseprune.scoring",
    "Signal": "fuseprune.scoring",
    "Strategy": "fuseprune.pruning",
    "apply_plan": "fuseprune.pruning",
    "distill_model": "fuseprune.distill",
    "distill_step": "fuseprune.distill",
    "make_plan": "fuseprune.pruning",
    "register_signal": "fuseprune.scoring",
    "register_strategy": "fuseprune.pruning",
    "score_layers": "fuseprune.scoring",
}

__all__ = [
    "DistillConfig",
    "DistillationCallback",
    "DistillationLoss",
    "ForestFusion",
    "FusepruneError",
    "FusionBank",
    "LayerTrace",
    "LinearFusion",
    "PrunePlan",
    "RankContext",
    "Ranking",
    "ScoreTable",
    "Signal",
    "Strategy",
    "__version__",
    "apply_plan",
    "distill_model",
    "distill_step",
    "make_plan",
    "register_signal",
    "register_strategy",
    "score_layers",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
