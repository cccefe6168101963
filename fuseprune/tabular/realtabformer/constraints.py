"""An RtfCodec's rule of which token may come next, as the sampler's lookup tables.

The rule (:meth:`RtfCodec.allowed_next <fuseprune.tabular.realtabformer.codec.RtfCodec.allowed_next>`):
every position allows its own tokens (``col_idx_ids``), and a number's parts are
either all missing (``@``) or all digits. As a state machine
(:class:`~fuseprune.tabular.constraints.PositionTables`) that is two states,
carried from a number's first part to its last part that can be missing:

- state 0: the first part is a digit (and everywhere outside such a stretch);
- state 1: the first part is missing.

A later part allows only its missing tokens in state 1 and only its other
tokens in state 0. Every position's tokens are a contiguous id range (the
layout puts them so) and the parts of a number are consecutive positions
(:func:`~fuseprune.tabular.realtabformer.structure.build_layout` checks it),
so one state per row suffices.
"""

from __future__ import annotations

import torch

from fuseprune.tabular.codec import EOS_ID
from fuseprune.tabular.constraints import PositionTables
from fuseprune.tabular.realtabformer.structure import Layout

_DIGITS, _MISSING = 0, 1


def missing_tables(layout: Layout) -> PositionTables:
    """The tables of ``layout``: equal to ``RtfCodec.allowed_next`` along any row."""
    low = [int(o) for o in layout.offsets] + [EOS_ID]
    high = [int(o) + size for o, size in zip(layout.offsets, layout.sizes, strict=True)] + [EOS_ID + 1]
    carried = _carried(layout)
    bias, next_state = [], []
    for t, (first, last) in enumerate(zip(low, high, strict=True)):
        size, carries = last - first, t + 1 in carried
        if t in carried:  # two rows: one per state
            row_bias = torch.zeros(2, size)
            if t in layout.links:
                missing_here = layout.links[t][1][first:last]
                row_bias[_DIGITS, missing_here] = float("-inf")
                row_bias[_MISSING, ~missing_here] = float("-inf")
            follow = torch.arange(2).unsqueeze(1).expand(2, size) if carries else torch.zeros(2, size)
        else:
            row_bias = torch.zeros(1, size)
            follow = layout.missing_ids[first:last].unsqueeze(0) if carries else torch.zeros(1, size)
        bias.append(row_bias)
        next_state.append(follow.long().contiguous())
    return PositionTables(tuple(low), tuple(high), tuple(bias), tuple(next_state), _DIGITS)


def _carried(layout: Layout) -> set[int]:
    """Positions whose rule depends on the first part of their number: after it, up to its last link."""
    carried: set[int] = set()
    for t, (first, _) in layout.links.items():
        carried.update(range(first + 1, t + 1))
    return carried
