"""Every registered metric through the same checks; names, sets and the real rows they compare with."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fuseprune.errors import ConfigError, DataError, UnknownNameError
from fuseprune.evaluation import METRICS, RealRows, default_metrics, list_metrics, resolve_metrics, score_samples
from fuseprune.evaluation.metric import GOALS, Figure


@pytest.mark.parametrize("name", list_metrics())
def test_every_metric_reports_its_declared_figures_in_range_repeatably(name, process_real, process):
    metric = METRICS.get(name)()
    rows = process(120, 3)
    values = metric.compute(process_real, rows, seed=0)
    declared = {f.name: f for f in metric.figures}
    assert values and set(values) <= set(declared), f"{name} reported undeclared figures"
    for figure, value in values.items():
        assert declared[figure].low <= value <= declared[figure].high, (figure, value)
    assert metric.compute(process_real, rows, seed=0) == values  # seeded: the same rows give the same figures
    reference = metric.reference(process_real, 120, seed=0)
    assert set(reference) == set(values)
    assert metric.description and metric.figures and all(f.goal in GOALS for f in metric.figures)


def test_the_default_set_is_every_fast_metric_and_all_is_every_metric():
    assert default_metrics() == ("quality", "utility", "correlation", "detection", "fidelity", "privacy")
    assert resolve_metrics(["all"]) == tuple(list_metrics()) and "privacy-sdmetrics" in list_metrics()
    assert resolve_metrics(["privacy", "default", "privacy"])[:2] == ("privacy", "quality")  # no repeats


def test_an_unknown_metric_is_refused_naming_the_known_ones():
    with pytest.raises(UnknownNameError, match="unknown metric 'acuracy'; known: default, all, quality, utility"):
        resolve_metrics(["acuracy"])
    with pytest.raises(ConfigError, match="at least one metric"):
        resolve_metrics([])


def test_a_figure_goal_must_be_known():
    with pytest.raises(ConfigError, match="goal must be one of maximize, minimize, target"):
        Figure("x", "x", "up", 0.0, 1.0)


def test_real_rows_refuse_a_missing_target_and_mismatched_columns(process_real):
    with pytest.raises(DataError, match="--target names 'd', which is not a column; columns are: x, y, z, c"):
        RealRows(process_real.train, process_real.holdout, process_real.kinds, "d")
    with pytest.raises(DataError, match="holdout rows' columns do not match"):
        RealRows(process_real.train, process_real.holdout[["y", "x", "z", "c"]], process_real.kinds)


def test_score_samples_gives_mean_spread_per_seed_and_reference(process_real, process):
    samples = {0: process(100, 10), 1: process(100, 11)}
    figures = score_samples(process_real, samples, [METRICS.get("correlation")()])
    mae = figures["corr_mae"]
    assert len(mae.per_seed) == 2 and mae.mean == pytest.approx(sum(mae.per_seed) / 2)
    assert mae.std == pytest.approx(abs(mae.per_seed[0] - mae.per_seed[1]) / math.sqrt(2))
    assert mae.reference is not None and mae.goal == "minimize" and mae.metric == "correlation"
    without = score_samples(process_real, samples, [METRICS.get("correlation")()], reference=False)
    assert without["corr_mae"].reference is None and without["corr_mae"].per_seed == mae.per_seed


def test_an_undefined_figure_is_none_not_nan(process_real):
    # a holdout with one class: ROC-AUC has no negatives to rank, so it is undefined
    real = RealRows(process_real.train, process_real.holdout.assign(c="hi"), process_real.kinds, "c")
    figures = score_samples(real, {0: process_real.train}, [METRICS.get("utility")()])
    assert figures["utility_roc_auc"].mean is None and figures["utility_roc_auc"].per_seed == (None,)
    assert isinstance(pd.Series(figures["utility_accuracy"].to_dict()["per_seed"]).iloc[0], float)
