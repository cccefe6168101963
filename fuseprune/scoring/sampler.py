"""A seeded, batch-invariant token subsample of projected hidden states (for MI signals).

Every token that has a target gets a global index (its position among such
tokens across all batches, in row order) and a pseudo-random priority that is a
hash of (seed, global index). The sampler keeps the ``capacity`` tokens with the
lowest priorities (bottom-k sampling): a uniform random subsample that depends
only on the seed and the token order, never on how rows are split into batches.
Hidden states are projected on the fly to a few seeded random directions, so
memory is ``capacity x (layers + 1) x components`` whatever the data size.

Ties: identical tokens give identical hidden states within one batch but states
that differ by float32 rounding (~1e-7) when computed in batches of other
shapes, and kNN MI estimators are sensitive to such ties. ``require`` therefore
adds a seeded jitter of ``JITTER`` x the standard deviation of each projected
coordinate (drawn in sample order, so it is batch-invariant too); it breaks ties
deterministically and is far larger than rounding noise, far smaller than the data.
"""

from __future__ import annotations

import numpy as np
import torch

from fuseprune.errors import DataError
from fuseprune.scoring.batches import IGNORE_INDEX, CalibrationBatch

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
JITTER = 1e-3


def token_priorities(indices: np.ndarray, seed: int) -> np.ndarray:
    """Return a uniform pseudo-random number in [0, 1) for each global token index (splitmix64)."""
    with np.errstate(over="ignore"):
        z = indices.astype(np.uint64) * _GOLDEN + np.uint64(seed % 2**64) * np.uint64(0xD1B54A32D192ED03)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


def projection_matrix(hidden_size: int, components: int, seed: int) -> torch.Tensor:
    """Return the seeded Gaussian projection ``[hidden_size, components]`` (float64)."""
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.standard_normal((hidden_size, components)) / np.sqrt(hidden_size))


class TokenSampler:
    """Bottom-k token sampler over hidden states ``0..num_states-1``.

    Args:
        num_states: Number of hidden states per token (layers + 1: the stack input
            and every layer output).
        capacity: Maximum number of tokens kept.
        components: Number of projection directions.
        seed: Seed of the priorities and of the projection.
    """

    def __init__(self, num_states: int, capacity: int, components: int, seed: int) -> None:
        self.num_states = num_states
        self.capacity = capacity
        self.components = components
        self.seed = seed
        self._seen = 0
        self._projection: torch.Tensor | None = None
        self._keys = np.zeros((0, 2))  # (priority, global index)
        self._targets = np.zeros(0, dtype=np.int64)
        self._states = np.zeros((num_states, 0, components))
        self._positions: torch.Tensor | None = None
        self._batch: dict[str, np.ndarray] = {}
        self._pending: dict[int, np.ndarray] = {}

    def begin_batch(self, batch: CalibrationBatch) -> None:
        """Choose which target tokens of ``batch`` may enter the sample."""
        flat_targets = batch.targets.reshape(-1)
        positions = torch.nonzero(flat_targets != IGNORE_INDEX).reshape(-1)
        indices = np.arange(self._seen, self._seen + len(positions))
        self._seen += len(positions)
        priorities = token_priorities(indices, self.seed)
        chosen = priorities < self._threshold()
        self._positions = positions[torch.from_numpy(chosen)]
        self._batch = {
            "keys": np.stack([priorities[chosen], indices[chosen].astype(np.float64)], axis=1),
            "targets": flat_targets[self._positions].cpu().numpy(),
        }
        self._pending = {}

    def record(self, state: int, hidden: torch.Tensor) -> None:
        """Project the chosen tokens of hidden state ``state`` (``[B, T, D]``)."""
        if self._positions is None:
            return
        flat = hidden.detach().reshape(-1, hidden.shape[-1])
        if self._projection is None:
            self._projection = projection_matrix(hidden.shape[-1], self.components, self.seed)
        chosen = flat[self._positions.to(flat.device)].double().cpu()
        self._pending[state] = (chosen @ self._projection).numpy()

    def end_batch(self) -> None:
        """Merge the batch's chosen tokens into the sample, keeping the lowest priorities."""
        if self._positions is None:
            return
        missing = sorted(set(range(self.num_states)) - set(self._pending))
        if missing:
            raise RuntimeError(f"hidden states {missing} were not recorded for this batch.")
        keys = np.concatenate([self._keys, self._batch["keys"]])
        new_states = np.stack([self._pending[s] for s in range(self.num_states)])
        states = np.concatenate([self._states, new_states], axis=1)
        order = np.lexsort((keys[:, 1], keys[:, 0]))[: self.capacity]
        self._keys, self._states = keys[order], states[:, order]
        self._targets = np.concatenate([self._targets, self._batch["targets"]])[order]
        self._positions, self._pending = None, {}

    def _threshold(self) -> float:
        return float(self._keys[-1, 0]) if len(self._keys) >= self.capacity else np.inf

    def require(self, signal: str, minimum: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(states, targets)``, or raise if fewer than ``minimum`` tokens were sampled."""
        if self._targets.shape[0] < minimum:
            got = self._targets.shape[0]
            raise DataError(f"signal {signal!r} needs at least {minimum} calibration tokens with a target; got {got}.")
        scale = self._states.std(axis=1, keepdims=True)
        noise = np.random.default_rng(self.seed).standard_normal(self._states.shape)
        return self._states + JITTER * scale * noise, self._targets

    @property
    def states(self) -> np.ndarray:
        """Projected hidden states of the sampled tokens ``[num_states, n, components]``."""
        return self._states

    @property
    def targets(self) -> np.ndarray:
        """Target token id of each sampled token ``[n]``."""
        return self._targets
