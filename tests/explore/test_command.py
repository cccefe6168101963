"""`fuseprune compress` end to end on local worker processes (slow: each worker imports torch)."""

from __future__ import annotations

import json

import pytest

from fuseprune.cli import main


@pytest.mark.slow
def test_the_command_saves_the_chosen_model_and_resumes(tiny_model_dir, tmp_path, capsys):
    argv = ["compress", str(tiny_model_dir), "--methods", "depth,int8", "--target-quality", "0.5", "--heal-epochs",
            "1", "--speed-rows", "16", "--speed-repeats", "1", "--out", str(tmp_path / "out"), "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    # depth and int8 alone, then depth+int8 (both keep half the tiny teacher's quality)
    assert (first["candidates"], first["measured_now"]) == (3, 3)
    assert first["chosen"] is not None and (tmp_path / "out" / "best" / "config.json").is_file()
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["already_measured"], again["measured_now"], again["chosen"]) == (3, 0, first["chosen"])
