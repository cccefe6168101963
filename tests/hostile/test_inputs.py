"""Hostile and mistaken INPUT, command by command: options, damaged model folders, results files, banks.

Every case is refused by ``refused``: exit code 2, one ``error:`` line, no
traceback, nothing changed under the case's folder. No case may train: the
checks run before any work starts (training or distilling fails the test).
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from fuseprune.compare import GridConfig, ResultStore

Setup = Callable[[Path], list[str]]
WEIGHTS = "model.safetensors"


@pytest.fixture(autouse=True)
def _no_training(monkeypatch):
    """Training or distilling would mean a check came too late: make it fail the case."""
    from fuseprune.training import TrainingLoop

    def started(*args, **kwargs):
        raise AssertionError("training started before the input was checked")

    monkeypatch.setattr(TrainingLoop, "run", started)


@pytest.fixture(scope="module")
def models(tiny_bundle, wisconsin, tmp_path_factory) -> dict[str, Path]:
    """The tiny teacher, a student pruned from it, and an unrelated teacher of the same shape."""
    from fuseprune.tabular import TabularGPT, build_model, make_tabular_plan, prune_tabular

    folder = tmp_path_factory.mktemp("hostile-models")
    plan = make_tabular_plan(tiny_bundle, wisconsin.frame.head(64), "random", remove=1, n_rows=16)
    other = TabularGPT(build_model(tiny_bundle.codec, "tiny", seed=1), tiny_bundle.codec, dict(tiny_bundle.info))
    return {"teacher": tiny_bundle.save(folder / "teacher"),
            "student": prune_tabular(tiny_bundle, plan).save(folder / "student"),
            "other": other.save(folder / "other")}


# ---------------------------------------------------------------- damage helpers


def copy(models: dict[str, Path], root: Path, name: str = "teacher") -> Path:
    return Path(shutil.copytree(models[name], root / name))


def edit_json(path: Path, change: Callable[[dict], object]) -> None:
    payload = json.loads(path.read_text())
    change(payload)
    path.write_text(json.dumps(payload))


def edit_tensors(folder: Path, change: Callable[[dict], object]) -> None:
    tensors = load_file(folder / WEIGHTS)
    change(tensors)
    save_file(tensors, folder / WEIGHTS, metadata={"format": "pt"})


def damaged(damage: Callable[[Path], object], command: str = "sample", *extra: str) -> Callable:
    """A case: ``command`` on a copy of the teacher damaged by ``damage``."""

    def setup(root: Path, models: dict[str, Path]) -> list[str]:
        folder = copy(models, root)
        damage(folder)
        out = ["--out", str(root / "out")] if command in ("prune",) else []
        plan = [str(root / "plan.json")] if command == "prune" else []
        if command == "prune":
            (root / "plan.json").write_text("{}")
        return [command, str(folder), *plan, *extra, *out]

    return setup


def flip_a_byte(folder: Path) -> None:
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[-4] ^= 0x01
    (folder / WEIGHTS).write_bytes(bytes(data))


def nan_weight(folder: Path) -> None:
    edit_tensors(folder, lambda t: t["transformer.ln_f.bias"].__setitem__(0, float("nan")))


def on_model(*argv: str) -> Callable:
    """A case: the command ``argv`` with ``{model}`` the intact teacher copy and ``{root}`` the case folder."""

    def setup(root: Path, models: dict[str, Path]) -> list[str]:
        folder = copy(models, root)
        return [a.format(model=folder, root=root) for a in argv]

    return setup


def plain(*argv: str) -> Callable:
    """A case that needs no model: ``{root}`` is the case folder."""
    return lambda root, models: [a.format(root=root) for a in argv]


# ---------------------------------------------------------------- results stores and banks

GRID = GridConfig(datasets=("iris",), strategies=("random",), seeds=(0,), preset="tiny")
STEP0 = {"dataset": "iris", "seed": 0, "strategy": "random", "step": 0, "layers": 2, "removed": [], "kept": [0, 1],
         "keep": [0.2, 0.7], "next": 0, "rank_seconds": 0.1,
         "state": {"quality": 0.9, "holdout_nll": 10.0, "diagnostic": 1.0, "parameters": 100, "bytes_on_disk": 1000,
                   "rows_per_second": 50.0, "oracle_impact": [0.1, 0.5]}}


def results(extra: bytes = b"", grid_change: dict | None = None) -> Callable:
    """A case: `report` on a results folder holding step 0, then the raw line ``extra``."""

    def setup(root: Path, models: dict[str, Path]) -> list[str]:
        store = ResultStore(root / "results", GRID)
        store.append(STEP0)
        if extra:
            with open(store.path, "ab") as handle:
                handle.write(extra + b"\n")
        if grid_change:
            edit_json(store.folder / "grid.json", lambda g: g.update(grid_change))
        return ["report", str(store.folder)]

    return setup


def bank(content: Callable[[bytes], bytes]) -> Callable:
    """A case: `fuse validate` on the shipped bank changed by ``content``."""

    def setup(root: Path, models: dict[str, Path]) -> list[str]:
        from fuseprune.fusion import DEFAULT_BANK

        path = root / "bank.csv"
        path.write_bytes(content(Path(DEFAULT_BANK).read_bytes()))
        return ["fuse", "validate", str(path)]

    return setup


def with_inf(text: bytes) -> bytes:
    header, columns, first, rest = text.split(b"\n", 3)
    names = columns.split(b",")
    values = first.split(b",")
    values[names.index(b"taylor")] = b"inf"
    return b"\n".join([header, columns, b",".join(values), rest])


def student_of_another(root: Path, models: dict[str, Path]) -> list[str]:
    return ["distill", str(copy(models, root, "student")), "--teacher", str(copy(models, root, "other")),
            "--out", str(root / "healed")]


TRAIN = ["train", "--data", "iris", "--preset", "tiny", "--out", "{root}/model"]
SAMPLE_OUT = ["--out", "{root}/rows.csv"]

CASES: dict[str, tuple[Callable, str]] = {
    # train: options checked before the data is read or a model built
    "train-seed-negative": (plain(*TRAIN, "--seed", "-1"), "argument --seed: must be between 0 and 4,294,967,295"),
    "train-seed-2**32": (plain(*TRAIN, "--seed", "4294967296"), "argument --seed: must be between 0"),
    "train-max-minutes-negative": (plain(*TRAIN, "--max-minutes", "-1"), "argument --max-minutes"),
    "train-max-minutes-nan": (plain(*TRAIN, "--max-minutes", "nan"), "must be a finite number at least 0; got 'nan'"),
    "train-max-epochs-0": (plain(*TRAIN, "--max-epochs", "0"), "argument --max-epochs: must be between 1"),
    "train-holdout-1.5": (plain(*TRAIN, "--holdout", "1.5"), "argument --holdout"),
    "train-preset-unknown": (plain(*TRAIN[:-4], "--preset", "huge", *TRAIN[-2:]), "unknown model preset 'huge'"),
    # sample: options, then every kind of damaged model folder
    "sample-seed-1e23": (on_model("sample", "{model}", "--seed", "1e23"), "argument --seed: must be an integer"),
    "sample-rows-1e12": (on_model("sample", "{model}", "--rows", "1e12"), "argument --rows: must be an integer"),
    "sample-rows-10**12": (on_model("sample", "{model}", "--rows", "1000000000000", *SAMPLE_OUT),
                           "must be between 1 and 100,000,000; got 1,000,000,000,000"),
    "sample-temperature-nan": (on_model("sample", "{model}", "--temperature", "nan"), "argument --temperature"),
    "config-n_layer-edited": (damaged(lambda f: edit_json(f / "config.json", lambda c: c.update(n_layer=3))),
                              "missing tensors transformer.h.2.attn.c_attn.bias"),
    "tensor-deleted": (damaged(lambda f: edit_tensors(f, lambda t: t.pop("transformer.h.1.mlp.c_proj.weight"))),
                       "missing tensors transformer.h.1.mlp.c_proj.weight;"),
    "tensor-added": (damaged(lambda f: edit_tensors(f, lambda t: t.update({"x.weight": torch.zeros(3)}))),
                     "unexpected tensors x.weight"),
    "weights-bytes-flipped": (damaged(flip_a_byte), "does not match the sha256 recorded when it was saved"),
    "weights-truncated": (damaged(lambda f: (f / WEIGHTS).write_bytes((f / WEIGHTS).read_bytes()[:999])),
                          "is not a readable safetensors file"),
    "weights-nan-no-verify": (damaged(nan_weight, "sample", "--no-verify"), "hold NaN or infinite values"),
    "config-not-json": (damaged(lambda f: (f / "config.json").write_text('{"n_layer": 2,')), "is not valid JSON"),
    "config-not-utf8": (damaged(lambda f: (f / "config.json").write_bytes(b'{"model_type": "gpt\xb2"}')),
                        "is not UTF-8 text"),
    "config-not-gpt2": (damaged(lambda f: edit_json(f / "config.json", lambda c: c.update(model_type="bert"))),
                        "describes a 'bert' model"),
    "pickle-only-folder": (damaged(lambda f: (f / WEIGHTS).rename(f / "pytorch_model.bin")),
                           "holds only pickle weights (pytorch_model.bin)"),
    "codec-encoding-bogus": (damaged(lambda f: edit_json(f / "codec.json",
                                                         lambda c: c["columns"][1].update(encoding="bogus"))),
                             "`encoding` must be one of values, digits; got 'bogus'"),
    "codec-width-10**9": (damaged(lambda f: edit_json(f / "codec.json", lambda c: c["columns"][0].update(
        encoding="digits", values=[], width=10**9, positive=[1, 10]))), "`width` must be between 1 and 15"),
    "codec-unknown-field": (damaged(lambda f: edit_json(f / "codec.json", lambda c: c["columns"][0].update(x=1))),
                            "has unknown field 'x'"),
    "info-not-an-object": (damaged(lambda f: (f / "fuseprune.json").write_text("[1, 2]")),
                           "must hold a JSON object; got list"),
    # evaluate and score
    "evaluate-rows-10**7": (on_model("evaluate", "{model}", "--rows", "10000000"), "must be between 0 and 100,000"),
    "evaluate-seeds-negative": (on_model("evaluate", "{model}", "--seeds", "0,-1"), "argument --seeds"),
    "evaluate-reshaped-tensor": (damaged(lambda f: edit_tensors(f, lambda t: t.update(
        {"transformer.ln_f.weight": torch.ones(7)})), "evaluate"), "transformer.ln_f.weight [7] (config implies"),
    "score-batch-size-0": (on_model("score", "{model}", "--batch-size", "0"), "argument --batch-size"),
    "score-rows-1e9": (on_model("score", "{model}", "--rows", "1000000000"), "must be between 1 and 100,000"),
    "score-codec-of-another-model": (damaged(lambda f: edit_json(f / "codec.json", lambda c: c["columns"][0][
        "values"].pop()), "score"), "the model's vocab_size is 95"),
    # plan and prune
    "plan-remove-lots": (on_model("plan", "{model}", "--strategy", "random", "--remove", "lots", "--out",
                                  "{root}/plan.json"), "`remove` must be a layer count (3) or a percentage"),
    "plan-protect-out-of-range": (on_model("plan", "{model}", "--strategy", "random", "--remove", "1", "--protect",
                                           "5", "--out", "{root}/plan.json"), "layer index between 0 and 1; got 5"),
    "plan-protect-unknown-word": (on_model("plan", "{model}", "--strategy", "random", "--remove", "1", "--protect",
                                           "1,middle", "--out", "{root}/plan.json"), "got 'middle'"),
    "plan-protect-everything": (on_model("plan", "{model}", "--strategy", "random", "--remove", "1", "--protect",
                                         "0,last", "--out", "{root}/plan.json"), "no layer can be removed"),
    "plan-max-params-0": (on_model("plan", "{model}", "--max-params", "0", "--out", "{root}/plan.json"),
                          "argument --max-params: must be between 1"),
    "plan-seed-negative": (on_model("plan", "{model}", "--remove", "1", "--seed", "-1", "--out", "{root}/p.json"),
                           "argument --seed"),
    "plan-bank-for-a-signal": (on_model("plan", "{model}", "--strategy", "block_influence", "--bank", "{root}/b.csv",
                                        "--remove", "1", "--out", "{root}/p.json"),
                               "`--bank` does not apply to strategy 'block_influence' (it takes no options)"),
    "plan-rank-bank-missing": (on_model("plan", "{model}", "--strategy", "fusion-rank", "--bank", "{root}/none.csv",
                                        "--remove", "1", "--out", "{root}/p.json"), "none.csv' does not exist"),
    "plan-rank-bank-is-a-fusion-bank": (on_model("plan", "{model}", "--strategy", "fusion-rank", "--bank",
                                                 str(Path(__file__).parents[2] / "fuseprune/fusion/default_bank.csv"),
                                                 "--remove", "1", "--out", "{root}/p.json"),
                                        "is not a rank bank: its first line must start with"),
    "plan-unknown-strategy-with-bank": (on_model("plan", "{model}", "--strategy", "fusion-xx", "--bank", "b.csv",
                                                 "--remove", "1", "--out", "{root}/p.json"),
                                        "unknown strategy 'fusion-xx'; known: ablation"),
    "plan-exhaustive-above-max-layers": (on_model("plan", "{model}", "--strategy", "exhaustive", "--remove", "1",
                                                  "--max-layers", "1", "--out", "{root}/p.json"),
                                         "searches at most `max_layers` 1 layers; this model has 2"),
    "plan-exhaustive-with-a-budget": (on_model("plan", "{model}", "--strategy", "exhaustive", "--max-params",
                                               "1000000000", "--out", "{root}/p.json"),
                                      "strategy 'exhaustive' needs the number of layers to remove (`remove`)"),
    "plan-max-layers-for-tail": (on_model("plan", "{model}", "--strategy", "tail", "--max-layers", "3", "--remove",
                                          "1", "--out", "{root}/p.json"),
                                 "`--max-layers` does not apply to strategy 'tail' (it takes no options)"),
    "plan-max-layers-0": (on_model("plan", "{model}", "--strategy", "exhaustive", "--max-layers", "0", "--remove",
                                   "1", "--out", "{root}/p.json"), "argument --max-layers: must be between 1"),
    "prune-damaged-model": (damaged(lambda f: edit_json(f / "config.json", lambda c: c.update(n_layer=1)), "prune"),
                            "unexpected tensors transformer.h.1."),
    # distill
    "distill-teacher-as-student": (on_model("distill", "{model}", "--teacher", "{model}", "--out", "{root}/h"),
                                   "the student has 2 layers and the teacher 2"),
    "distill-student-of-another-teacher": (student_of_another, "the student was pruned from another model"),
    "distill-alpha-nan": (on_model("distill", "{model}", "--teacher", "{model}", "--alpha", "nan", "--out",
                                   "{root}/h"), "argument --alpha: must be a finite number; got 'nan'"),
    "distill-max-epochs-0": (on_model("distill", "{model}", "--teacher", "{model}", "--max-epochs", "0", "--out",
                                      "{root}/h"), "argument --max-epochs"),
    "distill-max-minutes-negative": (on_model("distill", "{model}", "--teacher", "{model}", "--max-minutes", "-2",
                                              "--out", "{root}/h"), "argument --max-minutes"),
    # run: refused before the teacher is trained
    "run-remove-lots": (plain("run", "--remove", "lots", "--out", "{root}/run"), "`remove` must be a layer count"),
    "run-remove-9-of-6": (plain("run", "--remove", "9", "--out", "{root}/run"),
                          "`remove` must be between 1 and 5 for the 6-layer 'default' preset; got '9'"),
    "run-remove-all-of-tiny": (plain("run", "--preset", "tiny", "--remove", "2", "--out", "{root}/run"),
                               "between 1 and 1 for the 2-layer 'tiny' preset"),
    "run-seed-negative": (plain("run", "--seed", "-1", "--out", "{root}/run"), "argument --seed"),
    # report: every results line is checked against the grid
    "report-line-of-the-wrong-shape": (results(b"[1, 2]"), "line 2: a record must be a JSON object; got list"),
    "report-line-not-utf8": (results("caf\u00e9".encode("latin-1")), "line 2 is not UTF-8 text"),
    "report-step-99": (results(json.dumps({**STEP0, "step": 99}).encode()),
                       "line 2: `step` must be between 0 and 1 for the grid's 2-layer teachers; got 99"),
    "report-different-duplicate": (results(json.dumps({**STEP0, "state": {**STEP0["state"], "quality": 1.0}})
                                           .encode()), "lines 1 and 2 hold different results for step 0"),
    "report-unknown-store-format": (results(grid_change={"format": 99}), "this fuseprune reads format 1 only"),
    "report-not-a-results-folder": (plain("report", "{root}"), "is not a comparison results folder"),
    # compare: the grid is checked before any teacher is trained or the folder made
    "compare-seeds-negative": (plain("compare", "--datasets", "iris", "--seeds", "-1", "--out", "{root}/c"),
                               "argument --seeds"),
    "compare-jobs-0": (plain("compare", "--datasets", "iris", "--jobs", "0", "--out", "{root}/c"), "argument --jobs"),
    "compare-unknown-strategy": (plain("compare", "--datasets", "iris", "--strategies", "nope", "--out", "{root}/c"),
                                 "unknown strategy 'nope'"),
    "compare-distill-steps": (plain("compare", "--datasets", "iris", "--distill-steps", "some", "--out",
                                    "{root}/c"), "`distill_steps` must be all or half; got 'some'"),
    "compare-unknown-data-set": (plain("compare", "--datasets", "iris,nope", "--out", "{root}/c"),
                                 "unknown data set 'nope'"),
    "compare-calibration-rows-0": (plain("compare", "--datasets", "iris", "--calibration-rows", "0", "--out",
                                         "{root}/c"), "argument --calibration-rows"),
    # fusion banks
    "bank-with-inf": (bank(with_inf), "column(s) taylor hold NaNs, infinities or non-numbers"),
    "bank-gzip": (bank(gzip.compress), "gzip-compressed file; decompress it first"),
    "bank-wrong-columns": (bank(lambda text: text.split(b"\n")[0] + b"\na,b,c\n1,2,3\n"),
                           "lacks column(s) dataset, seed, step, layer"),
    "bank-without-header": (bank(lambda text: text.split(b"\n", 1)[1]), "is not a fusion bank"),
    "build-bank-seeds-text": (plain("fuse", "build-bank", "--seeds", "a,b", "--out", "{root}/b.csv"),
                              "argument --seeds"),
    "build-bank-calibration-rows-0": (plain("fuse", "build-bank", "--calibration-rows", "0", "--out",
                                            "{root}/b.csv"), "argument --calibration-rows"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_refused(case, refused, models, tmp_path):
    setup, message = CASES[case]
    argv = setup(tmp_path, models)
    refused(argv, tmp_path, message)

