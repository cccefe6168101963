"""The modules that replace a dense projection: two low-rank factors, a Tucker layer, a tensor-train layer.

Each takes ``(..., in_features)`` to ``(..., out_features)`` like the GPT-2
``Conv1D`` it replaces (``y = x W + b``), holds only its factors (the dense
weight is never rebuilt) and describes itself with :meth:`spec`, a JSON-ready
dict from which :func:`build_module` makes an empty module of the same shape
(the saved weights are loaded into it).

A tensorised layer sees the input as a tensor of shape ``in_modes`` (their
product is ``in_features``) and the output as one of shape ``out_modes``; the
weight is the matrix ``W[(i_1..i_d), (o_1..o_e)]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from fuseprune.errors import ModelError


class LowRankLinear(nn.Module):
    """``y = (x A) B + b`` with ``A`` (in x rank) and ``B`` (rank x out), as two ``nn.Linear`` layers."""

    kind = "lowrank"

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.first = nn.Linear(in_features, rank, bias=False)
        self.second = nn.Linear(rank, out_features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply both factors."""
        return self.second(self.first(x))

    def spec(self) -> dict[str, Any]:
        """What :func:`build_module` needs to rebuild this module's shape."""
        return {"kind": self.kind, "in_features": self.in_features, "out_features": self.out_features,
                "rank": self.rank, "bias": self.second.bias is not None}


class TuckerLinear(nn.Module):
    """A dense layer whose weight tensor is a Tucker core times one factor per mode."""

    kind = "tucker"

    def __init__(self, in_modes: Sequence[int], out_modes: Sequence[int], ranks: Sequence[int],
                 bias: bool = True) -> None:
        super().__init__()
        self.in_modes, self.out_modes, self.ranks = tuple(in_modes), tuple(out_modes), tuple(ranks)
        if len(self.ranks) != len(self.in_modes) + len(self.out_modes):
            raise ModelError(f"a Tucker layer needs one rank per mode; got ranks {list(self.ranks)} for modes "
                             f"{list(self.in_modes)} x {list(self.out_modes)}.")
        self.in_features, self.out_features = math.prod(self.in_modes), math.prod(self.out_modes)
        self.core = nn.Parameter(torch.zeros(self.ranks))
        self.factors = nn.ParameterList(
            nn.Parameter(torch.zeros(size, rank)) for size, rank in zip((*self.in_modes, *self.out_modes), self.ranks,
                                                                         strict=True))
        self.bias = nn.Parameter(torch.zeros(self.out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Contract the input with the input factors, the core, then the output factors."""
        lead, d = x.shape[:-1], len(self.in_modes)
        t = x.reshape(-1, *self.in_modes)
        for factor in self.factors[:d]:  # each contraction moves its new mode to the end
            t = torch.tensordot(t, factor, dims=([1], [0]))
        r_in = math.prod(self.ranks[:d])
        t = (t.reshape(-1, r_in) @ self.core.reshape(r_in, -1)).reshape(-1, *self.ranks[d:])
        for factor in self.factors[d:]:
            t = torch.tensordot(t, factor, dims=([1], [1]))
        y = t.reshape(*lead, self.out_features)
        return y if self.bias is None else y + self.bias

    def spec(self) -> dict[str, Any]:
        """What :func:`build_module` needs to rebuild this module's shape."""
        return {"kind": self.kind, "in_modes": list(self.in_modes), "out_modes": list(self.out_modes),
                "ranks": list(self.ranks), "bias": self.bias is not None}


class TTLinear(nn.Module):
    """A dense layer whose weight is a tensor-train matrix: cores ``G_k`` of shape (r_{k-1}, i_k, o_k, r_k)."""

    kind = "tt"

    def __init__(self, in_modes: Sequence[int], out_modes: Sequence[int], ranks: Sequence[int],
                 bias: bool = True) -> None:
        super().__init__()
        self.in_modes, self.out_modes, self.ranks = tuple(in_modes), tuple(out_modes), tuple(ranks)
        if len(self.in_modes) != len(self.out_modes) or len(self.ranks) != len(self.in_modes) + 1 \
                or self.ranks[0] != 1 or self.ranks[-1] != 1:
            raise ModelError(f"a tensor-train layer needs as many input as output modes and ranks (1, ..., 1) one "
                             f"longer; got modes {list(self.in_modes)} x {list(self.out_modes)}, ranks "
                             f"{list(self.ranks)}.")
        self.in_features, self.out_features = math.prod(self.in_modes), math.prod(self.out_modes)
        self.cores = nn.ParameterList(
            nn.Parameter(torch.zeros(self.ranks[k], i, o, self.ranks[k + 1]))
            for k, (i, o) in enumerate(zip(self.in_modes, self.out_modes, strict=True)))
        self.bias = nn.Parameter(torch.zeros(self.out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Contract the input with the cores one at a time (outputs gathered in front, inputs consumed)."""
        lead = x.shape[:-1]
        t = x.reshape(-1, 1, 1, self.in_features)  # (rows, outputs so far, rank, inputs left)
        for core, size in zip(self.cores, self.in_modes, strict=True):
            rows, done, rank, left = t.shape
            t = t.reshape(rows, done, rank, size, left // size)
            t = torch.einsum("bpris,rioq->bpoqs", t, core)
            t = t.reshape(rows, done * core.shape[2], core.shape[3], left // size)
        y = t.reshape(*lead, self.out_features)
        return y if self.bias is None else y + self.bias

    def spec(self) -> dict[str, Any]:
        """What :func:`build_module` needs to rebuild this module's shape."""
        return {"kind": self.kind, "in_modes": list(self.in_modes), "out_modes": list(self.out_modes),
                "ranks": list(self.ranks), "bias": self.bias is not None}


def build_module(spec: Any, where: str) -> nn.Module:
    """An empty module of the shape ``spec`` describes (a ``ModelError`` naming ``where`` if it is malformed)."""
    kinds: dict[str, Any] = {"lowrank": LowRankLinear, "tucker": TuckerLinear, "tt": TTLinear}
    if not isinstance(spec, dict) or spec.get("kind") not in kinds:
        raise ModelError(f"{where}: unknown module kind {spec.get('kind') if isinstance(spec, dict) else spec!r:.40}; "
                         f"known: {', '.join(sorted(kinds))}.")
    args = {k: v for k, v in spec.items() if k != "kind"}
    try:
        return kinds[spec["kind"]](**args)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{where}: {spec['kind']} module {args} cannot be built ({exc}).") from None


def dense_weight(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The (in x out) weight and the bias of a dense projection (GPT-2 ``Conv1D`` or ``nn.Linear``)."""
    from transformers.pytorch_utils import Conv1D

    if isinstance(module, Conv1D):
        return module.weight.detach(), None if module.bias is None else module.bias.detach()
    if type(module) is nn.Linear:
        return module.weight.detach().t(), None if module.bias is None else module.bias.detach()
    raise ModelError(f"only a dense projection (Conv1D or nn.Linear) can be factorised; got {type(module).__name__} "
                     "(factorise before other compression steps change it).")


def balanced_modes(size: int, count: int) -> tuple[int, ...]:
    """``size`` split into ``count`` factors as equal as its prime factors allow, largest first."""
    primes, n, p = [], size, 2
    while p * p <= n:
        while n % p == 0:
            primes.append(p)
            n //= p
        p += 1
    if n > 1:
        primes.append(n)
    modes = [1] * count
    for prime in sorted(primes, reverse=True):
        modes[modes.index(min(modes))] *= prime
    return tuple(sorted(modes, reverse=True))
