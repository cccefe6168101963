"""Records written as JSON never hold NaN or Infinity literals: unmeasured figures are null."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fuseprune.files import write_json_atomic
from fuseprune.jsonsafe import nan_to_none


def test_nan_to_none_replaces_every_non_finite_float_at_any_depth():
    payload = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": (np.float64("nan"), np.float32(2.5)),
               "e": "NaN", "f": 3, "g": None, "h": np.int64(4)}
    assert nan_to_none(payload) == {"a": None, "b": [1.0, None, {"c": None}], "d": [None, 2.5], "e": "NaN",
                                    "f": 3, "g": None, "h": 4}


def test_write_json_atomic_refuses_nan_loudly(tmp_path):
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_json_atomic(tmp_path / "x.json", {"quality": math.nan})
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    write_json_atomic(tmp_path / "x.json", nan_to_none({"quality": math.nan}))
    assert json.loads((tmp_path / "x.json").read_text()) == {"quality": None}


def test_an_evaluation_record_writes_an_unmeasured_figure_as_null(tmp_path):
    from fuseprune.tabular.evaluation import EvaluationRecord

    record = EvaluationRecord(data="iris", n_rows=10, seeds=(0,), quality=math.nan, quality_std=0.0,
                              quality_per_seed=(math.nan,), column_shapes=0.5, column_pair_trends=math.nan,
                              diagnostic=1.0, ceiling=None, ceiling_std=None, holdout_nll=math.inf, parameters=10,
                              bytes_on_disk=100, rows_per_second=5.0, speed_batch_size=8, layers=2)
    text = record.save(tmp_path / "record.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    loaded = json.loads(text)
    assert loaded["quality"] is None and loaded["quality_per_seed"] == [None] and loaded["holdout_nll"] is None
