"""The results folder of a compression search: ``settings.json``, an append-only ``results.jsonl`` and ``models/``.

The folder is created with its settings (and fuseprune's ``.fuseprune``
marker, kind ``compression``) in one atomic rename and is only ever resumed,
never replaced. ``settings.json`` records the fuseprune version, the
:class:`~fuseprune.explore.config.ExploreConfig` and the teacher's weights
hash; a folder made with other settings, another version or another teacher
is refused, naming the difference. ``results.jsonl`` gets one JSON line per
measured candidate (see :mod:`fuseprune.compare.store` for how lines are
written and torn lines skipped); ``models/NAME`` keeps each candidate that
reached the target, until the search ends.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fuseprune.compare.store import append_line, numbered_lines, read_header
from fuseprune.errors import ConfigError, DataError, PathNotFoundError
from fuseprune.explore.config import ExploreConfig
from fuseprune.files import write_json_atomic
from fuseprune.outputs import COMPRESSION, output_folder
from fuseprune.version import __version__

log = logging.getLogger(__name__)
STORE_FORMAT = 1
SETTINGS_FILE = "settings.json"
RESULTS_FILE = "results.jsonl"
MODELS = "models"
#: Keys every candidate record has (see :mod:`fuseprune.explore.candidate`).
REQUIRED = ("candidate", "steps", "quality", "rows_per_second", "teacher_rows_per_second", "bytes_on_disk")
Record = dict[str, Any]


class CandidateStore:
    """Measured candidates of one compression search.

    Args:
        folder: The results folder.
        config: The search; if given and the folder is new, it is created for it; if the folder
            exists, its settings must be the same.
        teacher: The teacher's weights hash (checked with ``config``).
    """

    def __init__(self, folder: str | Path, config: ExploreConfig | None = None, teacher: str = "") -> None:
        self.folder = Path(folder)
        self.path = self.folder / RESULTS_FILE
        settings = self.folder / SETTINGS_FILE
        here = {"format": STORE_FORMAT, "fuseprune": __version__, "teacher_sha256": teacher,
                "settings": None if config is None else config.to_dict()}
        if settings.is_file():
            stored = _read_settings(settings)
            self.config = ExploreConfig.from_dict(stored["settings"])
            if config is not None:
                _check_same(self.folder, stored, here)
        elif config is None:
            raise PathNotFoundError(f"{str(self.folder)!r} is not a compression results folder (no {SETTINGS_FILE}); "
                                    "pass the --out folder of a `fuseprune compress` run.")
        else:
            if self.folder.is_dir() and any(self.folder.iterdir()):
                raise ConfigError(f"{str(self.folder)!r} exists and is not a compression results folder; "
                                  "pick a new or empty --out folder.")
            with output_folder(self.folder, COMPRESSION) as tmp:  # appears with its settings, or not at all
                write_json_atomic(tmp / SETTINGS_FILE, here)
                (tmp / RESULTS_FILE).touch()
            self.config = config

    def append(self, record: Record) -> None:
        """Add one measured candidate (one ``write`` of one line, then fsync)."""
        append_line(self.path, record)

    def records(self) -> dict[str, Record]:
        """Every complete record by candidate name; a repeated name keeps its first record (with a warning).

        Raises:
            DataError: A line is not a candidate record (names the line).
        """
        found: dict[str, Record] = {}
        if not self.path.is_file():
            return found
        for number, record in numbered_lines(self.path):
            missing = [key for key in REQUIRED if not isinstance(record, dict) or key not in record]
            if missing:
                raise DataError(f"{str(self.path)!r} line {number} is not a candidate record (it lacks "
                                f"{', '.join(missing)}); remove or repair the line.")
            if record["candidate"] in found:
                log.warning("%s line %d repeats candidate %s; using its first record", self.path, number,
                            record["candidate"])
                continue
            found[record["candidate"]] = record
        return found

    def model_folder(self, name: str) -> Path:
        """Where the candidate ``name`` is kept if it reached the target."""
        return self.folder / MODELS / slug(name)


def slug(name: str) -> str:
    """A folder name for a candidate name: letters, digits, dots and dashes."""
    text = "".join(c if c.isalnum() or c in ".-" else "-" for c in name)
    return "-".join(part for part in text.split("-") if part)


def _read_settings(path: Path) -> dict[str, Any]:
    return read_header(path, "settings", ExploreConfig.from_dict, "settings file", STORE_FORMAT)


def _check_same(folder: Path, stored: dict[str, Any], here: dict[str, Any]) -> None:
    # through ExploreConfig, so a field added since the folder was made counts with its default value
    there = {**stored, "settings": ExploreConfig.from_dict(stored["settings"]).to_dict()}
    flat_here = {k: v for k, v in here.items() if k != "settings"} | here["settings"]
    flat_there = {k: v for k, v in there.items() if k != "settings"} | there["settings"]
    differences = [f"{key}: {_show(flat_there.get(key))} there, {_show(flat_here.get(key))} here"
                   for key in sorted(set(flat_here) | set(flat_there))
                   if _show(flat_here.get(key)) != _show(flat_there.get(key))]
    if differences:
        raise ConfigError(f"{str(folder)!r} holds a search with other settings ({'; '.join(differences)}); "
                          "use a new --out folder or the same options, teacher and version.")


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
