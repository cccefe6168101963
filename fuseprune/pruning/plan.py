"""PrunePlan: which layers to remove from which model, and why, as versioned JSON.

A plan is made by :func:`~fuseprune.pruning.make_plan`, saved, read by a
person, and replayed by :func:`~fuseprune.pruning.apply_plan` on the model
whose fingerprint it carries. The JSON layout (see ``plan.schema.json``)::

    {"schema_version": 1, "fuseprune_version": "0.1.0",
     "model": {fingerprint},
     "strategy": {"name": ..., "mode": "one-shot" | "iterative", "parameters": {...}},
     "signal_scores": {signal: [keep score per layer]}, "fused_scores": [...] | null,
     "removal_order": [...], "remove": [...], "kept_layers": [...],
     "predicted_impact": [...] | null, "measured": {...} | null}

``remove`` (sorted removal order) and ``kept_layers`` (student layer ``i``
comes from teacher layer ``kept_layers[i]``) are derived; they are written for
readers and checked on load.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fuseprune.errors import DataError, PathNotFoundError
from fuseprune.outputs import PLAN, write_output_json
from fuseprune.pruning.checks import (
    check_keys,
    expect_floats,
    expect_int,
    expect_ints,
    expect_object,
    expect_sha256,
    expect_str,
    json_ready,
    reject_duplicate_keys,
    shown,
)
from fuseprune.pruning.fingerprint import ModelFingerprint
from fuseprune.version import __version__

#: Version of the plan JSON layout this fuseprune writes and the newest it reads.
SCHEMA_VERSION = 1
#: Largest layer count a plan may describe (a sanity bound for hand-edited files).
MAX_LAYERS = 100_000
#: How a plan chose its layers.
PLAN_MODES = ("one-shot", "iterative")
#: Path of the JSON Schema of the plan file, shipped with the package.
SCHEMA_PATH = Path(__file__).with_name("plan.schema.json")

_TOP_KEYS = ("schema_version", "fuseprune_version", "model", "strategy", "signal_scores", "fused_scores",
             "removal_order", "remove", "kept_layers", "predicted_impact", "measured")
_MODEL_KEYS = ("model_type", "layer_path", "num_layers", "num_parameters", "config_sha256", "weights_sha256")
_STRATEGY_KEYS = ("name", "mode", "parameters")


@dataclass(frozen=True)
class PrunePlan:
    """A replayable decision: remove these layers (in this order) from the model with this fingerprint.

    Attributes:
        model: Fingerprint of the model the plan was made for.
        strategy: Strategy name (a signal, reference or registered strategy).
        mode: ``"one-shot"`` or ``"iterative"``.
        removal_order: Layers to remove, in ORIGINAL indices, in the order they were chosen.
        parameters: JSON-ready options the plan was made with (target, protection, seed...).
        signal_scores: Keep score per layer (higher = keep, in [0, 1]) of each signal used;
            in iterative mode, those of the first round (the intact model).
        fused_scores: Fused keep score per layer, if a fusion strategy made the plan.
        predicted_impact: Predicted impact of removing each layer alone, if known.
        measured: Results measured after pruning (quality, NLL, speed...), filled in later.
        schema_version: Version of the JSON layout.
        fuseprune_version: fuseprune version that made the plan.
    """

    model: ModelFingerprint
    strategy: str
    mode: str
    removal_order: tuple[int, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    signal_scores: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    fused_scores: tuple[float, ...] | None = None
    predicted_impact: tuple[float, ...] | None = None
    measured: Mapping[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION
    fuseprune_version: str = __version__

    def __post_init__(self) -> None:
        n = self.model.num_layers
        expect_int(n, "model.num_layers", 1, MAX_LAYERS)
        expect_str(self.strategy, "strategy.name")
        if self.mode not in PLAN_MODES:
            raise DataError(f"plan `strategy.mode` must be one of {', '.join(PLAN_MODES)}; got {shown(self.mode)}.")
        order = expect_ints(self.removal_order, "removal_order")
        _check_removal(order, n)
        object.__setattr__(self, "removal_order", order)
        scores = {expect_str(k, "signal_scores"): expect_floats(v, f"signal_scores[{shown(k)}]", n)
                  for k, v in expect_object(dict(self.signal_scores), "signal_scores").items()}
        object.__setattr__(self, "signal_scores", scores)
        for name in ("fused_scores", "predicted_impact"):
            value = getattr(self, name)
            object.__setattr__(self, name, None if value is None else expect_floats(value, name, n))
        object.__setattr__(self, "parameters", _json_object(self.parameters, "parameters"))
        if self.measured is not None:
            object.__setattr__(self, "measured", _json_object(self.measured, "measured"))

    @property
    def remove(self) -> tuple[int, ...]:
        """Layers to remove, sorted (original indices)."""
        return tuple(sorted(self.removal_order))

    @property
    def kept_layers(self) -> tuple[int, ...]:
        """Teacher layer of each student layer: student layer ``i`` is teacher layer ``kept_layers[i]``."""
        removed = set(self.removal_order)
        return tuple(i for i in range(self.model.num_layers) if i not in removed)

    @property
    def num_layers_after(self) -> int:
        """Number of layers left after pruning."""
        return self.model.num_layers - len(self.removal_order)

    def with_measured(self, **results: Any) -> PrunePlan:
        """Return a copy whose ``measured`` dict is updated with ``results`` (JSON-ready values)."""
        return replace(self, measured={**(self.measured or {}), **results})

    def summary(self) -> dict[str, Any]:
        """Return what a pruned model records about its origin (removed layers, kept -> teacher map)."""
        return {
            "plan_schema_version": self.schema_version,
            "strategy": self.strategy,
            "mode": self.mode,
            "removed_layers": list(self.remove),
            "removal_order": list(self.removal_order),
            "kept_layers": list(self.kept_layers),
            "num_layers_before": self.model.num_layers,
            "num_layers_after": self.num_layers_after,
            "teacher": self.model.to_dict(),
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (the layout in the module docstring)."""
        return {
            "schema_version": self.schema_version,
            "fuseprune_version": self.fuseprune_version,
            "model": self.model.to_dict(),
            "strategy": {"name": self.strategy, "mode": self.mode, "parameters": dict(self.parameters)},
            "signal_scores": {name: list(values) for name, values in self.signal_scores.items()},
            "fused_scores": None if self.fused_scores is None else list(self.fused_scores),
            "removal_order": list(self.removal_order),
            "remove": list(self.remove),
            "kept_layers": list(self.kept_layers),
            "predicted_impact": None if self.predicted_impact is None else list(self.predicted_impact),
            "measured": None if self.measured is None else dict(self.measured),
        }

    @classmethod
    def from_dict(cls, data: Any) -> PrunePlan:
        """Rebuild a plan from :meth:`to_dict` output, checking every field.

        Raises:
            DataError: Anything is missing, unknown, of the wrong type or inconsistent
                (one line naming the field); also a plan from a newer fuseprune.
        """
        data = expect_object(data, "(top level)")
        version = _schema_version(data)
        check_keys(data, _TOP_KEYS, (), "(top level)")
        strategy = expect_object(data["strategy"], "strategy")
        check_keys(strategy, _STRATEGY_KEYS, (), "strategy")
        plan = cls(
            model=_fingerprint(data["model"]),
            strategy=expect_str(strategy["name"], "strategy.name"),
            mode=expect_str(strategy["mode"], "strategy.mode"),
            removal_order=expect_ints(data["removal_order"], "removal_order"),
            parameters=expect_object(strategy["parameters"], "strategy.parameters"),
            signal_scores=expect_object(data["signal_scores"], "signal_scores"),
            fused_scores=data["fused_scores"],
            predicted_impact=data["predicted_impact"],
            measured=None if data["measured"] is None else expect_object(data["measured"], "measured"),
            schema_version=version,
            fuseprune_version=expect_str(data["fuseprune_version"], "fuseprune_version"),
        )
        _check_derived(plan, data)
        return plan

    @classmethod
    def from_json(cls, text: str | bytes) -> PrunePlan:
        """Parse a plan from JSON text; every failure is a one-line :class:`DataError`."""
        try:
            data = json.loads(text, object_pairs_hook=reject_duplicate_keys)
        except (ValueError, RecursionError, TypeError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise DataError(f"plan is not valid JSON: {reason}.") from None
        return cls.from_dict(data)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the plan as indented JSON, atomically (temporary file, then rename); return the path.

        An existing file is replaced only if it is a plan fuseprune wrote and
        unchanged since, or with ``overwrite`` (see :mod:`fuseprune.outputs`).
        """
        return write_output_json(path, self.to_dict(), PLAN, overwrite)

    @classmethod
    def load(cls, path: str | Path) -> PrunePlan:
        """Read a plan written by :meth:`save`.

        Raises:
            PathNotFoundError: ``path`` is not a file.
            DataError: The file is not a valid plan.
        """
        path = Path(path)
        if not path.is_file():
            raise PathNotFoundError(f"plan file {str(path)!r} does not exist; make one with `fuseprune plan`.")
        return cls.from_json(path.read_bytes())


def _json_object(value: Mapping[str, Any], where: str) -> dict[str, Any]:
    return expect_object(json_ready(dict(value), where), where)


def _schema_version(data: Mapping[str, Any]) -> int:
    if "schema_version" not in data:
        raise DataError("plan `(top level)` is missing field(s) schema_version.")
    version = expect_int(data["schema_version"], "schema_version", 1)
    if version > SCHEMA_VERSION:
        raise DataError(
            f"plan schema_version {version} is newer than this fuseprune {__version__} reads "
            f"(up to {SCHEMA_VERSION}); upgrade fuseprune."
        )
    return version


def _fingerprint(value: Any) -> ModelFingerprint:
    data = expect_object(value, "model")
    check_keys(data, _MODEL_KEYS, (), "model")
    return ModelFingerprint(
        model_type=expect_str(data["model_type"], "model.model_type", nullable=True),
        layer_path=expect_str(data["layer_path"], "model.layer_path"),
        num_layers=expect_int(data["num_layers"], "model.num_layers", 1, MAX_LAYERS),
        num_parameters=expect_int(data["num_parameters"], "model.num_parameters", 0),
        config_sha256=expect_sha256(data["config_sha256"], "model.config_sha256", nullable=True),
        weights_sha256=expect_sha256(data["weights_sha256"], "model.weights_sha256"),
    )


def _check_removal(order: tuple[int, ...], num_layers: int) -> None:
    duplicates = sorted(i for i, count in Counter(order).items() if count > 1)
    if duplicates:
        raise DataError(f"plan `removal_order` must not repeat layers; got {shown(duplicates)} more than once.")
    outside = sorted(i for i in order if not 0 <= i < num_layers)
    if outside:
        raise DataError(
            f"plan `removal_order` must hold layer indices between 0 and {num_layers - 1}; got {shown(outside)}."
        )
    if len(order) >= num_layers:
        raise DataError(f"plan removes every layer ({len(order)} of {num_layers}); keep at least one.")


def _check_derived(plan: PrunePlan, data: Mapping[str, Any]) -> None:
    """The written ``remove`` and ``kept_layers`` must be what ``removal_order`` implies."""
    for name, length in (("remove", len(plan.removal_order)), ("kept_layers", plan.num_layers_after)):
        written = expect_ints(data[name], name)
        if len(written) != length or written != getattr(plan, name):
            raise DataError(
                f"plan `{name}` does not match `removal_order` and `model.num_layers`; got {shown(written)}."
            )
