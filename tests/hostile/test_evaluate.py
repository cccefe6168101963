"""Hostile input to `fuseprune evaluate`: one `error:` line, exit code 2, nothing written."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture()
def model(tiny_model_dir, tmp_path):
    """A copy of the tiny Wisconsin model inside the folder the test watches."""
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def test_a_target_that_is_not_a_column(refused, model, tmp_path):
    refused(["evaluate", model, "--target", "diagnosis", "--out", tmp_path / "record.json"], tmp_path,
            "--target names 'diagnosis', which is not a column; columns are: clump_thickness,")


def test_a_target_with_one_class(refused, model, tmp_path, wisconsin):
    csv = tmp_path / "benign.csv"
    wisconsin.frame.assign(**{"class": "benign"}).to_csv(csv, index=False)
    refused(["evaluate", model, "--data", csv, "--target", "class"], tmp_path,
            "target 'class' has one value ('benign') in the training rows")


def test_a_metric_that_does_not_exist(refused, model, tmp_path):
    refused(["evaluate", model, "--metrics", "quality,privcy"], tmp_path,
            "unknown metric 'privcy'; known: default, all, quality, utility, correlation, detection, fidelity, "
            "privacy, privacy-sdmetrics.")


def test_no_metric_at_all(refused, model, tmp_path):
    refused(["evaluate", model, "--metrics", ","], tmp_path, "`metrics` must name at least one metric")


def test_utility_of_a_target_the_grid_cannot_know(refused, tmp_path, wisconsin):
    csv = tmp_path / "mine.csv"
    wisconsin.frame.to_csv(csv, index=False)
    refused(["compare", "--datasets", f"iris,{csv}", "--metrics", "utility", "--out", tmp_path / "cmp"], tmp_path,
            "the utility metric needs a prediction target, which only bundled data sets name")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--data", "iris", "--preset", "tiny", "--metrics", "quality,nonsense", "--out", "{tmp}/run"],
         "unknown metric 'nonsense'"),
        (["run", "--data", "iris", "--preset", "tiny", "--target", "no_such_column", "--out", "{tmp}/run"],
         "no_such_column"),
    ],
)
def test_run_refuses_a_bad_metric_or_target_before_training(refused, tmp_path, argv, message):
    refused([a.format(tmp=tmp_path) for a in argv], tmp_path, message)
