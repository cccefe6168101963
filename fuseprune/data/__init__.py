"""Tables to learn from: bundled data sets (all offline), CSV files, column kinds, the split."""

from __future__ import annotations

from fuseprune.data.catalog import DATASETS, DEFAULT_DATASET, DatasetInfo, target_of
from fuseprune.data.columns import COLUMN_KINDS, infer_column_kinds, parse_column_overrides
from fuseprune.data.table import DEFAULT_HOLDOUT, Table, load_table, split_frame

__all__ = [
    "COLUMN_KINDS",
    "DATASETS",
    "DEFAULT_DATASET",
    "DEFAULT_HOLDOUT",
    "DatasetInfo",
    "Table",
    "infer_column_kinds",
    "load_table",
    "parse_column_overrides",
    "split_frame",
    "target_of",
]
