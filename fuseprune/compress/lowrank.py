"""``svd``: each targeted projection becomes two dense factors from its truncated SVD.

``W = U S V^T`` (in x out) is cut to rank ``r`` and split evenly,
``A = U_r sqrt(S_r)``, ``B = sqrt(S_r) V_r^T``, so the layer computes
``(x A) B + b`` with ``r (in + out)`` weights instead of ``in * out``. The rank
is chosen per projection by count (``rank``), by the fraction of the
projection's weights kept (``fraction``: the largest ``r`` with
``r (in + out) <= fraction * in * out``, at least 1) or by the retained
spectral energy (``energy``: the smallest ``r`` with
``sum(S_r^2) >= energy * sum(S^2)``). At full rank the layer is reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from fuseprune.compress.base import (
    Method,
    MethodOptions,
    PlanContext,
    check_target,
    other_model,
    projections,
    register_method,
    set_module,
)
from fuseprune.compress.modules import LowRankLinear, dense_weight
from fuseprune.compress.plan import Step
from fuseprune.errors import ConfigError


@dataclass(frozen=True)
class SVDOptions(MethodOptions):
    """Which projections are factorised and how the rank is chosen (at most one of rank, fraction, energy)."""

    rank: int | None = field(default=None, metadata={"help": "rank of every factorised projection"})
    fraction: float | None = field(default=None, metadata={"help": "fraction of each projection's weights kept"})
    energy: float | None = field(default=None, metadata={"help": "spectral energy kept, in (0, 1]"})
    target: str = field(default="mlp", metadata={"help": "projections: mlp, attention or all"})

    def __post_init__(self) -> None:
        given = [name for name in ("rank", "fraction", "energy") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ConfigError(f"an svd step takes one of `rank`, `fraction` or `energy`; got {', '.join(given)}.")
        if not given:
            object.__setattr__(self, "fraction", 0.5)
        rank = self.rank
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 1):
            raise ConfigError(f"`rank` must be an integer of at least 1; got {rank!r}.")
        for name in ("fraction", "energy"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not 0 < value <= 1):
                raise ConfigError(f"`{name}` must be greater than 0 and at most 1; got {value!r}.")
        check_target(self.target)


def choose_rank(name: str, weight: torch.Tensor, options: SVDOptions) -> int:
    """The rank ``options`` give the (in x out) ``weight`` of projection ``name``."""
    n_in, n_out = weight.shape
    full = min(n_in, n_out)
    if options.rank is not None:
        if options.rank > full:
            raise ConfigError(f"`rank` {options.rank} is above the rank of {name} ({n_in} x {n_out}: {full}); "
                              f"pick at most {full}.")
        return options.rank
    if options.fraction is not None:
        return max(1, min(full, int(options.fraction * n_in * n_out // (n_in + n_out))))
    energy = torch.linalg.svdvals(weight.double()).square().cumsum(0)
    wanted = float(options.energy or 1.0) * float(energy[-1])
    return min(full, int((energy < wanted * (1 - 1e-12)).sum()) + 1)


def factorise(module: nn.Module, rank: int) -> LowRankLinear:
    """The two-factor layer of ``module``'s truncated SVD at ``rank``."""
    weight, bias = dense_weight(module)
    u, s, vh = torch.linalg.svd(weight.double(), full_matrices=False)
    root = s[:rank].sqrt()
    layer = LowRankLinear(weight.shape[0], weight.shape[1], rank, bias is not None)
    with torch.no_grad():
        layer.first.weight.copy_((u[:, :rank] * root).t())
        layer.second.weight.copy_((root[:, None] * vh[:rank]).t())
        if bias is not None and layer.second.bias is not None:
            layer.second.bias.copy_(bias)
    return layer.to(weight.dtype)


@register_method
class SVD(Method):
    """Replace each targeted projection by two dense factors of its truncated SVD."""

    name = "svd"
    description = "two low-rank dense factors per projection (truncated SVD)"
    options_class = SVDOptions

    def plan(self, model: nn.Module, options: MethodOptions, context: PlanContext | None = None) -> Step:
        """The rank of every targeted projection."""
        if not isinstance(options, SVDOptions):
            options = self.options(options.to_dict())
        ranks = {name: choose_rank(name, dense_weight(module)[0], options)
                 for name, module in projections(model, options.target)}
        return Step(self.name, {"target": options.target, "rank": options.rank, "fraction": options.fraction,
                                "energy": options.energy, "ranks": ranks})

    def apply(self, model: nn.Module, step: Step) -> None:
        """Factorise each projection at its recorded rank."""
        ranks = step.options.get("ranks")
        if not isinstance(ranks, dict) or not ranks:
            raise ConfigError("an svd step's `ranks` must map projection names to ranks.")
        found = dict(projections(model, "all"))
        for name, rank in ranks.items():
            if name not in found:
                raise other_model(step, f"the model has no projection {name!r}")
            weight = dense_weight(found[name])[0]
            if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= min(weight.shape):
                raise ConfigError(f"the svd rank of {name} must be between 1 and {min(weight.shape)} "
                                  f"(its rank); got {rank!r}.")
            set_module(model, name, factorise(found[name], rank))
