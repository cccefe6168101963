"""Regret in a comparison: subset tables written by the teacher task, read into every step, and the goal table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fuseprune.compare import GridConfig, ResultStore, run_grid
from fuseprune.compare.analysis import steps_frame
from fuseprune.compare.cell import Task, execute
from fuseprune.compare.grid import Cell
from fuseprune.compare.regret_goal import fusion_goal
from fuseprune.compare.report import write_report
from fuseprune.compare.subset_tables import half_sample, parse_key, read_tables, subset_key
from fuseprune.data import load_table
from fuseprune.pruning.subsets import subset_losses
from fuseprune.tabular import TabularGPT, split_of, tabular_loss_fn
from fuseprune.tabular.scoring import calibration_batches


def _record(seed: int, strategy: str, removed: list[int], distilled_nll: float | None = None) -> dict:
    state = {"quality": 0.5, "holdout_nll": 1.0, "diagnostic": 1.0, "parameters": 1, "rows_per_second": 1.0}
    if distilled_nll is not None:
        state["distilled"] = {"quality": 0.5, "holdout_nll": distilled_nll, "diagnostic": 1.0}
    return {"dataset": "d", "seed": seed, "strategy": strategy, "step": len(removed), "layers": 4 - len(removed),
            "removed": removed, "kept": [i for i in range(4) if i not in removed], "keep": None, "next": None,
            "rank_seconds": 0.0, "state": state}


def test_subset_keys_round_trip_and_the_half_sample_is_seeded_and_distinct():
    assert subset_key((5, 0, 3)) == "0-3-5" and parse_key("0-3-5") == (0, 3, 5) and parse_key(subset_key(())) == ()
    sample = half_sample(6, 5, seed=1)
    assert len(set(sample)) == 5 and all(len(s) == 3 for s in sample) and sample == half_sample(6, 5, seed=1)
    assert len(half_sample(4, 100, seed=0)) == 6  # C(4, 2): every subset when fewer than asked


def test_each_step_gets_its_regret_among_the_subsets_of_its_size_and_after_distillation_among_the_pool():
    # holdout losses of the six subsets of two of four layers: best (0, 1) = 1.0, worst (2, 3) = 3.0
    holdout = {(0, 1): 1.0, (0, 2): 1.5, (0, 3): 2.0, (1, 2): 2.5, (1, 3): 2.8, (2, 3): 3.0, (0,): 1.0, (3,): 2.0}
    tables = {("d", 0): {"holdout": holdout, "distilled": {(0, 1): 10.0, (2, 3): 14.0}}}
    records = [_record(0, "a", []), _record(0, "a", [0, 2], distilled_nll=11.0), _record(0, "b", [3]),
               _record(0, "b", [3, 1], distilled_nll=12.0), _record(1, "a", [0, 2])]
    frame = steps_frame(records, tables)
    assert frame["regret"].iloc[0] == 0.0  # the intact teacher
    assert frame["regret"].iloc[1] == pytest.approx(0.25)  # (1.5 - 1) / (3 - 1)
    assert frame["regret_percentile"].iloc[1] == pytest.approx(1 / 6)  # only (0, 1) is better
    assert frame["regret"].iloc[2] == pytest.approx(1.0)  # (3,) is the worse of the two single layers measured
    assert frame["regret"].iloc[3] == pytest.approx(0.9)  # (1, 3): (2.8 - 1) / 2
    # after distillation the pool is the reference subsets and the cells' own: 10, 11, 12, 14
    assert frame["distilled_regret"].iloc[1] == pytest.approx(0.25)  # (11 - 10) / (14 - 10)
    assert frame["distilled_regret"].iloc[3] == pytest.approx(0.5)
    assert np.isnan(frame["regret"].iloc[4])  # no table for teacher seed 1


def test_the_goal_table_compares_each_fusion_with_the_best_signal_and_tail_per_data_set():
    index = pd.MultiIndex.from_tuples([("a", 0), ("a", 1), ("b", 0), ("b", 1)], names=["dataset", "seed"])
    table = pd.DataFrame({"fusion-x": [0.1, 0.2, 0.5, 0.5], "weight_norm": [0.4, 0.4, 0.3, 0.3],
                          "taylor": [0.6, 0.8, 0.9, 0.9], "tail": [0.3, 0.3, 0.1, 0.1]}, index=index)
    goal = fusion_goal(table, "fusion-x")
    assert goal.loc["a", "best single signal"] == "weight_norm" and goal.loc["a", "its value"] == pytest.approx(0.4)
    assert goal.loc["a", "goal met"] and not goal.loc["b", "goal met"]  # b: 0.5 is above weight_norm's 0.3
    assert goal.loc["b", "tail"] == pytest.approx(0.1)


@pytest.mark.slow
def test_a_regret_grid_writes_the_teachers_subset_tables_and_the_report_reads_them(tmp_path):
    config = GridConfig(datasets=("iris",), strategies=("tail", "head", "exhaustive", "weight_norm"), seeds=(0,),
                        preset="tiny", speed_rows=16, calibration_rows=32, regret=True, regret_rows=20,
                        distill=True, distill_steps="half", distill_epochs=1, distill_subsets=2)
    teachers = tmp_path / "teachers"
    execute(Task("teacher", GridConfig(datasets=("iris",), preset="tiny").to_dict(), Cell("iris", 0, ""),
                 str(teachers)))  # the teacher alone, no tables: the grid below measures them
    run_grid(config, tmp_path / "grid", teachers=teachers)
    store = ResultStore(tmp_path / "grid")
    tables = read_tables(store.subset_lines())[("iris", 0)]
    teacher = TabularGPT.load(teachers / "iris-tiny-seed0")
    train, holdout = split_of(teacher, load_table("iris"))
    batches = calibration_batches(teacher.codec, holdout, 20, seed=0)
    expected = subset_losses(teacher.model, batches, [(0,), (1,)], loss_fn=tabular_loss_fn(teacher.codec))
    assert tables["holdout"] == pytest.approx(expected)  # every subset of 1..L-1 layers of the 2-layer teacher
    assert sorted(tables["distilled"]) == [(0,), (1,)]  # the half sample, distilled
    records = store.records()
    halves = [r for r in records if r["step"] == 1]
    assert all("distilled" in r["state"] for r in halves)  # distilled at half the layers only
    # exhaustive removes, of the subsets of half the layers, the one best on the training rows
    own = calibration_batches(teacher.codec, train, 32, seed=0)
    best = min(subset_losses(teacher.model, own, [(0,), (1,)], loss_fn=tabular_loss_fn(teacher.codec)).items(),
               key=lambda item: item[1])[0]
    assert next(r["removed"] for r in halves if r["strategy"] == "exhaustive") == list(best)
    report = write_report(tmp_path / "grid")
    regret = report.tables["regret_at_half"]
    assert regret.loc["iris", "tail"] == (0.0 if tables["holdout"][(1,)] <= tables["holdout"][(0,)] else 1.0)
    assert "Regret with half the layers removed" in (report.folder / "report.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "grid" / "grid.json").read_text())["grid"]["regret"] is True


def test_an_unscored_state_has_the_holdout_nll_and_size_but_no_sample_figures(tiny_bundle, wisconsin):
    from fuseprune.compare.cell import _unscored
    from fuseprune.tabular.loss import mean_row_nll

    _, holdout = split_of(tiny_bundle, wisconsin)
    state = _unscored(tiny_bundle, holdout)
    assert state["holdout_nll"] == pytest.approx(mean_row_nll(tiny_bundle.model, tiny_bundle.codec.encode(holdout),
                                                              tiny_bundle.codec))
    assert state["parameters"] == tiny_bundle.num_parameters
    assert state["quality"] is None and state["diagnostic"] is None and state["rows_per_second"] is None


def test_a_grid_scored_at_half_only_drops_the_criteria_that_need_every_step():
    from fuseprune.compare.report import _criteria

    curve = pd.DataFrame({"step": [0, 1, 2, 3], "layers": [4, 3, 2, 1], "quality": [0.9, np.nan, 0.8, np.nan],
                          "distilled_quality": [np.nan] * 4, "regret": [0.0, 0.1, 0.2, 0.3]})
    criteria = _criteria(curve)
    assert "best_quality" not in criteria and "quality_auc" not in criteria
    assert {"quality_at_half", "nll_auc", "regret_at_half", "regret_auc"} <= set(criteria)
    full = _criteria(curve.assign(quality=[0.9, 0.85, 0.8, 0.7]))
    assert "best_quality" in full and "quality_auc" in full
