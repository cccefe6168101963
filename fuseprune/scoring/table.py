"""ScoreTable: every requested signal's LayerScores for one model (layers x signals).

Three views as pandas DataFrames (index ``layer``, one column per signal):
``raw_frame()``, ``keep_frame()`` (normalised, higher = keep) and
``rank_frame()`` (1 = keep first). ``to_frame()`` is the long form that is also
the CSV format. Files are written atomically (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fuseprune.errors import ConfigError, DataError, PathNotFoundError, UnknownNameError
from fuseprune.outputs import SCORES, write_output
from fuseprune.scoring.scores import LayerScores

SCHEMA_VERSION = 1
_CSV_COLUMNS = [
    "layer", "signal", "family", "goal", "reference", "raw", "keep", "rank", "model_type", "layer_path", "seed",
]


@dataclass(frozen=True)
class ScoreTable:
    """Scores of every requested signal and reference for the layers of one model.

    Attributes:
        scores: One :class:`LayerScores` per signal or reference, in request order.
        model_type: ``config.model_type`` of the scored model, if any.
        layer_path: Dotted path of the scored layer list.
        seed: Seed the scores were computed with.
    """

    scores: tuple[LayerScores, ...]
    model_type: str | None = None
    layer_path: str = ""
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", tuple(self.scores))
        if not self.scores:
            raise DataError("a ScoreTable needs at least one signal; got none.")
        names = [s.name for s in self.scores]
        if len(set(names)) != len(names):
            raise DataError(f"signal names in a ScoreTable must be unique; got {names}.")
        counts = {s.num_layers for s in self.scores}
        if len(counts) != 1:
            raise DataError(f"every signal must score the same number of layers; got {sorted(counts)}.")

    @property
    def signals(self) -> list[str]:
        """Names of the signals and references, in request order."""
        return [s.name for s in self.scores]

    @property
    def num_layers(self) -> int:
        """Number of layers scored."""
        return self.scores[0].num_layers

    def __getitem__(self, name: str) -> LayerScores:
        for scores in self.scores:
            if scores.name == name:
                return scores
        raise UnknownNameError(f"no signal {name!r} in this table; it has: {', '.join(self.signals)}.")

    def __contains__(self, name: object) -> bool:
        return name in self.signals

    def __iter__(self) -> Iterator[LayerScores]:
        return iter(self.scores)

    def raw_frame(self) -> pd.DataFrame:
        """Raw values: index ``layer``, one column per signal."""
        return self._frame(lambda s: s.raw)

    def keep_frame(self) -> pd.DataFrame:
        """Normalised keep scores in [0, 1] (higher = keep): index ``layer``, one column per signal."""
        return self._frame(lambda s: s.keep)

    def rank_frame(self) -> pd.DataFrame:
        """Ranks (1 = keep first, ties by layer index): index ``layer``, one column per signal."""
        return self._frame(lambda s: s.ranks)

    def _frame(self, values: Any) -> pd.DataFrame:
        frame = pd.DataFrame({s.name: list(values(s)) for s in self.scores})
        frame.index.name = "layer"
        return frame

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per (signal, layer) with raw, keep, rank and the table's metadata."""
        rows = [
            {
                "layer": layer, "signal": s.name, "family": s.family, "goal": s.goal, "reference": s.reference,
                "raw": s.raw[layer], "keep": s.keep[layer], "rank": s.ranks[layer],
                "model_type": self.model_type or "", "layer_path": self.layer_path, "seed": self.seed,
            }
            for s in self.scores
            for layer in range(s.num_layers)
        ]
        return pd.DataFrame(rows, columns=_CSV_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (versioned)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "model_type": self.model_type,
            "layer_path": self.layer_path,
            "seed": self.seed,
            "num_layers": self.num_layers,
            "scores": [s.to_dict() for s in self.scores],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreTable:
        """Rebuild a table written by :meth:`to_dict`; unknown keys are rejected by name."""
        unknown = sorted(set(data) - {"schema_version", "model_type", "layer_path", "seed", "num_layers", "scores"})
        if unknown:
            raise ConfigError(f"unknown ScoreTable keys: {', '.join(unknown)}.")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ConfigError(f"ScoreTable `schema_version` must be {SCHEMA_VERSION}; got {version!r}.")
        return cls(
            scores=tuple(LayerScores.from_dict(s) for s in data.get("scores", [])),
            model_type=data.get("model_type"),
            layer_path=str(data.get("layer_path", "")),
            seed=int(data.get("seed", 0)),
        )

    def to_json(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the table as JSON (atomically; missing folders are created) and return the path.

        An existing file is replaced only if it is a score table fuseprune wrote
        and unchanged since, or with ``overwrite`` (see :mod:`fuseprune.outputs`).
        """
        return write_output(path, json.dumps(self.to_dict(), indent=2) + "\n", SCORES, overwrite)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> ScoreTable:
        """Read a table written by :meth:`to_json`."""
        return cls.from_dict(json.loads(_read(Path(path))))

    def to_csv(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write :meth:`to_frame` as CSV (atomically, as :meth:`to_json`) and return the path."""
        return write_output(path, self.to_frame().to_csv(index=False), SCORES, overwrite)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> ScoreTable:
        """Read a table written by :meth:`to_csv` (keep and rank are recomputed from raw)."""
        frame = pd.read_csv(_existing(Path(path)), keep_default_na=False, float_precision="round_trip")
        missing = sorted(set(_CSV_COLUMNS) - set(frame.columns))
        if missing:
            raise DataError(f"a ScoreTable CSV needs columns {', '.join(missing)}; they are missing.")
        scores = []
        for name in dict.fromkeys(frame["signal"]):
            part = frame[frame["signal"] == name].sort_values("layer")
            if list(part["layer"]) != list(range(len(part))):
                raise DataError(f"signal {name!r} in {path} must have layers 0..n-1 once each.")
            first = part.iloc[0]
            reference = str(first["reference"]).lower() == "true"
            family, goal = str(first["family"]), str(first["goal"])
            scores.append(LayerScores(str(name), family, goal, tuple(part["raw"]), reference))
        if not scores:
            raise DataError(f"score table {str(path)!r} has no rows.")
        meta = frame.iloc[0]
        return cls(tuple(scores), str(meta["model_type"]) or None, str(meta["layer_path"]), int(meta["seed"]))

    def __rich__(self) -> Any:
        """Render signals x layers: each cell is the keep score in [0, 1] and the layer's rank."""
        from rich.table import Table

        title = (
            f"layer scores ({self.model_type or 'model'}, {self.num_layers} layers): keep score (rank, 1 = keep first)"
        )
        table = Table(title=title)
        table.add_column("signal")
        table.add_column("family")
        for layer in range(self.num_layers):
            table.add_column(f"layer {layer}", justify="right")
        for s in self.scores:
            table.add_row(s.name, s.family, *(f"{s.keep[i]:.2f} ({s.ranks[i]})" for i in range(self.num_layers)))
        return table


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise PathNotFoundError(f"score table file {str(path)!r} does not exist.")
    return path


def _read(path: Path) -> str:
    return _existing(path).read_text(encoding="utf-8")
