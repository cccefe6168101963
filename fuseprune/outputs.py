"""Where fuseprune may write: never delete or replace anything fuseprune did not create.

Every folder fuseprune writes carries a marker, a small JSON file ``.fuseprune``:
``{"kind": "model", "fuseprune": "0.1.0", "entries": {"config.json": 734, "sub": null, ...}}``,
the kind of folder (see :data:`KINDS`) and every path fuseprune wrote in it
with its size (``null`` for a folder). Folders that are resumed rather than
replaced (comparison results) record no entries. Every file fuseprune writes
as an output carries the extended attribute ``user.fuseprune``:
``{"kind": "plan", "size": ..., "sha256": ...}``.

An output folder may be absent (it is created), empty, or a folder fuseprune
wrote of the same kind and holding nothing it did not write (it is replaced
atomically, see :mod:`fuseprune.files`). An output file may be absent, or a
file fuseprune wrote of the same kind and unchanged since (its content still
has the recorded hash). Anything else is replaced only with ``overwrite``
(``--overwrite``), and never: a named pipe, socket or device, a read-only file
or folder, a mount point, the current folder or one holding it. A symbolic
link is followed: the rules apply to what it points to, which is replaced, and
the link stays. Every refusal is an :class:`~fuseprune.errors.OutputError`
raised before anything is written, with the path and the fix.

Folders written by fuseprune 0.1.0 have no marker; one is still recognised
when it holds the file that kind always has (a model folder's
``fuseprune.json``, a run's ``summary.json``, a report's ``report.md``, a
checkpoint's ``state.json``, comparison results' ``grid.json``, a REaLTabFormer
export's ``fuseprune.json``, the marker exports carried then) and nothing but
the files fuseprune writes there. Files have no such fallback: replacing
an unmarked file (one written by fuseprune 0.1.0, or on a file system without
extended attributes) needs ``overwrite``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fuseprune.errors import OutputError
from fuseprune.files import (
    atomic_directory,
    clean_leftovers,
    get_attribute,
    set_attribute,
    temporary_path,
    write_text_atomic,
)
from fuseprune.output_paths import writable_target
from fuseprune.version import __version__

MARKER = ".fuseprune"
ATTRIBUTE = "user.fuseprune"
_MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "codec.json", "fuseprune.json")


@dataclass(frozen=True)
class Kind:
    """A kind of output.

    Attributes:
        name: Stored in markers.
        label: Used in messages ("model folder").
        legacy: Paths (globs) of such a folder written without a marker; the first must exist.
        replaced: False for folders that are only ever resumed, never replaced.
    """

    name: str
    label: str
    legacy: tuple[str, ...] = ()
    replaced: bool = True


MODEL = Kind("model", "model folder", ("fuseprune.json", *_MODEL_FILES))
TRANSFORMERS_MODEL = Kind("transformers-model", "pruned transformers model folder")
RUN = Kind("run", "run folder", ("summary.json", "plan.json", "teacher.json", "student.json", "teacher", "student",
                                 *(f"{m}/{f}" for m in ("teacher", "student") for f in _MODEL_FILES)))
REPORT = Kind("report", "report folder", ("report.md", "curves.png", "curves_distilled.png", "layer_ranks.png",
                                          "tables", "tables/*.csv"))
CHECKPOINT = Kind("checkpoint", "distillation checkpoint folder",
                  ("state.json", "student.safetensors", "best.safetensors", "optimizer.safetensors"))
#: REaLTabFormer's own files; exports of fuseprune 0.1.0 also held a ``fuseprune.json`` marker, and only that
#: file tells them from a folder REaLTabFormer's ``save()`` wrote, so it comes first.
REALTABFORMER = Kind("realtabformer", "REaLTabFormer export folder",
                     ("fuseprune.json", "rtf_config.json", "rtf_model.pt"))
RESULTS = Kind("results", "comparison results folder", ("grid.json", "*"), replaced=False)
COMPRESSION = Kind("compression", "compression results folder", replaced=False)
PLAN = Kind("plan", "prune plan")
SAMPLES = Kind("samples", "sampled rows CSV")
EVALUATION = Kind("evaluation", "evaluation record")
SCORES = Kind("scores", "score table")
BANK = Kind("bank", "fusion bank")
FUSION = Kind("fusion", "fitted fusion model")
KINDS = {k.name: k for k in (MODEL, TRANSFORMERS_MODEL, RUN, REPORT, CHECKPOINT, REALTABFORMER, RESULTS,
                             COMPRESSION, PLAN, SAMPLES, EVALUATION, SCORES, BANK, FUSION)}


def _fix(kind: Kind, option: str | None) -> str:
    where = option or "path"
    if not kind.replaced:
        return f"pick a new or empty {where}"
    return f"pick a new {where} or pass --overwrite" if option else "pick another path or pass overwrite=True"


def check_folder(path: str | os.PathLike[str], kind: Kind, overwrite: bool = False, *,
                 option: str | None = None) -> Path:
    """Check that the folder ``path`` may be written as ``kind``; return the path to write.

    Leftovers of killed writes to it are cleaned first (see :func:`fuseprune.files.clean_leftovers`).

    Args:
        path: The output folder.
        kind: What will be written there.
        overwrite: Replace a folder or file fuseprune did not write (never a special file).
        option: The command-line option naming the path, for messages (``"--out"``).

    Raises:
        OutputError: The folder may not be written, naming the path and the fix.
    """
    target, info = writable_target(path, option, folder=True)
    if info is None:
        return target
    problem = "is a file, not a folder" if stat.S_ISREG(info.st_mode) else _folder_problem(target, kind)
    if problem is not None and (not overwrite or not kind.replaced):
        raise OutputError(f"{str(target)!r} {problem}; {_fix(kind, option)}.")
    return target


def written_by_fuseprune(path: str | os.PathLike[str], kind: Kind) -> bool:
    """Whether ``path`` is a folder fuseprune wrote as ``kind``, holding nothing else."""
    path = Path(path)
    return path.is_dir() and any(True for _ in os.scandir(path)) and _folder_problem(path, kind) is None


def _marker(folder: Path) -> dict | None:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("kind"), str) else None


def _entries(folder: Path) -> Iterator[tuple[str, int | None]]:
    """(relative path, size or None for a folder) of everything under ``folder`` but its marker."""
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs) + sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel != MARKER:
                yield rel, (None if path.is_dir() and not path.is_symlink() else path.lstat().st_size)


def _folder_problem(folder: Path, kind: Kind) -> str | None:
    """Why the existing folder may not be replaced by a ``kind`` (None if it may)."""
    marker = _marker(folder)
    if marker is None:
        return None if not any(True for _ in os.scandir(folder)) else _legacy_problem(folder, kind)
    if marker["kind"] != kind.name:
        other = KINDS.get(marker["kind"], Kind("", f"{marker['kind']} folder")).label
        return f"is a fuseprune {other}, not a {kind.label}"
    if not kind.replaced:
        return None
    recorded = marker.get("entries")
    if not isinstance(recorded, dict):
        return f"has a damaged {MARKER} marker"
    for rel, size in _entries(folder):
        if rel not in recorded:
            return f"holds {rel!r}, which fuseprune did not write"
        if size != recorded[rel]:
            return f"holds {rel!r}, changed since fuseprune wrote it"
    return None


def _legacy_problem(folder: Path, kind: Kind) -> str | None:
    first = next(iter(sorted(p.name for p in folder.iterdir())), "")
    if not kind.legacy or not (folder / kind.legacy[0]).is_file():
        return f"exists and was not written by fuseprune (it holds {first!r})"
    for rel, _ in _entries(folder):
        if not any(fnmatch.fnmatchcase(rel, pattern) for pattern in kind.legacy):
            return f"holds {rel!r}, which fuseprune did not write"
    return None


def _write_marker(folder: Path, kind: Kind) -> None:
    """Mark ``folder`` (complete, not yet in place) as a fuseprune ``kind`` listing what it holds."""
    marker: dict[str, Any] = {"kind": kind.name, "fuseprune": __version__}
    if kind.replaced:
        marker["entries"] = dict(_entries(folder))
    (folder / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


@contextmanager
def output_folder(path: str | os.PathLike[str], kind: Kind, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that, marked as ``kind``, atomically becomes ``path`` when the block ends.

    Raises:
        OutputError: ``path`` may not be written (checked before the block runs).
    """
    target = check_folder(path, kind, overwrite)
    with atomic_directory(target) as tmp:
        yield tmp
        _write_marker(tmp, kind)


def check_file(path: str | os.PathLike[str], kind: Kind, overwrite: bool = False, *,
               option: str | None = None) -> Path:
    """Check that the file ``path`` may be written as ``kind``; return the path to write (a link followed).

    Raises:
        OutputError: The file may not be written, naming the path and the fix.
    """
    target, info = writable_target(path, option, folder=False)
    if info is None:
        return target
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{str(target)!r} is a folder; name a file (e.g. {str(target / ('out.' + kind.name))!r}).")
    problem = _file_problem(target, kind, info.st_size)
    if problem is not None and not overwrite:
        raise OutputError(f"{str(target)!r} {problem}; {_fix(kind, option)}.")
    return target


def _file_problem(path: Path, kind: Kind, size: int) -> str | None:
    try:
        mark = json.loads(get_attribute(path, ATTRIBUTE) or b"")
        recorded_kind, recorded_size, digest = mark["kind"], mark["size"], mark["sha256"]
    except (ValueError, TypeError, KeyError):
        return "exists and was not written by fuseprune"
    if size != recorded_size or _file_sha256(path) != digest:
        return "was changed since fuseprune wrote it"
    if recorded_kind != kind.name:
        return f"is a fuseprune {KINDS.get(recorded_kind, Kind('', recorded_kind)).label}, not a {kind.label}"
    return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_output(path: str | os.PathLike[str], text: str, kind: Kind, overwrite: bool = False) -> Path:
    """Write ``text`` to the file ``path`` atomically, marked as ``kind``; return ``path``.

    Raises:
        OutputError: ``path`` may not be written (see :func:`check_file`).
    """
    target = check_file(path, kind, overwrite)
    data = text.encode("utf-8")
    mark = {"kind": kind.name, "size": len(data), "sha256": _sha256(data), "fuseprune": __version__}
    write_text_atomic(target, text, {ATTRIBUTE: json.dumps(mark).encode()})
    return Path(path)


@contextmanager
def output_file(path: str | os.PathLike[str], kind: Kind, overwrite: bool = False) -> Iterator[Path]:
    """Yield a hidden temporary file that becomes ``path``, marked as ``kind``, when the block finishes.

    For outputs written piece by piece (streamed rows): the file appears under
    its name complete or not at all; an exception (Ctrl-C included) removes the
    temporary, and a killed writer's temporary is cleaned by the next write.

    Raises:
        OutputError: ``path`` may not be written (see :func:`check_file`), checked first.
    """
    target = check_file(path, kind, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    tmp = temporary_path(target)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies
    try:
        yield tmp
        mark = {"kind": kind.name, "size": tmp.stat().st_size, "sha256": _file_sha256(tmp), "fuseprune": __version__}
        set_attribute(tmp, ATTRIBUTE, json.dumps(mark).encode())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_output_json(path: str | os.PathLike[str], payload: object, kind: Kind, overwrite: bool = False) -> Path:
    """Write ``payload`` as indented JSON with :func:`write_output`."""
    return write_output(path, json.dumps(payload, indent=2) + "\n", kind, overwrite)
