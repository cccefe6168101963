"""Report figures from hand-made step records, with every expected value worked out by hand."""

from __future__ import annotations

import math

import pytest

from fuseprune.compare import GridConfig, ResultStore
from fuseprune.compare import analysis
from fuseprune.compare.report import write_report
from fuseprune.errors import DataError
from fuseprune.tabular.model import PRESETS, ModelPreset


def record(strategy, seed, step, quality, nll, keep=None, kept=(0, 1, 2), oracle=None, seconds=1.0):
    state = {"quality": quality, "holdout_nll": nll, "diagnostic": 1.0, "parameters": 100 - 10 * step,
             "rows_per_second": 50.0}
    if oracle is not None:
        state["oracle_impact"] = oracle
    # the next layer to go is the kept layer with the lowest keep score (ties: the later layer)
    next_layer = None if keep is None else kept[min(range(len(keep)), key=lambda i: (keep[i], -i))]
    return {"dataset": "iris", "seed": seed, "strategy": strategy, "step": step, "layers": 3 - step,
            "removed": [layer for layer in range(3) if layer not in kept], "kept": list(kept), "keep": keep,
            "next": next_layer, "rank_seconds": seconds, "state": state}


# A 3-layer teacher, two strategies, two seeds. Oracle impact [0.1, 0.5, 0.3]: layer 0 matters least.
ORACLE = [0.1, 0.5, 0.3]
RECORDS = [
    # weight_norm: qualities 0.9, 0.8, 0.5 (seed 0) and 0.9, 0.6, 0.5 (seed 1) -> means 0.9, 0.7, 0.5
    record("weight_norm", 0, 0, 0.9, 10.0, keep=[1.0, 3.0, 2.0], oracle=ORACLE, seconds=2.0),
    record("weight_norm", 0, 1, 0.8, 11.0, keep=[3.0, 2.0], kept=(1, 2), seconds=2.0),
    record("weight_norm", 0, 2, 0.5, 14.0, kept=(1,)),
    record("weight_norm", 1, 0, 0.9, 10.0, keep=[1.0, 3.0, 2.0], oracle=ORACLE, seconds=2.0),
    record("weight_norm", 1, 1, 0.6, 11.0, keep=[3.0, 2.0], kept=(1, 2), seconds=2.0),
    record("weight_norm", 1, 2, 0.5, 14.0, kept=(1,)),
    # random: means 0.9, 0.75, 0.4 (the same on both seeds); ranks the oracle's order backwards
    *[record("random", seed, 0, 0.9, 10.0, keep=[3.0, 1.0, 2.0], oracle=ORACLE, seconds=0.5) for seed in (0, 1)],
    *[record("random", seed, 1, 0.75, 12.0, keep=[1.0, 2.0], kept=(0, 2), seconds=0.5) for seed in (0, 1)],
    *[record("random", seed, 2, 0.4, 15.0, kept=(2,)) for seed in (0, 1)],
]


@pytest.fixture()
def curve():
    return analysis.curves(analysis.steps_frame(RECORDS))


def test_curves_average_over_seeds(curve):
    weight_norm = curve[curve["strategy"] == "weight_norm"].sort_values("step")
    assert weight_norm["quality"].tolist() == pytest.approx([0.9, 0.7, 0.5])


def test_best_quality_is_the_highest_mean_after_at_least_one_removal(curve):
    table = analysis.best_quality(curve)
    assert table.loc["iris", "weight_norm"] == pytest.approx(0.7)
    assert table.loc["iris", "random"] == pytest.approx(0.75)
    assert analysis.winners(table, higher_is_better=True).to_dict() == {"random": 1, "weight_norm": 0}


def test_quality_at_half_takes_one_of_three_layers_removed(curve):
    assert analysis.at_half(curve).loc["iris"].to_dict() == pytest.approx({"random": 0.75, "weight_norm": 0.7})


def test_area_under_the_curve_is_the_trapezoid_mean(curve):
    # weight_norm: ((0.9 + 0.7) / 2 + (0.7 + 0.5) / 2) / 2 = 0.7; random: (0.825 + 0.575) / 2 = 0.7
    quality = analysis.area_under(curve)
    assert quality.loc["iris"].to_dict() == pytest.approx({"random": 0.7, "weight_norm": 0.7})
    assert analysis.winners(quality, True).to_dict() == {"random": 1, "weight_norm": 1}  # a tie counts for both
    # NLL: weight_norm (10.5 + 12.5) / 2 = 11.5; random (11 + 13.5) / 2 = 12.25; lower wins
    nll = analysis.area_under(curve, "holdout_nll")
    assert nll.loc["iris"].to_dict() == pytest.approx({"random": 12.25, "weight_norm": 11.5})
    assert analysis.winners(nll, False).to_dict() == {"weight_norm": 1, "random": 0}


def test_the_oracle_is_left_out_of_winner_counts(curve):
    table = analysis.best_quality(curve).assign(ablation=0.99)
    assert "ablation" not in analysis.winners(table, True)


def test_rank_correlation_with_the_oracle():
    # Impact [0.1, 0.5, 0.3] ranks 1, 3, 2; weight_norm keeps [1, 3, 2] (the same order), random [3, 1, 2] (the reverse).
    table = analysis.rank_correlation(RECORDS)
    assert table.loc["iris", "weight_norm"] == pytest.approx(1.0)
    assert table.loc["iris", "random"] == pytest.approx(-1.0)  # rank differences 2, -2, 0: 1 - 6*8/(3*8)


def test_layer_ranks_put_the_removed_first_layer_at_rank_one():
    ranks = analysis.layer_ranks(RECORDS)["iris"]
    assert ranks.loc["weight_norm"].tolist() == [1, 3, 2]
    assert ranks.loc["oracle"].tolist() == [1, 3, 2]  # smallest impact (layer 0) goes first


def test_wall_time_counts_only_steps_that_ranked():
    table = analysis.wall_time(analysis.steps_frame(RECORDS))
    assert table.loc["weight_norm", "seconds per cell"] == pytest.approx(4.0)
    assert table.loc["random", "seconds per ranking"] == pytest.approx(0.5)


def test_fusion_versus_best_signal_names_the_signal_and_says_who_wins():
    import pandas as pd

    table = pd.DataFrame({"fusion-rf": [0.8, 0.6], "weight_norm": [0.7, 0.65], "fisher": [0.75, 0.5]},
                         index=["a", "b"])
    verdict = analysis.fusion_versus_best_signal(table, higher_is_better=True)
    assert verdict["best single signal"].tolist() == ["fisher", "weight_norm"]
    assert verdict["fusion-rf at least as good"].tolist() == [True, False]


def test_an_empty_store_has_nothing_to_report():
    with pytest.raises(DataError, match="no finished steps"):
        analysis.steps_frame([])


@pytest.fixture
def three_layers(monkeypatch):
    """A 3-layer teacher preset, the depth of the hand-made records."""
    monkeypatch.setitem(PRESETS._items, "three", ModelPreset("three", 3, 2, 32, 0.0, "for the records above"))
    return "three"


def test_write_report_makes_tables_plots_and_markdown(tmp_path, three_layers):
    store = ResultStore(tmp_path / "results", GridConfig(datasets=("iris",), strategies=("weight_norm", "random"),
                                                          seeds=(0, 1), preset=three_layers))
    for r in RECORDS:
        store.append(r)
    report = write_report(store.folder)
    folder = store.folder / "report"
    assert report.missing_cells == 0
    assert {p.name for p in folder.iterdir()} >= {"report.md", "curves.png", "layer_ranks.png", "tables"}
    assert (folder / "curves.png").stat().st_size > 10_000
    text = (folder / "report.md").read_text()
    assert "![quality and holdout NLL against layers removed](curves.png)" in text
    assert "| random | 1 | 1 | 1 | 0 |" in text  # wins: best quality, at half, quality AUC (tie), not NLL
    assert "**0.7500**" in text and not math.isnan(report.tables["rank_correlation"].loc["iris", "random"])
