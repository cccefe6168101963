"""What changes as a training run goes on: the learning rate from step to step, the row order from epoch to epoch."""

from __future__ import annotations

import math

import torch


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total: int, warmup_fraction: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_fraction`` of ``total`` steps (at least one), then cosine decay to 0.

    Step ``s`` of the warm-up runs at ``(s + 1) / warmup`` of the peak rate;
    after it the factor follows ``0.5 * (1 + cos(pi * progress))`` and stays at 0
    once ``total`` steps are done.
    """
    warmup = max(1, int(total * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class RunShuffle:
    """One generator seeded once per run: each epoch draws the next permutation of the rows.

    Dropout draws from torch's global generator as it stands. A run ordered
    this way cannot resume mid-way (the generator's state is not saved); teacher
    training uses it.
    """

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def order(self, n_rows: int, epoch: int) -> torch.Tensor:
        """The row order of ``epoch`` (the next permutation, whatever ``epoch`` is)."""
        return torch.randperm(n_rows, generator=self.generator)


class EpochShuffle:
    """Every epoch seeds its own row order and torch's global generator (dropout) from ``(seed, epoch)``.

    So an epoch's randomness does not depend on the epochs before it, and a run
    resumed at an epoch boundary continues exactly as an uninterrupted one.
    It reseeds the global generator: run it inside ``torch.random.fork_rng`` to
    leave the caller's alone. Distillation uses it.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def epoch_seed(self, epoch: int) -> int:
        """The seed of ``epoch``'s dropout and row order."""
        return (self.seed * 1_000_003 + epoch) % 2**63

    def order(self, n_rows: int, epoch: int) -> torch.Tensor:
        """Reseed dropout and return the row order of ``epoch``."""
        seed = self.epoch_seed(epoch)
        torch.manual_seed(seed)  # dropout
        return torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed))
