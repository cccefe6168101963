"""Atomic writes: folders swapped by one exchange rename, and what killed writes leave is cleaned."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import fuseprune.files as files
from fuseprune.files import atomic_directory, clean_leftovers, exchange, temporary_path, write_text_atomic


def folder(path: Path, **contents: str) -> Path:
    path.mkdir(parents=True)
    for name, text in contents.items():
        (path / name).write_text(text)
    return path


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def leftover(target: Path, pid: int, old: bool = False, host: str | None = None) -> Path:
    """A temporary name of a writer with ``pid`` (on this machine unless ``host`` is given)."""
    own = temporary_path(target).name  # .NAME.<host>-<pid>.<random>.tmp
    host = host or own[len(target.name) + 2:].split("-")[0]
    return target.with_name(f".{target.name}.{host}-{pid}.0123abcd{'.old' if old else ''}.tmp")


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = folder(tmp_path / "a", x="a"), folder(tmp_path / "b", x="b")
    if not exchange(a, b):
        pytest.skip("this file system has no exchange rename")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_a_folder_is_replaced_whole_and_no_temporary_is_left(tmp_path):
    folder(tmp_path / "m", old="1")
    with atomic_directory(tmp_path / "m") as tmp:
        (tmp / "new").write_text("2")
        assert (tmp_path / "m" / "old").exists()  # the old folder stays in place while the new one is written
    assert sorted(os.listdir(tmp_path)) == ["m"] and os.listdir(tmp_path / "m") == ["new"]


def test_without_exchange_the_old_folder_is_moved_aside_then_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "exchange", lambda a, b: False)
    folder(tmp_path / "m", old="1")
    with atomic_directory(tmp_path / "m") as tmp:
        (tmp / "new").write_text("2")
    assert sorted(os.listdir(tmp_path)) == ["m"] and os.listdir(tmp_path / "m") == ["new"]


def test_an_error_in_the_block_leaves_the_old_folder_and_no_temporary(tmp_path):
    folder(tmp_path / "m", old="1")
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "m") as tmp:
        (tmp / "new").write_text("2")
        raise RuntimeError("disk full")
    assert sorted(os.listdir(tmp_path)) == ["m"] and os.listdir(tmp_path / "m") == ["old"]


def test_leftovers_of_dead_writers_are_deleted_and_a_displaced_old_folder_is_restored(tmp_path):
    target, pid = tmp_path / "m", dead_pid()
    folder(leftover(target, pid), partial="new")           # a killed write of the new folder
    folder(leftover(target, pid, old=True), whole="old")  # the old folder, moved aside by the fallback
    clean_leftovers(target)
    assert sorted(os.listdir(tmp_path)) == ["m"] and os.listdir(target) == ["whole"]


def test_leftovers_next_to_a_present_target_are_deleted(tmp_path):
    target, pid = folder(tmp_path / "m", new="2"), dead_pid()
    folder(leftover(target, pid), x="the old copy an exchange left")
    folder(leftover(target, pid, old=True), x="an old copy")
    (tmp_path / ".m.old").mkdir()                    # fuseprune 0.1.0's displaced old folder
    (tmp_path / ".m.ab12cd_9.tmp").mkdir()            # fuseprune 0.1.0's temporary folder
    clean_leftovers(target)
    assert sorted(os.listdir(tmp_path)) == ["m"] and os.listdir(target) == ["new"]


def test_a_fuseprune_0_1_0_old_folder_is_restored_when_the_target_is_missing(tmp_path):
    folder(tmp_path / ".m.old", whole="old")
    folder(tmp_path / ".m.ab12cd_9.tmp", partial="new")
    clean_leftovers(tmp_path / "m")
    assert sorted(os.listdir(tmp_path)) == ["m"] and os.listdir(tmp_path / "m") == ["whole"]


def test_temporaries_of_live_writers_other_machines_and_other_names_are_left_alone(tmp_path):
    target = tmp_path / "m"
    keep = [leftover(target, os.getpid()), leftover(target, dead_pid(), host="00000000"),
            tmp_path / ".m.notes.tmp", tmp_path / ".mm.ab12cd_9.tmp", tmp_path / ".n.ab12cd_9.tmp"]
    for path in keep:
        path.mkdir()
    clean_leftovers(target)
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in keep)


def test_a_file_write_cleans_leftovers_and_sets_attributes(tmp_path):
    stale = leftover(tmp_path / "x.json", dead_pid())
    stale.write_text("half")
    write_text_atomic(tmp_path / "x.json", "{}", {"user.test": b"1"})
    assert os.listdir(tmp_path) == ["x.json"] and (tmp_path / "x.json").read_text() == "{}"
    assert files.get_attribute(tmp_path / "x.json", "user.test") in (b"1", None)  # None: no xattrs here
