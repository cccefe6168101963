"""Report figures from hand-made step records, with every expected value worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fuseprune.compare import GridConfig, ResultStore, analysis
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
    # per seed: weight_norm 0.8 and 0.6, random 0.75 twice; two seeds never separate two strategies
    seeds = analysis.per_seed(analysis.steps_frame(RECORDS), analysis.best_quality)
    assert seeds["weight_norm"].tolist() == pytest.approx([0.8, 0.6]) and seeds.index.names == ["dataset", "seed"]
    winners = analysis.separated_winners(seeds, higher_is_better=True)
    assert winners.to_dict() == {"iris": None}
    assert analysis.winner_counts(winners, seeds.columns).to_dict() == {"random": 0, "weight_norm": 0}


def test_quality_at_half_takes_one_of_three_layers_removed(curve):
    assert analysis.at_half(curve).loc["iris"].to_dict() == pytest.approx({"random": 0.75, "weight_norm": 0.7})


def test_area_under_the_curve_is_the_trapezoid_mean(curve):
    # weight_norm: ((0.9 + 0.7) / 2 + (0.7 + 0.5) / 2) / 2 = 0.7; random: (0.825 + 0.575) / 2 = 0.7
    quality = analysis.area_under(curve)
    assert quality.loc["iris"].to_dict() == pytest.approx({"random": 0.7, "weight_norm": 0.7})
    # NLL: weight_norm (10.5 + 12.5) / 2 = 11.5; random (11 + 13.5) / 2 = 12.25; lower wins
    nll = analysis.area_under(curve, "holdout_nll")
    assert nll.loc["iris"].to_dict() == pytest.approx({"random": 12.25, "weight_norm": 11.5})


def seed_table(columns: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """(data set, seed) x strategy from {strategy: {data set: values by seed}}."""
    frames = {name: pd.concat({d: pd.Series(v) for d, v in per.items()}, names=["dataset", "seed"])
              for name, per in columns.items()}
    return pd.DataFrame(frames)


# Data set "clear": fisher beats random by 0.1 on each of 8 seeds. Data set "coin": the two trade a 0.01 lead.
CLEAR_AND_COIN = seed_table({
    "fisher": {"clear": [0.9, 0.8, 0.85, 0.95, 0.7, 0.75, 0.8, 0.9], "coin": [0.51, 0.49] * 4},
    "random": {"clear": [0.8, 0.7, 0.75, 0.85, 0.6, 0.65, 0.7, 0.8], "coin": [0.50, 0.50] * 4},
})


def test_a_data_set_is_won_only_when_the_paired_test_separates_the_winner():
    winners = analysis.separated_winners(CLEAR_AND_COIN, higher_is_better=True)
    assert winners.to_dict() == {"clear": "fisher", "coin": None}
    assert analysis.winner_counts(winners, CLEAR_AND_COIN.columns).to_dict() == {"fisher": 1, "random": 0}
    # lower is better: random now leads on "clear" by 0.1 on every seed; "coin" stays a tie
    assert analysis.separated_winners(CLEAR_AND_COIN, higher_is_better=False).to_dict() == {
        "clear": "random", "coin": None}


def test_the_oracle_is_left_out_of_winner_counts():
    table = CLEAR_AND_COIN.assign(ablation=CLEAR_AND_COIN["fisher"] + 0.5)  # far ahead, but the oracle
    winners = analysis.separated_winners(table, True)
    assert winners["clear"] == "fisher" and "ablation" not in analysis.winner_counts(winners, table.columns)


def test_versus_pools_data_sets_and_seeds():
    # 16 pairs: 8 differences of +0.1 and 8 of -0.01 / +0.01. Wilcoxon drops no pair (none is 0);
    # the ranks of the eight 0.1s (9..16) dominate, so fisher is better than random across both data sets.
    verdicts = analysis.versus(CLEAR_AND_COIN, "random", higher_is_better=True)
    assert verdicts["fisher"].n == 16 and verdicts["fisher"].verdict == "better"
    assert verdicts["fisher"].mean_difference == pytest.approx((8 * 0.1 + 0.0) / 16)
    coin_only = CLEAR_AND_COIN.loc[["coin"]]
    assert analysis.versus(coin_only, "random", True)["fisher"].verdict == "tie"
    by_baseline = analysis.versus(CLEAR_AND_COIN, "random", True, baseline_first=True)
    assert by_baseline["fisher"].verdict == "worse"  # random against fisher


def test_rank_correlation_with_the_oracle():
    # Impact [0.1, 0.5, 0.3] ranks 1, 3, 2; weight_norm keeps [1, 3, 2] (the same order),
    # random [3, 1, 2] (the reverse).
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


def test_fusion_versus_best_signal_names_the_signal_and_claims_only_what_the_seeds_show():
    # "a": fusion leads fisher (the best signal) by 0.05 on six seeds; "b": weight_norm leads fusion on two seeds
    table = seed_table({"fusion-rf": {"a": [0.8] * 6, "b": [0.6, 0.6]},
                        "weight_norm": {"a": [0.7] * 6, "b": [0.65, 0.66]},
                        "fisher": {"a": [0.75] * 6, "b": [0.5, 0.5]}})
    verdict = analysis.fusion_versus_best_signal(table, higher_is_better=True)
    assert verdict["best single signal"].tolist() == ["fisher", "weight_norm"]
    assert verdict["its value"].tolist() == pytest.approx([0.75, 0.655])
    # six positive differences: exact two-sided p = 2 / 2**6; two pairs can never reach p < 0.05
    assert verdict["fusion-rf vs it"].tolist() == ["better (p=0.0312, n=6)", "tie (p=0.5, n=2)"]


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
    # two teacher seeds cannot separate two strategies: no data set is won, every criterion is a tie
    assert "| random | 0 | 0 | 0 | 0 |" in text and "| tie (no separated winner) | 1 | 1 | 1 | 1 |" in text
    assert report.ties == {"best_quality": 1, "quality_at_half": 1, "quality_auc": 1, "nll_auc": 1}
    assert "**" not in text  # nothing is bold: no separated winner anywhere
    assert "## Head-to-head against random, across data sets and seeds" in text
    assert "| weight_norm | tie (p=" in text
    head_to_head = report.tables["head_to_head"]
    assert set(head_to_head["verdict"]) == {"tie"} and (folder / "tables" / "head_to_head.csv").is_file()
    assert not math.isnan(report.tables["rank_correlation"].loc["iris", "random"])
