"""Hostile input around presets and their recipes: each a one-line refusal that writes nothing."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["train", "--preset", "huge", "--out", "{tmp}/m"],
            "unknown model preset 'huge'; known: deep, default, seed, tiny.",
        ),
        (["run", "--preset", "huge", "--out", "{tmp}/run"], "unknown model preset 'huge'"),
        (
            ["train", "--preset", "seed", "--learning-rate", "0", "--out", "{tmp}/m"],
            "argument --learning-rate: must be a finite number greater than 0 and at most 1; got '0'",
        ),
        (
            ["train", "--preset", "seed", "--max-minutes", "-1", "--out", "{tmp}/m"],
            "argument --max-minutes: must be a finite number at least 0; got '-1'",
        ),
        (
            ["train", "--preset", "seed", "--batch-size", "0", "--out", "{tmp}/m"],
            "argument --batch-size: must be between 1 and 1,000,000; got 0",
        ),
        (
            ["train", "--preset", "seed", "--warmup-fraction", "1.5", "--out", "{tmp}/m"],
            "argument --warmup-fraction: must be a finite number at least 0 and at most 1; got '1.5'",
        ),
    ],
)
def test_bad_preset_or_recipe_override_is_refused(refused, tmp_path, argv, message):
    refused([a.format(tmp=tmp_path) for a in argv], tmp_path, message)


def test_bad_distillation_override_is_refused_before_any_work(refused, tmp_path, tiny_model_dir):
    argv = ["distill", tiny_model_dir, "--teacher", tiny_model_dir, "--alpha", "1.5", "--out", tmp_path / "m"]
    refused(argv, tmp_path, "`alpha` must be at least 0.0 and at most 1.0; got 1.5.")
