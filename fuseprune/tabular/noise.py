"""Counter-based Gumbel noise: the randomness of row ``r`` depends only on (seed, r), never on batching.

Sampling a token is Gumbel-max: ``argmax(logits / temperature + g)`` with
independent standard Gumbel ``g`` draws exactly from ``softmax(logits /
temperature)``. Each ``g`` comes from SplitMix64 (Steele, Lea and Flood, 2014)
applied to a counter made of the row's index in the seed's stream, the position
and the token slot, keyed by the seed. So a row's tokens do not depend on the
batch size, on how rows are split into chunks or over worker processes, or on
how many rows are drawn: the first 100 rows of a seed are the same whether 100
or a million are sampled.
"""

from __future__ import annotations

import torch

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


def _signed(value: int) -> int:
    """A 64-bit pattern as the int64 torch stores."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def _shift(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 bit patterns (torch shifts arithmetically)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finaliser on int64 bit patterns (multiplication wraps modulo 2**64)."""
    x = (x ^ _shift(x, 30)) * _signed(_MIX1)
    x = (x ^ _shift(x, 27)) * _signed(_MIX2)
    return x ^ _shift(x, 31)


def seed_key(seed: int) -> int:
    """A 64-bit key for ``seed`` (any Python int), spread so nearby seeds give unrelated streams."""
    x = torch.tensor([_signed(seed * _GOLDEN)], dtype=torch.int64)
    return int(_mix(x)[0])


def gumbel(seed: int, first_row: int, rows: int, positions: int, width: int) -> torch.Tensor:
    """Standard Gumbel noise (positions, rows, width), float32, for rows first_row..first_row+rows-1."""
    row = torch.arange(first_row, first_row + rows, dtype=torch.int64).view(1, rows, 1)
    position = torch.arange(positions, dtype=torch.int64).view(positions, 1, 1)
    slot = torch.arange(width, dtype=torch.int64).view(1, 1, width)
    counter = (row * positions + position) * width + slot + 1
    x = _mix(counter * _signed(_GOLDEN) + seed_key(seed))
    uniform = (_shift(x, 11).double() + 0.5) * 2.0**-53  # in (0, 1), never 0 or 1
    return (-torch.log(-torch.log(uniform))).float()
