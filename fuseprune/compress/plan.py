"""Compression plans: the steps that made a compressed model, in order, as JSON a pipeline can replay.

:func:`make_compression_plan` plans each requested method on the model the
previous steps produced (a depth step first changes which layers an svd step
sees); :func:`apply_plan` replays the steps, in order, on a deep copy of a
bundle's network and records the composition order in its ``info``.

The JSON shape (``format`` names it, ``version`` is checked; unknown keys are refused)::

    {"format": "fuseprune-compression-plan", "version": 1, "fuseprune": "0.1.0",
     "steps": [{"method": "depth", "options": {"layers": [4, 5], ...}}, ...]}
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from torch import nn

from fuseprune.compress.base import COMPRESSIONS, MethodOptions, PlanContext
from fuseprune.errors import ConfigError, PathNotFoundError
from fuseprune.files import write_json_atomic
from fuseprune.version import __version__

log = logging.getLogger(__name__)

FORMAT = "fuseprune-compression-plan"
VERSION = 1
#: Key of a bundle's ``info`` recording the compression it went through.
INFO_KEY = "compression"


@dataclass(frozen=True)
class Step:
    """One planned compression step: the method's name and its resolved, JSON-ready options."""

    method: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-ready data."""
        return {"method": self.method, "options": copy.deepcopy(self.options)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "step") -> Step:
        """Read a step; a wrong shape or an unknown method is a one-line error."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be an object with `method` and `options`; got {type(data).__name__}.")
        unknown = sorted(set(data) - {"method", "options"})
        if unknown:
            raise ConfigError(f"{where} has unknown key(s) {', '.join(unknown)}; known: method, options.")
        method, options = data.get("method"), data.get("options", {})
        if not isinstance(method, str):
            raise ConfigError(f"{where}: `method` must be a method name; got {method!r:.40}.")
        COMPRESSIONS.get(method)  # unknown methods are refused, listing the known ones
        if not isinstance(options, Mapping):
            raise ConfigError(f"{where}: `options` must be an object; got {type(options).__name__}.")
        return cls(method, copy.deepcopy(dict(options)))


@dataclass(frozen=True)
class CompressionPlan:
    """The steps, in the order they are applied."""

    steps: tuple[Step, ...] = ()

    @property
    def order(self) -> tuple[str, ...]:
        """The methods in the order they are applied."""
        return tuple(step.method for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        return {"format": FORMAT, "version": VERSION, "fuseprune": __version__,
                "steps": [step.to_dict() for step in self.steps]}

    @classmethod
    def from_dict(cls, data: Any) -> CompressionPlan:
        """Read a plan strictly: the format, version and every step are checked (one-line errors)."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ConfigError(f"not a compression plan: a JSON object with \"format\": \"{FORMAT}\" is expected.")
        unknown = sorted(set(data) - {"format", "version", "fuseprune", "steps"})
        if unknown:
            raise ConfigError(f"compression plan has unknown key(s) {', '.join(unknown)}; "
                              "known: format, version, fuseprune, steps.")
        if data.get("version") != VERSION:
            raise ConfigError(f"compression plan `version` must be {VERSION}; got {data.get('version')!r:.40} "
                              "(written by another fuseprune: plan again with this one).")
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ConfigError("compression plan `steps` must be a non-empty list of steps.")
        return cls(tuple(Step.from_dict(item, f"step {i + 1}") for i, item in enumerate(steps)))

    def to_json(self) -> str:
        """The plan as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> CompressionPlan:
        """Read a plan from JSON text."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"compression plan is not valid JSON ({exc}).") from None
        return cls.from_dict(data)

    def save(self, path: str | Path) -> Path:
        """Write the plan as JSON, atomically."""
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> CompressionPlan:
        """Read a plan file written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise PathNotFoundError(f"compression plan {str(path)!r} does not exist.")
        return cls.from_json(path.read_bytes())


def is_compression_plan(path: str | Path) -> bool:
    """Whether the file at ``path`` claims to be a compression plan (its ``format``); False if it cannot be read."""
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


Request = tuple[str, "Mapping[str, Any] | MethodOptions | None"]


def make_compression_plan(
    model: nn.Module, requests: Sequence[Request], context: PlanContext | None = None
) -> CompressionPlan:
    """Plan each ``(method, options)`` request on the model the previous ones produced.

    ``model`` is not changed (the steps are applied to a private copy as they are planned).

    Raises:
        UnknownNameError: An unknown method (the message lists the known ones).
        ConfigError: Bad options, or options that do not fit the model (a rank above a layer's).
    """
    methods = [(COMPRESSIONS.get(name), given) for name, given in requests]
    checked = [(method, method.options(given)) for method, given in methods]  # all options before any work
    work = copy.deepcopy(model)
    steps = []
    for method, options in checked:
        step = method.plan(work, options, context)
        method.apply(work, step)
        steps.append(step)
    return CompressionPlan(tuple(steps))


def apply_to_model(model: nn.Module, plan: CompressionPlan, *, inplace: bool = False) -> nn.Module:
    """Apply the plan's steps in order to ``model`` (a deep copy unless ``inplace``)."""
    if not isinstance(plan, CompressionPlan):
        raise ConfigError(f"`plan` must be a CompressionPlan; got {type(plan).__name__}.")
    work = model if inplace else copy.deepcopy(model)
    for step in plan.steps:
        log.info("applying the %s step", step.method)
        COMPRESSIONS.get(step.method).apply(work, step)
    return work


class Bundle(Protocol):
    """What :func:`apply_plan` needs of a bundle (a TabularGPT is one): its network and its record."""

    model: Any
    info: dict[str, Any]


B = TypeVar("B", bound=Bundle)


def apply_plan(bundle: B, plan: CompressionPlan) -> B:
    """Return a deep copy of ``bundle`` whose network went through the plan's steps in order.

    ``info["compression"]`` records the plan's steps and their ``order``; a
    previous record moves to its ``previous``. ``bundle`` is unchanged.
    """
    if not isinstance(plan, CompressionPlan):
        raise ConfigError(f"`plan` must be a CompressionPlan; got {type(plan).__name__}.")
    result = copy.deepcopy(bundle)
    apply_to_model(result.model, plan, inplace=True)
    record: dict[str, Any] = {"order": list(plan.order), "steps": plan.to_dict()["steps"]}
    if INFO_KEY in result.info:
        record["previous"] = result.info.pop(INFO_KEY)
    result.info[INFO_KEY] = record
    return result


def recorded_plan(info: Mapping[str, Any]) -> CompressionPlan | None:
    """The plan a bundle's ``info`` records (the last one applied), or None."""
    record = info.get(INFO_KEY)
    if not isinstance(record, Mapping):
        return None
    return CompressionPlan.from_dict({"format": FORMAT, "version": VERSION, "steps": record.get("steps")})
