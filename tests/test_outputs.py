"""The output rule on hand-made trees: what fuseprune replaces, what it refuses, and how it says so."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from fuseprune.errors import DataError, OutputError
from fuseprune.outputs import (
    ATTRIBUTE,
    MARKER,
    MODEL,
    PLAN,
    RESULTS,
    RUN,
    SAMPLES,
    check_file,
    check_folder,
    output_folder,
    write_output,
)


def write_model(path: Path, weights: str = "w1") -> Path:
    """A tiny stand-in for a model folder, written through the rule as a model folder."""
    with output_folder(path, MODEL) as tmp:
        (tmp / "config.json").write_text("{}")
        (tmp / "model.safetensors").write_text(weights)
    return path


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# folders ------------------------------------------------------------------------------------------


def test_an_absent_folder_is_created_with_its_marker_and_nothing_else(tmp_path):
    assert check_folder(tmp_path / "a" / "m", MODEL) == tmp_path / "a" / "m"
    assert listing(tmp_path) == []  # checking creates nothing, not even the missing parent
    write_model(tmp_path / "a" / "m")
    assert listing(tmp_path) == ["a", "a/m", f"a/m/{MARKER}", "a/m/config.json", "a/m/model.safetensors"]
    marker = json.loads((tmp_path / "a" / "m" / MARKER).read_text())
    assert marker["kind"] == "model" and marker["entries"] == {"config.json": 2, "model.safetensors": 2}


def test_an_empty_folder_is_used(tmp_path):
    (tmp_path / "m").mkdir()
    write_model(tmp_path / "m")
    assert (tmp_path / "m" / "model.safetensors").read_text() == "w1"


def test_a_folder_fuseprune_wrote_is_replaced_without_asking(tmp_path):
    write_model(tmp_path / "m", "w1")
    write_model(tmp_path / "m", "w2")
    assert (tmp_path / "m" / "model.safetensors").read_text() == "w2" and listing(tmp_path)[0] == "m"
    assert len(listing(tmp_path)) == 4  # m, its marker and two files: no temporary left


def test_a_folder_of_the_user_is_refused_naming_a_file_and_the_fix(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "thesis.txt").write_text("x")
    with pytest.raises(OutputError) as error:
        check_folder(tmp_path / "v", MODEL, option="--out")
    assert str(error.value) == (f"{str(tmp_path / 'v')!r} exists and was not written by fuseprune "
                                "(it holds 'thesis.txt'); pick a new --out or pass --overwrite.")
    with pytest.raises(OutputError, match="pick another path or pass overwrite=True"):
        write_model(tmp_path / "v")
    assert listing(tmp_path) == ["v", "v/thesis.txt"]
    with output_folder(tmp_path / "v", MODEL, overwrite=True) as tmp:
        (tmp / "config.json").write_text("{}")
    assert listing(tmp_path) == ["v", f"v/{MARKER}", "v/config.json"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: (m / "notes.txt").write_text("mine"), "holds 'notes.txt', which fuseprune did not write"),
        (lambda m: (m / "config.json").write_text("{'edited': 1}"), "holds 'config.json', changed since fuseprune"),
        (lambda m: (m / "sub").mkdir(), "holds 'sub', which fuseprune did not write"),
        (lambda m: (m / MARKER).write_text('{"kind": "run", "entries": {}}'), "is a fuseprune run folder, not a model"),
        (lambda m: (m / MARKER).write_text('{"kind": "model"}'), f"has a damaged {MARKER} marker"),
    ],
)
def test_a_marked_folder_with_anything_fuseprune_did_not_write_is_refused(tmp_path, change, message):
    change(write_model(tmp_path / "m"))
    with pytest.raises(OutputError, match=message):
        write_model(tmp_path / "m", "w2")
    assert (tmp_path / "m" / "model.safetensors").read_text() == "w1"
    assert check_folder(tmp_path / "m", MODEL, overwrite=True) == tmp_path / "m"


def test_a_model_folder_of_fuseprune_0_1_0_without_marker_is_recognised_by_its_files(tmp_path):
    legacy = tmp_path / "m"
    legacy.mkdir()
    for name in ("config.json", "model.safetensors", "codec.json", "fuseprune.json", "generation_config.json"):
        (legacy / name).write_text("{}")
    assert check_folder(legacy, MODEL) == legacy
    with pytest.raises(OutputError, match="exists and was not written by fuseprune"):
        check_folder(legacy, RUN)  # a run folder always has summary.json
    (legacy / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="holds 'notes.txt', which fuseprune did not write"):
        check_folder(legacy, MODEL)


def test_a_file_where_a_folder_is_expected_is_refused_or_replaced_with_overwrite(tmp_path):
    (tmp_path / "m").write_text("a file of the user")
    with pytest.raises(OutputError, match="m' is a file, not a folder; pick a new --out or pass --overwrite"):
        check_folder(tmp_path / "m", MODEL, option="--out")
    with output_folder(tmp_path / "m", MODEL, overwrite=True) as tmp:
        (tmp / "config.json").write_text("{}")
    assert (tmp_path / "m").is_dir() and listing(tmp_path) == ["m", f"m/{MARKER}", "m/config.json"]


def test_a_link_to_a_folder_is_followed_and_kept(tmp_path):
    write_model(tmp_path / "real", "w1")
    (tmp_path / "link").symlink_to("real")
    write_model(tmp_path / "link", "w2")
    assert (tmp_path / "link").is_symlink() and os.readlink(tmp_path / "link") == "real"
    assert (tmp_path / "real" / "model.safetensors").read_text() == "w2"


def test_comparison_results_are_resumed_never_replaced(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "grid.json").write_text("{}")  # a results folder of fuseprune 0.1.0
    (tmp_path / "r" / "results.jsonl").write_text("")
    assert check_folder(tmp_path / "r", RESULTS) == tmp_path / "r"
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "thesis.txt").write_text("x")
    with pytest.raises(OutputError, match="pick a new or empty --out"):
        check_folder(tmp_path / "v", RESULTS, overwrite=True, option="--out")


# paths that can never be written ------------------------------------------------------------------


@pytest.mark.parametrize("check", [lambda p: check_folder(p, MODEL, True), lambda p: check_file(p, PLAN, True)])
@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_special_files_are_refused_even_with_overwrite(tmp_path, check, kind):
    path = tmp_path / "special"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    else:
        path.symlink_to("/dev/null")
    what = {"fifo": "a named pipe", "socket": "a socket", "device": "a device"}[kind]
    with pytest.raises(OutputError, match=f"is {what}; fuseprune writes only regular files and folders"):
        check(path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "the output path is empty"),
        (".", "'.' names an existing folder, not a new output; name one inside it"),
        ("..", "'..' names an existing folder"),
        ("/", "'/' names an existing folder"),
        ("a\0b", "contains a NUL character"),
    ],
)
def test_paths_that_name_no_new_output_are_refused(tmp_path, monkeypatch, path, message):
    monkeypatch.chdir(tmp_path)
    for check in (lambda: check_folder(path, MODEL), lambda: check_file(path, PLAN)):
        with pytest.raises(OutputError, match=message):
            check()
    assert listing(tmp_path) == []


def test_the_current_folder_and_its_parents_are_refused(tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    for path in (tmp_path / "here", tmp_path):
        with pytest.raises(OutputError, match="is the current folder or holds it"):
            check_folder(path, MODEL, overwrite=True)


def test_a_parent_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match=r"'.*/f/a/m' cannot be created: '.*/f' is a file, not a folder"):
        check_folder(tmp_path / "f" / "a" / "m", MODEL)
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_file(tmp_path / "f" / "plan.json", PLAN)


def test_an_os_error_without_a_system_reason_is_refused_with_its_message(tmp_path, monkeypatch):
    # An OSError raised with only a message (strerror None), as some file systems and wrappers do.
    def refuse(path, *args, **kwargs):
        raise OSError("quota exceeded on this share")

    monkeypatch.setattr(os, "mkdir", refuse)
    with pytest.raises(OutputError, match="cannot be written: quota exceeded on this share in"):
        check_folder(tmp_path / "new", MODEL)


def test_read_only_outputs_are_refused(tmp_path):
    write_model(tmp_path / "m")
    (tmp_path / "m").chmod(0o555)
    (tmp_path / "plan.json").write_text("x")
    (tmp_path / "plan.json").chmod(0o444)
    try:
        with pytest.raises(OutputError, match="is read-only; make it writable"):
            check_folder(tmp_path / "m", MODEL, overwrite=True)
        with pytest.raises(OutputError, match="is read-only; make it writable"):
            check_file(tmp_path / "plan.json", PLAN, overwrite=True)
    finally:
        (tmp_path / "m").chmod(0o755)


def test_a_mount_point_is_refused():
    if not os.path.ismount("/dev/shm"):
        pytest.skip("/dev/shm is not a mount point here")
    with pytest.raises(OutputError, match="is a mount point and cannot be replaced"):
        check_folder("/dev/shm", MODEL, overwrite=True)


NOBODY = 65534


SYSTEM_PYTHON = "/usr/bin/python3"  # the check needs only the standard library; the venv may be out of nobody's reach


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
                    reason="needs root and /usr/bin/python3 to run a check as nobody (root may write anywhere)")
def test_a_read_only_parent_is_refused_by_trying_to_create_a_temporary_there():
    root = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuseprune-ro-{os.getpid()}"
    (root / "ro").mkdir(parents=True)
    root.chmod(0o777)
    (root / "ro").chmod(0o555)  # root could still write here; nobody cannot
    code = (
        "import sys; from fuseprune.outputs import MODEL, PLAN, check_file, check_folder\n"
        "for check in (lambda: check_folder(sys.argv[1] + '/m', MODEL),\n"
        "              lambda: check_file(sys.argv[1] + '/p', PLAN)):\n"
        "    try: check(); print('accepted')\n"
        "    except OSError as e: print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    try:
        result = subprocess.run([SYSTEM_PYTHON, "-c", code, str(root / "ro")], capture_output=True, text=True,
                                env=env, user=NOBODY, group=65534, timeout=120)
    finally:
        (root / "ro").rmdir()
        root.rmdir()
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert all("cannot be written: permission denied in" in line and "pick another path" in line for line in lines)


def test_outputs_that_are_the_same_or_nested_are_refused():
    from fuseprune.cli.output import check_apart

    check_apart(out="a/m", checkpoint="a/c")
    with pytest.raises(OutputError, match="--out and --checkpoint must be separate folders"):
        check_apart(out="a/m", checkpoint="a/m/ckpt")
    with pytest.raises(OutputError, match="--out and --checkpoint"):
        check_apart(out="a/m", checkpoint="./a/m")


# files --------------------------------------------------------------------------------------------


def test_a_file_fuseprune_wrote_is_replaced_and_an_edited_one_is_not(tmp_path):
    path = tmp_path / "rows.csv"
    write_output(path, "a\n1\n", SAMPLES)
    mark = json.loads(os.getxattr(path, ATTRIBUTE))
    assert mark["kind"] == "samples" and mark["size"] == 4
    write_output(path, "a\n2\n", SAMPLES)
    assert path.read_text() == "a\n2\n"
    with open(path, "a") as handle:  # an edit in place keeps the attribute; the hash tells
        handle.write("3\n")
    with pytest.raises(OutputError, match="'.*rows.csv' was changed since fuseprune wrote it; pick another path"):
        write_output(path, "a\n4\n", SAMPLES)
    assert path.read_text() == "a\n2\n3\n"
    write_output(path, "a\n4\n", SAMPLES, overwrite=True)
    assert path.read_text() == "a\n4\n" and listing(tmp_path) == ["rows.csv"]


def test_a_file_of_the_user_or_of_another_kind_is_refused(tmp_path):
    (tmp_path / "data.csv").write_text("real,rows\n")
    with pytest.raises(OutputError, match="exists and was not written by fuseprune; pick a new --out or pass"):
        check_file(tmp_path / "data.csv", SAMPLES, option="--out")
    write_output(tmp_path / "plan.json", "{}", PLAN)
    with pytest.raises(OutputError, match="is a fuseprune prune plan, not a sampled rows CSV"):
        write_output(tmp_path / "plan.json", "a\n", SAMPLES)
    assert (tmp_path / "data.csv").read_text() == "real,rows\n" and (tmp_path / "plan.json").read_text() == "{}"


def test_a_folder_where_a_file_is_expected_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match=r"'.*out' is a folder; name a file \(e.g. '.*out/out.plan'\)"):
        check_file(tmp_path / "out", PLAN, overwrite=True)
    with pytest.raises(OutputError, match="names a folder; name a file"):
        check_file(f"{tmp_path}/new/", PLAN)


def test_a_link_to_a_file_is_written_through_and_kept(tmp_path):
    write_output(tmp_path / "real.json", "{}", PLAN)
    (tmp_path / "link.json").symlink_to("real.json")
    write_output(tmp_path / "link.json", '{"new": 1}', PLAN)
    assert os.readlink(tmp_path / "link.json") == "real.json"
    assert (tmp_path / "real.json").read_text() == '{"new": 1}'
    (tmp_path / "dangling.json").symlink_to("missing.json")
    with pytest.raises(OutputError, match="is a symbolic link to '.*missing.json', which does not exist"):
        write_output(tmp_path / "dangling.json", "{}", PLAN)
    assert not (tmp_path / "missing.json").exists()


# the library's writers ----------------------------------------------------------------------------


def _library_writers():
    from types import SimpleNamespace

    from fuseprune.compare.report import write_report
    from fuseprune.fusion import DEFAULT_BANK, FusionBank
    from fuseprune.pipeline import RunConfig, run_main
    from fuseprune.pruning import save_pruned
    from fuseprune.scoring import LayerScores, ScoreTable
    from fuseprune.tabular import distill_tabular
    from fuseprune.tabular.bank import BankConfig, build_bank
    from fuseprune.training.checkpoint import Checkpoint, save_checkpoint

    checkpoint = Checkpoint(1, {}, {}, {}, {"state": {}, "param_groups": []}, {})
    scores = ScoreTable((LayerScores("act_norm", "activation", "maximize", (1.0, 2.0)),))
    return {  # name -> (writes a folder?, call with the output path); each must refuse before any work
        "run_main": (True, lambda p: run_main(RunConfig(data="iris", preset="tiny", out=str(p)))),
        "write_report": (True, lambda p: write_report(p.parent / "no-results", p)),
        "save_checkpoint": (True, lambda p: save_checkpoint(p, "fingerprint", checkpoint)),
        "distill_tabular": (True, lambda p: distill_tabular(None, None, None, checkpoint_dir=p)),
        "save_pruned": (True, lambda p: save_pruned(SimpleNamespace(save_pretrained=None), p)),
        "ScoreTable.to_json": (False, lambda p: scores.to_json(p)),
        "FusionBank.save": (False, lambda p: FusionBank.load(DEFAULT_BANK).save(p)),
        "build_bank": (False, lambda p: build_bank(BankConfig(datasets=("iris",), seeds=(0,)), p)),
    }


@pytest.mark.parametrize("name", list(_library_writers()))
def test_the_library_writers_refuse_what_fuseprune_did_not_write(tmp_path, name):
    folder, write = _library_writers()[name]
    path = tmp_path / "out"
    if folder:
        path.mkdir()
        (path / "thesis.txt").write_text("x")
    else:
        path.write_text("mine\n")
    with pytest.raises((OutputError, DataError), match="not written by fuseprune|is not a fusion bank"):
        write(path)
    assert listing(tmp_path) == (["out", "out/thesis.txt"] if folder else ["out"])
