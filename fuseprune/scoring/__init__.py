"""Layer scoring: many cheap importance signals from one shared forward/backward pass.

Use :func:`score_layers` (a TabularGPT on table rows:
:func:`fuseprune.tabular.score_tabular`); add a signal with
``@register_signal("name")`` on a :class:`Signal` subclass in its own module. ``random`` and ``ablation`` are
reference strategies (not trace-based) selectable by name alongside signals.
"""

from __future__ import annotations

# Importing each signal and reference module registers it.
from fuseprune.scoring import (  # noqa: F401
    act_norm,
    act_variance,
    attention_concentration,
    attention_entropy,
    block_influence,
    conductance,
    fisher,
    grad_norm,
    mi_redundancy,
    task_mi,
    taylor,
    weight_entropy,
    weight_norm,
)
from fuseprune.scoring.ablation import AblationReference, ablation_scores
from fuseprune.scoring.api import score_layers
from fuseprune.scoring.base import (
    FAMILIES,
    NEEDS,
    REFERENCES,
    SIGNALS,
    LossFn,
    Reference,
    Signal,
    list_references,
    list_signals,
    register_reference,
    register_signal,
)
from fuseprune.scoring.random_ref import RandomReference, random_scores
from fuseprune.scoring.scores import GOALS, LayerScores, normalise
from fuseprune.scoring.table import ScoreTable
from fuseprune.scoring.trace import LayerTrace, TraceConfig, trace_layers

__all__ = [
    "FAMILIES",
    "GOALS",
    "NEEDS",
    "REFERENCES",
    "SIGNALS",
    "AblationReference",
    "LayerScores",
    "LayerTrace",
    "LossFn",
    "RandomReference",
    "Reference",
    "ScoreTable",
    "Signal",
    "TraceConfig",
    "ablation_scores",
    "list_references",
    "list_signals",
    "normalise",
    "random_scores",
    "register_reference",
    "register_signal",
    "score_layers",
    "trace_layers",
]
