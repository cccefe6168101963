"""Hostile and mistaken output paths, command by command: refused before any work, nothing of the user's touched."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

TRAIN = ["train", "--data", "iris", "--preset", "tiny", "--max-epochs", "1"]
RUN = ["run", "--data", "iris", "--preset", "tiny", "--remove", "1"]
COMPARE = ["compare", "--datasets", "iris", "--strategies", "random", "--preset", "tiny"]
BANK = ["fuse", "build-bank", "--datasets", "iris", "--seeds", "0", "--preset", "tiny", "--teachers", "{teachers}"]
FOREIGN = "exists and was not written by fuseprune (it holds 'thesis.txt'); pick a new --out or pass --overwrite."


def thesis(path: str) -> Callable[[Path], None]:
    """A folder of the user: ``mkdir v; echo x > v/thesis.txt``."""
    def make(root: Path) -> None:
        (root / path).mkdir(parents=True)
        (root / path / "thesis.txt").write_text("x\n")
    return make


def text(path: str, content: str = "mine\n") -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
    return make


def fifo(path: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / path)


def link(path: str, to: str) -> Callable[[Path], None]:
    return lambda root: (root / path).symlink_to(to)


def marked(path: str, kind: str, extra: str | None = None) -> Callable[[Path], None]:
    """A folder fuseprune wrote as ``kind`` (one file listed in its marker), plus an ``extra`` file of the user."""
    def make(root: Path) -> None:
        (root / path).mkdir()
        (root / path / "summary.json").write_text("{}")
        marker = {"kind": kind, "fuseprune": "0.1.0", "entries": {"summary.json": 2}}
        (root / path / ".fuseprune").write_text(json.dumps(marker))
        if extra:
            (root / path / extra).write_text("mine")
    return make


def read_only(path: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        thesis(path)(root)
        (root / path).chmod(0o555)
    return make


def written_plan(path: str, edit: bool) -> Callable[[Path], None]:
    """A plan fuseprune wrote (then edited by the user, if ``edit``)."""
    def make(root: Path) -> None:
        from fuseprune.outputs import PLAN, write_output

        write_output(root / path, '{"schema_version": 1}\n', PLAN)
        if edit:
            with open(root / path, "a") as handle:
                handle.write(" ")
    return make


def nothing(root: Path) -> None:
    return None


CASES = [
    # train
    ("train-thesis", thesis("v"), [*TRAIN, "--out", "{root}/v"], FOREIGN),
    ("train-file", text("m"), [*TRAIN, "--out", "{root}/m"], "m' is a file, not a folder; pick a new --out or pass"),
    ("train-fifo", fifo("m"), [*TRAIN, "--out", "{root}/m"], "is a named pipe; fuseprune writes only regular files"),
    ("train-empty", nothing, [*TRAIN, "--out", ""], "--out is empty; name the folder to write."),
    ("train-dot", nothing, [*TRAIN, "--out", "."], "--out '.' names an existing folder, not a new output"),
    ("train-dotdot", nothing, [*TRAIN, "--out", "{root}/.."], "names an existing folder, not a new output"),
    ("train-parent-file", text("f"), [*TRAIN, "--out", "{root}/f/m"], "f' is a file, not a folder; pick another --out"),
    (
        "train-run-folder",
        marked("r", "run"),
        [*TRAIN, "--out", "{root}/r"],
        "is a fuseprune run folder, not a model folder",
    ),
    (
        "train-extra",
        marked("m", "model", "notes.txt"),
        [*TRAIN, "--out", "{root}/m"],
        "holds 'notes.txt', which fuseprune did not write; pick a new --out or pass --overwrite.",
    ),
    ("train-dangling", link("m", "gone"), [*TRAIN, "--out", "{root}/m"], "is a symbolic link to"),
    ("train-read-only", read_only("v"), [*TRAIN, "--out", "{root}/v", "--overwrite"], "is read-only; make it writable"),
    ("train-cwd", nothing, [*TRAIN, "--out", "{root}", "--overwrite"], "is the current folder or holds it"),
    # sample, evaluate, score, plan: files
    (
        "sample-data",
        text("data.csv", "a,b\n1,2\n"),
        ["sample", "{model}", "--out", "{root}/data.csv"],
        "data.csv' exists and was not written by fuseprune; pick a new --out or pass --overwrite.",
    ),
    ("sample-folder", thesis("rows"), ["sample", "{model}", "--out", "{root}/rows"], "rows' is a folder; name a file"),
    (
        "sample-fifo",
        fifo("rows.csv"),
        ["sample", "{model}", "--out", "{root}/rows.csv", "--overwrite"],
        "is a named pipe",
    ),
    ("sample-device", link("rows.csv", "/dev/null"), ["sample", "{model}", "--out", "{root}/rows.csv"], "is a device"),
    (
        "sample-plan",
        written_plan("plan.json", edit=False),
        ["sample", "{model}", "--out", "{root}/plan.json"],
        "is a fuseprune prune plan, not a sampled rows CSV",
    ),
    (
        "evaluate-json",
        text("eval.json", "{}"),
        ["evaluate", "{model}", "--out", "{root}/eval.json"],
        "was not written by fuseprune",
    ),
    ("evaluate-empty", nothing, ["evaluate", "{model}", "--out", ""], "--out is empty"),
    (
        "score-file",
        text("scores.csv"),
        ["score", "{model}", "--out", "{root}/scores.csv"],
        "was not written by fuseprune",
    ),
    ("score-parent-file", text("f"), ["score", "{model}", "--out", "{root}/f/scores.csv"], "is a file, not a folder"),
    (
        "plan-notes",
        text("notes.json"),
        ["plan", "{model}", "--strategy", "random", "--remove", "1", "--out", "{root}/notes.json"],
        "was not written by fuseprune",
    ),
    (
        "plan-edited",
        written_plan("plan.json", edit=True),
        ["plan", "{model}", "--strategy", "random", "--remove", "1", "--out", "{root}/plan.json"],
        "plan.json' was changed since fuseprune wrote it; pick a new --out or pass --overwrite.",
    ),
    (
        "plan-slash",
        nothing,
        ["plan", "{model}", "--strategy", "random", "--remove", "1", "--out", "{root}/new/"],
        "names a folder; name a file",
    ),
    # prune, distill
    ("prune-thesis", thesis("v"), ["prune", "{model}", "{plan}", "--out", "{root}/v"], FOREIGN),
    ("prune-file", text("small"), ["prune", "{model}", "{plan}", "--out", "{root}/small"], "is a file, not a folder"),
    ("distill-thesis", thesis("v"), ["distill", "{model}", "--teacher", "{model}", "--out", "{root}/v"], FOREIGN),
    (
        "distill-checkpoint",
        thesis("c"),
        ["distill", "{model}", "--teacher", "{model}", "--out", "{root}/m", "--checkpoint", "{root}/c"],
        "exists and was not written by fuseprune (it holds 'thesis.txt'); pick a new --checkpoint or pass --overwrite.",
    ),
    (
        "distill-checkpoint-file",
        text("c"),
        ["distill", "{model}", "--teacher", "{model}", "--out", "{root}/m", "--checkpoint", "{root}/c"],
        "c' is a file, not a folder",
    ),
    (
        "distill-same",
        nothing,
        ["distill", "{model}", "--teacher", "{model}", "--out", "{root}/m", "--checkpoint", "{root}/m/ckpt"],
        "--out and --checkpoint must be separate folders",
    ),
    (
        "distill-model-as-checkpoint",
        marked("c", "model"),
        ["distill", "{model}", "--teacher", "{model}", "--out", "{root}/m", "--checkpoint", "{root}/c"],
        "is a fuseprune model folder, not a distillation checkpoint folder",
    ),
    # run
    ("run-thesis", thesis("v"), [*RUN, "--out", "{root}/v"], FOREIGN),
    ("run-model-folder", marked("m", "model"), [*RUN, "--out", "{root}/m"], "is a fuseprune model folder, not a run"),
    ("run-extra", marked("r", "run", "notes.txt"), [*RUN, "--out", "{root}/r"], "holds 'notes.txt'"),
    ("run-fifo", fifo("r"), [*RUN, "--out", "{root}/r", "--overwrite"], "is a named pipe"),
    # report, compare
    ("report-thesis", thesis("v"), ["report", "{results}", "--out", "{root}/v"], FOREIGN),
    ("report-default", thesis("results/report"), ["report", "{root}/results"], FOREIGN),
    (
        "compare-thesis",
        thesis("v"),
        [*COMPARE, "--out", "{root}/v"],
        "exists and was not written by fuseprune (it holds 'thesis.txt'); pick a new or empty --out.",
    ),
    ("compare-file", text("cmp"), [*COMPARE, "--out", "{root}/cmp"], "is a file, not a folder; pick a new or empty"),
    # fuse build-bank
    (
        "bank-csv",
        text("bank.csv", "a,b\n1,2\n"),
        [*BANK, "--out", "{root}/bank.csv"],
        "is not a fusion bank: its first line must start with '# fuseprune-bank'; pick another output file, or pass "
        "--overwrite",
    ),
    ("bank-folder", thesis("bank"), [*BANK, "--out", "{root}/bank"], "bank' is a folder; name a file"),
    ("bank-fifo", fifo("bank.csv"), [*BANK, "--out", "{root}/bank.csv", "--overwrite"], "is a named pipe"),
]


@pytest.fixture(scope="module")
def inputs(tiny_model_dir, tmp_path_factory) -> dict[str, str]:
    """Valid inputs, kept outside the checked tree: the tiny model, a plan for it, a comparison results folder."""
    from fuseprune.cli import main
    from fuseprune.compare import GridConfig
    from fuseprune.compare.store import ResultStore

    folder = tmp_path_factory.mktemp("inputs")
    plan = folder / "plan.json"
    assert main(["plan", str(tiny_model_dir), "--strategy", "random", "--remove", "1", "--out", str(plan)]) == 0
    ResultStore(folder / "results", GridConfig(datasets=("iris",), strategies=("random",), seeds=(0,), preset="tiny"))
    return {"model": str(tiny_model_dir), "plan": str(plan), "results": str(folder / "results"),
            "teachers": str(folder / "teachers")}


@pytest.mark.parametrize(("setup", "argv", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_hostile_output_is_refused_before_any_work(refused, inputs, tmp_path, monkeypatch, setup, argv, message):
    root = tmp_path / "root"
    root.mkdir()
    if "{root}/results" in " ".join(argv):
        from fuseprune.compare import GridConfig
        from fuseprune.compare.store import ResultStore

        ResultStore(root / "results", GridConfig(datasets=("iris",), strategies=("random",), seeds=(0,), preset="tiny"))
    setup(root)
    monkeypatch.chdir(root)
    try:
        refused([a.format(root=root, **inputs) for a in argv], root, message)
    finally:
        for path in root.rglob("*"):  # let pytest clean up read-only folders
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
