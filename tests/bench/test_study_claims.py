"""bench/study_claims.py: the study's claims counted by means and by confirmed leads, on hand-made steps."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load():
    spec = importlib.util.spec_from_file_location("bench_study_claims", BENCH / "study_claims.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


claims = _load()


def _steps(rows):
    frame = pd.DataFrame(rows, columns=["dataset", "seed", "strategy", "step", "layers", "quality",
                                        "distilled_quality"])
    return frame


def test_the_verdict_needs_confirmed_leads_to_reproduce_and_means_to_stay_undecided():
    assert claims.verdict(confirmed=7, by_means=9, needed=7) == "reproduced"
    assert claims.verdict(confirmed=0, by_means=7, needed=7) == "undecided"
    assert claims.verdict(confirmed=0, by_means=6, needed=7) == "not reproduced"


def test_claims_count_data_sets_by_seed_means_and_leave_the_oracles_out():
    rows = []
    for dataset, rf, other, oracle in (("a", 0.9, 0.8, 0.99), ("b", 0.7, 0.75, 0.99)):
        for seed in (0, 1):
            rows += [(dataset, seed, s, 0, 2, 0.85, None) for s in ("fusion-rf", "taylor", "ablation")]
            rows += [(dataset, seed, "fusion-rf", 1, 1, rf, rf - 0.1), (dataset, seed, "taylor", 1, 1, other, None),
                     (dataset, seed, "ablation", 1, 1, oracle, None)]
    frame = _steps(rows)
    best = claims.best_quality_claim(frame, "fusion-rf")
    assert best["best by means"] == 1 and best["confirmed"] == 0  # a on means; two seeds confirm nothing
    assert best["leader per data set"] == {"a": "fusion-rf", "b": "taylor"}  # ablation (0.99) does not compete
    distilled = claims.distilled_claim(frame, "fusion-rf")
    # students 0.8 (a) and 0.6 (b) against the teacher's 0.85: above on neither
    assert distilled["above by means"] == 0 and distilled["student and teacher means"]["a"] == [0.8, 0.85]


def test_the_summary_averages_each_criterion_over_data_sets_and_pairs_regret_against_tail():
    rows = []
    for dataset, regrets in (("a", {"tail": 0.5, "taylor": 0.1}), ("b", {"tail": 0.3, "taylor": 0.2})):
        for seed in (0, 1):
            for strategy, regret in regrets.items():
                rows += [
                    (dataset, seed, strategy, 0, 2, 0.9, None, 0.0),
                    (dataset, seed, strategy, 1, 1, 0.8, None, regret),
                ]
    frame = pd.DataFrame(rows, columns=["dataset", "seed", "strategy", "step", "layers", "quality",
                                        "distilled_quality", "regret"])
    table = claims.summary(frame)
    assert list(table.index) == ["taylor", "tail"]  # lowest regret first
    assert table.loc["taylor", "regret_at_half"] == pytest.approx(0.15)  # mean of 0.1 (a) and 0.2 (b)
    assert table.loc["tail", "quality_at_half"] == pytest.approx(0.8)
    assert table.loc["taylor", "regret at half vs tail"].startswith("tie")  # four pairs never reach p < 0.05
