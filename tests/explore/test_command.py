"""`fuseprune compress` end to end on local worker processes (slow: each worker imports torch)."""

from __future__ import annotations

import json

import pytest

from fuseprune.cli import main


@pytest.mark.slow
def test_the_command_saves_the_chosen_model_and_resumes(tiny_model_dir, tmp_path, capsys):
    argv = ["compress", str(tiny_model_dir), "--methods", "depth,int8", "--target-quality", "0.5", "--heal-epochs",
            "1", "--speed-rows", "16", "--speed-repeats", "1", "--threads", "2", "--out", str(tmp_path / "out"),
            "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    # depth and int8 alone, then depth+int8 (both keep half the tiny teacher's quality)
    assert (first["candidates"], first["measured_now"]) == (3, 3)
    assert first["chosen"] is not None and (tmp_path / "out" / "best" / "config.json").is_file()
    records = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert {r["threads"] for r in records if "candidate" in r} == {2}  # every record says what it was timed on
    assert "at batch" in (report := (tmp_path / "out" / "report" / "report.md").read_text())
    assert " on 2 threads, " in report.splitlines()[2]
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["already_measured"], again["measured_now"], again["chosen"]) == (3, 0, first["chosen"])


def test_threads_default_to_the_cores_shared_by_the_jobs(monkeypatch):
    from fuseprune.lifetime import threads_per_job as default_threads

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert (default_threads(1), default_threads(3), default_threads(16)) == (8, 2, 1)
