"""fuseprune: layer pruning with fused importance signals for tabular transformers.

The public API, stage by stage:

- data: :func:`load_table`, :data:`DATASETS`
- tabular model: :class:`TableCodec`, :class:`TabularGPT`, :func:`train_on_table`, :func:`sample_rows`
- scoring: :func:`score_layers`, :func:`score_tabular`, :class:`ScoreTable`
- evaluation: :func:`evaluate`, :class:`EvaluationRecord`
"""

from __future__ import annotations

__version__ = "0.1.0"

from fuseprune.data import DATASETS, Table, load_table
from fuseprune.errors import FusepruneError
from fuseprune.evaluation import EvalConfig, EvaluationRecord, evaluate
from fuseprune.scoring import ScoreTable, score_layers, score_tabular
from fuseprune.tabular import TableCodec, TabularGPT, TrainConfig, sample_rows, train_on_table

__all__ = [
    "DATASETS",
    "EvalConfig",
    "EvaluationRecord",
    "FusepruneError",
    "ScoreTable",
    "Table",
    "TableCodec",
    "TabularGPT",
    "TrainConfig",
    "__version__",
    "evaluate",
    "load_table",
    "sample_rows",
    "score_layers",
    "score_tabular",
    "train_on_table",
]
