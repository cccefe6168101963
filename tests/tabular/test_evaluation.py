from __future__ import annotations

import json

import numpy as np
import pytest

from fuseprune.errors import ConfigError, DataError, UnknownNameError
from fuseprune.evaluation import default_metrics, score_rows
from fuseprune.tabular.evaluation import EvalConfig, EvaluationRecord, evaluate
from fuseprune.tabular.speed import measure_sampling_speed


def test_real_rows_scored_against_themselves_are_perfect(tiny_bundle, wisconsin):
    frame = wisconsin.frame.dropna().head(300)
    scores = score_rows(frame, frame.copy(), tiny_bundle.codec)
    assert scores.quality == pytest.approx(1.0)
    assert scores.diagnostic == pytest.approx(1.0)


def test_independently_shuffled_columns_keep_shapes_but_lose_pair_trends(tiny_bundle, wisconsin):
    frame = wisconsin.frame.dropna().reset_index(drop=True)
    rng = np.random.default_rng(0)
    shuffled = frame.apply(lambda col: col.iloc[rng.permutation(len(col))].reset_index(drop=True))
    scores = score_rows(frame, shuffled, tiny_bundle.codec)
    assert scores.column_shapes == pytest.approx(1.0)
    # the nine cell scores are strongly correlated in the real data; shuffling destroys that
    assert scores.column_pair_trends < 0.8
    assert scores.quality == pytest.approx((scores.column_shapes + scores.column_pair_trends) / 2)


def test_evaluation_record_measures_everything(tiny_bundle, wisconsin, tmp_path):
    train, holdout = wisconsin.split()
    config = EvalConfig(seeds=(0, 1), n_rows=200, speed_rows=64, speed_repeats=2, batch_size=64)
    record = evaluate(tiny_bundle, train, holdout, config, data_name="breast-cancer-wisconsin")
    assert record.n_rows == 200 and record.seeds == (0, 1) and len(record.quality_per_seed) == 2
    assert record.quality == pytest.approx(np.mean(record.quality_per_seed))
    assert 0.0 < record.quality <= record.ceiling + 0.05 and record.ceiling > 0.9
    assert record.parameters == sum(p.numel() for p in tiny_bundle.model.parameters())
    assert record.bytes_on_disk > 4 * record.parameters  # float32 weights plus config and codec
    assert record.layers == 2 and record.rows_per_second > 0 and record.speed_batch_size == 64
    assert record.holdout_nll > 0
    # the default set, each figure over both seeds beside its reference; the bundled data names its target
    assert record.target == "class"
    assert {f.metric for f in record.metrics.values()} == set(default_metrics())
    assert record.metrics["quality"].mean == record.quality and record.metrics["quality"].reference == record.ceiling
    for name, figure in record.metrics.items():
        assert len(figure.per_seed) == 2 and figure.reference is not None, name
    saved = json.loads(record.save(tmp_path / "record.json").read_text())
    assert saved["quality"] == record.quality and saved["seeds"] == [0, 1]
    assert EvaluationRecord.from_dict(saved) == record
    labels = [row[0] for row in record.rows()]
    assert "utility: macro-F1" in labels and "DCR: share nearer training rows" in labels


def test_a_chosen_metric_set_is_all_that_is_measured(tiny_bundle, wisconsin):
    train, holdout = wisconsin.split()
    config = EvalConfig(seeds=(0,), n_rows=100, speed_rows=16, speed_repeats=1, metrics=("privacy",), ceiling=False)
    record = evaluate(tiny_bundle, train, holdout, config)
    assert set(record.metrics) == {"dcr_share", "dcr_p5", "copy_share"}
    assert record.quality is None and record.ceiling is None and record.metrics["dcr_share"].reference is None
    assert record.rows()[0][0] == "DCR: share nearer training rows"


def test_a_table_without_a_known_target_leaves_utility_out_of_the_default_set(tiny_bundle, wisconsin):
    train, holdout = wisconsin.split()
    source = tiny_bundle.info["data"]["source"]
    tiny_bundle.info["data"]["source"] = "somewhere/my.csv"  # as if trained on a CSV file
    try:
        config = EvalConfig(seeds=(0,), n_rows=100, speed_rows=16, speed_repeats=1, metrics=("default",))
        record = evaluate(tiny_bundle, train, holdout, config)
        assert record.target is None and not any(f.metric == "utility" for f in record.metrics.values())
        with pytest.raises(DataError, match="pass --target COLUMN"):
            evaluate(tiny_bundle, train, holdout, EvalConfig(seeds=(0,), metrics=("utility",)))
    finally:
        tiny_bundle.info["data"]["source"] = source


def test_default_row_count_is_the_training_split_size(tiny_bundle, wisconsin):
    train, holdout = wisconsin.split()
    config = EvalConfig(seeds=(0,), speed_rows=16, speed_repeats=1, metrics=("correlation",))
    record = evaluate(tiny_bundle, train, holdout, config)
    assert record.n_rows == len(train) == 559


def test_speed_is_the_median_of_the_runs(tiny_bundle):
    result = measure_sampling_speed(tiny_bundle.model, tiny_bundle.codec, n_rows=32, batch_size=16, repeats=3)
    assert len(result.runs) == 3
    assert result.rows_per_second == sorted(result.runs)[1]


def test_eval_config_rejects_bad_values():
    with pytest.raises(ConfigError, match="`seeds` must name at least one seed"):
        EvalConfig(seeds=())
    with pytest.raises(ConfigError, match="`speed_repeats` must be at least 1"):
        EvalConfig(speed_repeats=0)
    with pytest.raises(UnknownNameError, match="unknown metric 'qualty'"):
        EvalConfig(metrics=("qualty",))
