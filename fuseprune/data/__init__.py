"""Tables to learn from: bundled data sets (all offline), CSV files, column kinds, the split."""

from __future__ import annotations

from fuseprune.data.catalog import DATASETS, DEFAULT_DATASET, DatasetInfo, target_of
from fuseprune.data.columns import COLUMN_KINDS, identifier_columns, infer_column_kinds, parse_column_overrides
from fuseprune.data.csvfile import parse_delimiter, read_csv, sniff_delimiter
from fuseprune.data.table import DEFAULT_HOLDOUT, ReadOptions, Table, load_table, split_frame, table_sha256

__all__ = [
    "COLUMN_KINDS",
    "DATASETS",
    "DEFAULT_DATASET",
    "DEFAULT_HOLDOUT",
    "DatasetInfo",
    "ReadOptions",
    "Table",
    "identifier_columns",
    "infer_column_kinds",
    "load_table",
    "parse_column_overrides",
    "parse_delimiter",
    "read_csv",
    "sniff_delimiter",
    "split_frame",
    "table_sha256",
    "target_of",
]
