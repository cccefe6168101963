"""Hostile input to `fuseprune sample`: each refused with one line, exit code 2, nothing written."""

from __future__ import annotations

import pytest

CASES = [
    (["--out", "rows.xlsx"], "must end in .csv, .parquet, .pq"),
    (["--out", "rows"], "must end in .csv, .parquet, .pq"),
    (["--rows", "0"], "argument --rows: must be between 1 and 100,000,000; got 0"),
    (["--jobs", "0"], "argument --jobs: must be between 1 and 1,024; got 0"),
    (["--backend", "spark"], "unknown backend 'spark'; known: local, ray."),
    (["--chunk-rows", "0"], "argument --chunk-rows: must be between 1 and 10,000,000; got 0"),
    (["--batch-size", "-3"], "argument --batch-size: must be between 0 and 1,000,000; got -3"),
    (["--temperature", "0"], "argument --temperature: must be a finite number greater than 0 and at most 100"),
    (["--ray-address", "127.0.0.1:1"], "needs the ray backend"),
]


@pytest.mark.parametrize("options, message", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_sample_options_are_refused(refused, tiny_model_dir, tmp_path, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    refused(["sample", tiny_model_dir, "--out", "rows.csv", *options], tmp_path, message)


def test_a_missing_model_folder_is_refused(refused, tmp_path):
    refused(["sample", tmp_path / "nope", "--rows", "5", "--out", tmp_path / "new" / "rows.csv"], tmp_path,
            "does not exist")


def test_an_output_path_that_cannot_be_a_file_is_refused(refused, tiny_model_dir, tmp_path):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "plain").write_text("a file, not a folder")
    refused(["sample", tiny_model_dir, "--out", tmp_path / "folder.csv"], tmp_path, "is a folder")
    refused(["sample", tiny_model_dir, "--out", tmp_path / "plain" / "rows.csv"], tmp_path, "is a file, not a folder")
