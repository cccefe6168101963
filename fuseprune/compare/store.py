"""The results store of a comparison: a folder with ``grid.json`` and an append-only ``results.jsonl``.

The folder is created with both (and fuseprune's ``.fuseprune`` marker, kind
``results``) in one atomic rename; it is only ever resumed, never replaced.

``grid.json`` records the fuseprune version and the :class:`GridConfig`; a
folder made by another version or another grid is refused, naming the
difference. The one change allowed is more data sets or strategies (the same
grid otherwise): the finished cells stay valid, so ``grid.json`` is updated
and only the new cells run. ``results.jsonl`` gets one JSON line per finished step, written by
a single ``write`` on a file opened for appending and flushed to disk, so
several worker processes can share it and a killed process leaves at most one
torn last line, which readers skip (and the next append starts on a new line).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from fuseprune.compare.grid import Cell, GridConfig
from fuseprune.compare.records import checked, strip_volatile
from fuseprune.errors import ConfigError, DataError, PathNotFoundError
from fuseprune.files import write_json_atomic
from fuseprune.outputs import RESULTS, output_folder
from fuseprune.tabular.model import PRESETS
from fuseprune.version import __version__

log = logging.getLogger(__name__)
STORE_FORMAT = 1
GRID_FILE = "grid.json"
RESULTS_FILE = "results.jsonl"
#: The subset tables regret is read against (see :mod:`fuseprune.compare.subset_tables`).
SUBSETS_FILE = "subsets.jsonl"



class ResultStore:
    """Append-only step records of one grid.

    Args:
        folder: The results folder.
        config: The grid; if given and the folder is new, it is created for this
            grid; if the folder exists, its grid must be the same.
    """

    def __init__(self, folder: str | Path, config: GridConfig | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / RESULTS_FILE
        grid_file = self.folder / GRID_FILE
        if grid_file.is_file():
            stored = _read_grid(grid_file)
            self.config = GridConfig.from_dict(stored["grid"])
            if config is not None and stored["fuseprune"] == __version__ and _extends(self.config, config):
                added = [name for name in (*config.datasets, *config.strategies)
                         if name not in (*self.config.datasets, *self.config.strategies)]
                log.info("%s: adding %s to the grid", self.folder, ", ".join(added))
                write_json_atomic(grid_file, {**stored, "grid": config.to_dict()})
                self.config = config
            elif config is not None:
                _check_same(grid_file, stored, config)
        elif config is None:
            raise PathNotFoundError(f"{str(self.folder)!r} is not a comparison results folder (no {GRID_FILE}); "
                                    "pass the --out folder of a `fuseprune compare` run.")
        else:
            if self.folder.is_dir() and any(self.folder.iterdir()):
                raise ConfigError(f"{str(self.folder)!r} exists and is not a comparison results folder; "
                                  "pick a new or empty --out folder.")
            with output_folder(self.folder, RESULTS) as tmp:  # appears with its grid file, or not at all
                write_json_atomic(tmp / GRID_FILE, {"format": STORE_FORMAT, "fuseprune": __version__,
                                                    "grid": config.to_dict()})
                (tmp / RESULTS_FILE).touch()
            self.config = config
        if config is not None:  # a store opened to run a grid; a reader (the report) changes nothing
            self.path.touch()

    def append(self, record: dict[str, Any]) -> None:
        """Add one finished step, or a subset table (one ``write`` of one line, then fsync)."""
        append_line(self.folder / SUBSETS_FILE if "losses" in record else self.path, record)

    def subset_lines(self) -> list[dict[str, Any]]:
        """The subset tables written so far (lines of ``subsets.jsonl``)."""
        path = self.folder / SUBSETS_FILE
        return list(read_lines(path)) if path.is_file() else []

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, in the order written, checked against the grid (see :mod:`.records`)."""
        if not self.path.is_file():
            return []
        depth = PRESETS.get(self.config.preset).n_layer
        return checked(numbered_lines(self.path), self.path, self.config, depth)

    def steps_of(self, cell: Cell) -> dict[int, dict[str, Any]]:
        """The finished steps of ``cell``: step number -> record."""
        return {r["step"]: r for r in self.records() if cell_of(r) == cell}


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line; a torn previous line is ended first."""
    line = json.dumps(record, sort_keys=True, allow_nan=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and _last_byte(path, size) != b"\n":
            line = "\n" + line
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(size - 1)
        return handle.read(1)


def read_lines(path: Path) -> Iterator[Any]:
    """The complete JSON values of ``path``; a torn line (a killed writer) is skipped with a warning."""
    for _, value in numbered_lines(path):
        yield value


def numbered_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) of every complete line of ``path``.

    A torn line (the start of a record whose writer was killed: it begins with
    ``{`` but does not parse) is skipped with a warning; any other line that
    is not UTF-8 JSON is refused, naming the line.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{str(path)!r} line {number} is not UTF-8 text; remove or repair the line.") from None
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                if not line.lstrip().startswith("{"):
                    raise DataError(f"{str(path)!r} line {number} is not a JSON record ({exc.msg}); remove or "
                                    "repair the line.") from None
                log.warning("%s line %d is incomplete (a writer was killed); it will be recomputed", path, number)


def cell_of(record: dict[str, Any]) -> Cell:
    """The cell a step record belongs to."""
    return Cell(record["dataset"], record["seed"], record["strategy"])


def comparable(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without the machine-dependent fields, sorted: equal for equal grids, whoever ran them."""
    return sorted((strip_volatile(r) for r in records), key=lambda r: (r["dataset"], r["seed"], r["strategy"],
                                                                       r["step"]))


def _read_grid(path: Path) -> dict[str, Any]:
    return read_header(path, "grid", GridConfig.from_dict, "grid file", STORE_FORMAT)


def read_header(path: Path, key: str, check: Callable[[Any], Any], what: str, version: int) -> dict[str, Any]:
    """The JSON header of a results folder (``grid.json``, ``settings.json``): its format, version and ``key``.

    ``check`` rebuilds the stored settings (raising on a wrong shape); a damaged or foreign file is a
    one-line DataError naming it.
    """
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("format") != version or not isinstance(stored.get("fuseprune"), str):
            raise DataError(f"{str(path)!r} has store format {stored.get('format')!r} (fuseprune "
                            f"{stored.get('fuseprune')!r}); this fuseprune reads format {version} only.")
        check(stored[key])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{str(path)!r} is not a readable {what} ({type(exc).__name__}: {exc}); use a new "
                        "--out folder.") from None
    return stored


def _extends(stored: GridConfig, config: GridConfig) -> bool:
    """True if ``config`` is the stored grid with data sets or strategies added (its finished cells stay valid)."""
    if stored.to_dict() == config.to_dict():
        return False
    grown = ("datasets", "strategies")
    same_otherwise = {**stored.to_dict(), **dict.fromkeys(grown)} == {**config.to_dict(), **dict.fromkeys(grown)}
    return same_otherwise and all(set(getattr(stored, name)) <= set(getattr(config, name)) for name in grown)


def _check_same(path: Path, stored: dict[str, Any], config: GridConfig) -> None:
    here = {"format": STORE_FORMAT, "fuseprune": __version__, **config.to_dict()}
    # through GridConfig, so a field added since the folder was made counts with its default value
    grid = GridConfig.from_dict(stored["grid"]).to_dict()
    there = {"format": stored.get("format"), "fuseprune": stored.get("fuseprune"), **grid}
    differences = [f"{key}: {_show(there.get(key))} there, {_show(here.get(key))} here"
                   for key in sorted(set(here) | set(there)) if _show(here.get(key)) != _show(there.get(key))]
    if differences:
        raise ConfigError(f"{str(path.parent)!r} holds a different grid ({'; '.join(differences)}); "
                          "use a new --out folder or the same options and version.")


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
