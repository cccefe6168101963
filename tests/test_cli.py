"""The command line as a user meets it: exit codes, tables or JSON, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fuseprune.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_datasets_lists_the_bundled_sets_as_json(capsys):
    code, out, _ = run_cli(capsys, "datasets", "--json")
    names = [d["name"] for d in json.loads(out)]
    assert code == 0 and len(names) >= 9 and "breast-cancer-wisconsin" in names


def test_train_sample_evaluate(capsys, tmp_path):
    model_dir = tmp_path / "model"
    code, out, _ = run_cli(
        capsys, "train", "--data", "iris", "--preset", "tiny", "--max-epochs", "2", "--out", str(model_dir), "--json"
    )
    assert code == 0 and json.loads(out)["model_dir"] == str(model_dir)
    code, out, _ = run_cli(capsys, "sample", str(model_dir), "--rows", "25", "--out", str(tmp_path / "rows.csv"))
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert code == 0 and len(rows) == 25 and list(rows.columns)[-1] == "Species"
    code, out, _ = run_cli(capsys, "evaluate", str(model_dir), "--seeds", "0", "--rows", "50", "--json")
    record = json.loads(out)
    assert code == 0 and record["data"] == "iris" and record["n_rows"] == 50 and 0 < record["quality"] <= 1
    assert record["target"] == "Species" and record["metrics"]["utility_macro_f1"]["reference"] is not None


def test_metrics_lists_every_metric_with_its_figures(capsys):
    code, out, _ = run_cli(capsys, "metrics", "--json")
    payload = {m["name"]: m for m in json.loads(out)}
    assert code == 0 and list(payload)[:2] == ["quality", "utility"]
    assert payload["privacy-sdmetrics"]["default"] is False and payload["privacy"]["default"] is True
    assert {"name": "dcr_share", "goal": "target", "ideal": 0.5, "range": [0.0, 1.0]} in payload["privacy"]["figures"]
    assert {"name": "dcr_p5", "goal": "maximize", "ideal": None, "range": [0.0, None]} in payload["privacy"]["figures"]
    assert "Infinity" not in out  # strict JSON


def test_evaluate_shows_the_chosen_metrics_beside_their_references(capsys, tiny_model_dir, tmp_path):
    out_file = tmp_path / "record.json"
    code, out, _ = run_cli(capsys, "evaluate", str(tiny_model_dir), "--seeds", "0,1", "--rows", "60",
                           "--metrics", "correlation,privacy", "--out", str(out_file))
    assert code == 0 and "reference" in out and "correlation: mean" in out and "near 0.5" in out
    saved = json.loads(out_file.read_text())
    assert set(saved["metrics"]) == {"corr_mae", "corr_frobenius", "dcr_share", "dcr_p5", "copy_share"}
    assert saved["quality"] is None and len(saved["metrics"]["dcr_share"]["per_seed"]) == 2


def test_run_prunes_distills_and_compares_then_reuses_the_teacher(capsys, tmp_path):
    argv = ["run", "--preset", "tiny", "--remove", "1", "--out", str(tmp_path / "run"), "--json"]
    code, out, _ = run_cli(capsys, *argv)
    first = json.loads(out)
    assert code == 0 and first["reused_teacher"] is False
    assert first["teacher"]["layers"] == 2 and first["student"]["layers"] == 1
    assert first["student"]["parameters"] < first["teacher"]["parameters"]
    assert first["teacher"]["data"] == first["student"]["data"] == "breast-cancer-wisconsin"
    # the default metric set for both, against the same references
    teacher, student = first["teacher"]["metrics"], first["student"]["metrics"]
    assert set(teacher) == set(student) and {"utility_ratio", "gbdt_detection", "dcr_share"} <= set(teacher)
    assert all(teacher[name]["reference"] == student[name]["reference"] for name in teacher)
    for name in ("teacher", "student", "plan.json", "teacher.json", "student.json", "summary.json"):
        assert (tmp_path / "run" / name).exists(), name
    assert list(first["seconds"]) == ["train", "plan", "distil", "evaluate"]  # wall time of each phase
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["seconds"] == first["seconds"]
    code, out, _ = run_cli(capsys, *argv, "--metrics", "correlation")
    second = json.loads(out)
    assert second["reused_teacher"] is True  # the metric set does not change the teacher
    assert second["teacher"]["holdout_nll"] == first["teacher"]["holdout_nll"]
    assert set(second["student"]["metrics"]) == {"corr_mae", "corr_frobenius"} and second["student"]["quality"] is None


def test_score_prints_every_signal_and_writes_the_table(capsys, tmp_path, tiny_model_dir):
    out_file = tmp_path / "scores.csv"
    code, out, _ = run_cli(capsys, "score", str(tiny_model_dir), "--rows", "32", "--out", str(out_file), "--json")
    payload = json.loads(out)
    assert code == 0 and payload["num_layers"] == 2
    assert len(payload["scores"]) == 13 and out_file.is_file()
    code, out, _ = run_cli(capsys, "score", str(tiny_model_dir), "--rows", "32", "--signals", "taylor,random")
    assert code == 0 and "taylor" in out and "random" in out and "keep score" in out


def test_plan_prune_distill_make_a_smaller_model_that_samples(capsys, tmp_path, tiny_model_dir):
    plan_file, pruned, healed = tmp_path / "plan.json", tmp_path / "pruned", tmp_path / "healed"
    code, out, _ = run_cli(capsys, "plan", str(tiny_model_dir), "--strategy", "taylor", "--remove", "1",
                           "--rows", "32", "--out", str(plan_file), "--json")
    plan = json.loads(out)
    assert code == 0 and len(plan["remove"]) == 1 and plan_file.is_file()
    code, out, _ = run_cli(capsys, "prune", str(tiny_model_dir), str(plan_file), "--out", str(pruned), "--json")
    assert code == 0 and json.loads(out)["layers_after"] == 1
    code, out, _ = run_cli(capsys, "distill", str(pruned), "--teacher", str(tiny_model_dir), "--out", str(healed),
                           "--max-epochs", "1", "--json")
    assert code == 0 and len(json.loads(out)["history"]["val_loss"]) == 1
    code, out, _ = run_cli(capsys, "sample", str(healed), "--rows", "5", "--json")
    assert code == 0 and json.loads(out)["rows"] == 5


def test_plan_with_the_baselines(capsys, tmp_path, tiny_model_dir):
    """tail removes the last of the tiny model's two layers; exhaustive measures both and records its option."""
    from fuseprune.pruning.baselines import DEFAULT_MAX_LAYERS

    code, out, _ = run_cli(capsys, "plan", str(tiny_model_dir), "--strategy", "tail", "--remove", "1",
                           "--out", str(tmp_path / "tail.json"), "--json")
    assert code == 0 and json.loads(out)["removal_order"] == [1]
    code, out, _ = run_cli(capsys, "plan", str(tiny_model_dir), "--strategy", "head", "--remove", "1",
                           "--out", str(tmp_path / "head.json"), "--json")
    assert code == 0 and json.loads(out)["removal_order"] == [0]
    code, out, _ = run_cli(capsys, "plan", str(tiny_model_dir), "--strategy", "exhaustive", "--remove", "1",
                           "--max-layers", "2", "--rows", "32", "--out", str(tmp_path / "best.json"), "--json")
    plan = json.loads(out)
    assert code == 0 and len(plan["removal_order"]) == 1
    assert plan["strategy"]["parameters"]["strategy"] == {"max_layers": 2}
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    assert f"(default: {DEFAULT_MAX_LAYERS};" in " ".join(capsys.readouterr().out.split())


def test_plan_passes_the_bank_flags_to_a_strategy_that_takes_them(capsys, tmp_path, tiny_model_dir):
    from fuseprune.fusion import DEFAULT_BANK

    code, out, _ = run_cli(capsys, "plan", str(tiny_model_dir), "--strategy", "fusion-lr", "--bank", str(DEFAULT_BANK),
                           "--exclude-bank-dataset", "iris", "--exclude-bank-dataset", "wine", "--allow-bank-overlap",
                           "--remove", "1", "--rows", "32", "--out", str(tmp_path / "plan.json"), "--json")
    assert code == 0
    recorded = json.loads((tmp_path / "plan.json").read_text())["strategy"]
    assert recorded["name"] == "fusion-lr" and json.loads(out)["strategy"] == recorded
    assert recorded["parameters"]["strategy"] == {"bank": str(DEFAULT_BANK), "exclude_datasets": ["iris", "wine"],
                                                  "allow_overlap": True}


def test_a_plan_for_another_model_is_refused_naming_the_difference(capsys, tmp_path, tiny_model_dir):
    plan_file = tmp_path / "plan.json"
    run_cli(capsys, "plan", str(tiny_model_dir), "--strategy", "random", "--remove", "1", "--out", str(plan_file))
    other = tmp_path / "other"
    run_cli(capsys, "train", "--preset", "tiny", "--max-epochs", "1", "--seed", "7", "--out", str(other))
    code, _, err = run_cli(capsys, "prune", str(other), str(plan_file), "--out", str(tmp_path / "m"))
    assert code == 2 and "weights hash differs" in err and not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "nope", "--out", "{tmp}/m"], "unknown data set 'nope'"),
        (["train", "--data", "{tmp}/missing.csv", "--out", "{tmp}/m"], "does not exist"),
        (["train", "--column-type", "class", "--out", "{tmp}/m"], "column type must look like NAME=KIND"),
        (["train", "--column-type", "class=date", "--out", "{tmp}/m"], "column type for 'class' must be one of"),
        (["sample", "{tmp}/no-model"], "model folder"),
        (["evaluate", "{model}", "--data", "iris"], "data columns do not match the model's codec"),
        (["score", "{model}", "--signals", "bogus"], "unknown signal 'bogus'; known signals: act_norm"),
        (["score", "{model}", "--data", "iris"], "data columns do not match the model's codec"),
        (["score", "{tmp}/no-model"], "does not exist"),
        (["score", "{model}", "--rows", "0"], "argument --rows: must be between 1 and 100,000; got 0"),
        (
            ["plan", "{model}", "--strategy", "nope", "--remove", "1", "--out", "{tmp}/m"],
            "unknown strategy 'nope'; known: ablation",
        ),
        (
            ["plan", "{model}", "--strategy", "random", "--remove", "2", "--out", "{tmp}/m"],
            "`remove` must be between 1 and 1",
        ),
        (["prune", "{model}", "{tmp}/missing.json", "--out", "{tmp}/m"], "does not exist"),
        (
            ["distill", "{model}", "--teacher", "{model}", "--temperature", "0", "--out", "{tmp}/m"],
            "`temperature` must be greater than 0",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(capsys, tmp_path, tiny_model_dir, argv, message):
    argv = [a.format(tmp=tmp_path, model=tiny_model_dir) for a in argv]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()
