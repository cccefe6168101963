"""Per-position token constraints as precomputed lookup tables: the form every codec gives the sampler.

A codec gives its rule of which token may come next as a small state machine,
built once (:meth:`constraint_tables` of the codec): every position ``t``
allows a contiguous range of token ids (a codec lays out its vocabulary so),
each row carries a state, and each position has

- ``bias[t]``: (states, tokens of t) additive logit mask, 0 or -inf;
- ``next_state[t]``: (states, tokens of t) the state at ``t + 1`` after a token.

Decoding a step is then two table lookups: no per-step mask arithmetic. A
position whose rule does not depend on earlier tokens has one-row tables and
every row is in state 0 there.

:func:`bounded_tables` builds the tables of a
:class:`~fuseprune.tabular.codec.TableCodec`, whose numbers' digits must keep
them inside the range the codec was fitted on: while a number is written, the
state is its sign class (``+``, ``-`` or missing) and whether its digits so far
equal those of the lower and of the upper bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from fuseprune.tabular.columns import HEAD_MINUS, HEAD_NA, HEAD_PLUS, ColumnCodec

#: Sign classes of a digits column and the tightness flags (digits equal the lower / upper bound's so far).
_CLASSES = (HEAD_PLUS, HEAD_MINUS, HEAD_NA)
_TIGHT_LOW, _TIGHT_HIGH = 2, 1
_STATES_PER_CLASS = 4


@dataclass(frozen=True)
class PositionTables:
    """Lookup tables of every generated position ``t`` (the token at sequence index ``t + 1``).

    Attributes:
        low: First token id of each position.
        high: One past the last token id of each position.
        bias: Per position, (states, high - low) float: 0 where allowed, -inf elsewhere.
        next_state: Per position, (states, high - low) long: the state at the next position.
        start: The state of every row at position 0.
    """

    low: tuple[int, ...]
    high: tuple[int, ...]
    bias: tuple[torch.Tensor, ...]
    next_state: tuple[torch.Tensor, ...]
    start: int

    @property
    def width(self) -> int:
        """The largest number of tokens of any position."""
        return max(high - low for low, high in zip(self.low, self.high, strict=True))

    def allowed(self, ids: torch.Tensor) -> torch.Tensor:
        """Boolean (rows, positions, vocab): what the tables allow along full token rows ``ids``.

        The same as the codec's ``logit_bias(ids)`` on valid rows; for tests and checks.
        """
        rows = len(ids)
        vocab = max(self.high)
        out = torch.zeros(rows, len(self.low), vocab, dtype=torch.bool)
        state = torch.full((rows,), self.start, dtype=torch.long)
        for t, (low, high) in enumerate(zip(self.low, self.high, strict=True)):
            out[:, t, low:high] = self.bias[t][state] == 0
            state = self.next_state[t][state, ids[:, t + 1] - low]
        return out


def bounded_tables(
    static: torch.Tensor, ranges: Sequence[tuple[int, int]], digits: Mapping[int, tuple[ColumnCodec, int]]
) -> PositionTables:
    """The tables of a :class:`~fuseprune.tabular.codec.TableCodec` (equal to its ``allowed_next``).

    Args:
        static: The codec's ``allowed_mask()``.
        ranges: (first token id, one past the last) of every position, EOS's last.
        digits: Position -> (column, digit index) of every digit position.
    """
    low, high = [lo for lo, _ in ranges], [hi for _, hi in ranges]
    bias, next_state = [], []
    for t in range(len(static)):
        size = high[t] - low[t]
        base = torch.zeros(size).masked_fill(~static[t, low[t] : high[t]], float("-inf"))
        entry = _entry_states(digits, t + 1, size)
        if t in digits:
            column, digit = digits[t]
            b, n = _digit_tables(column, digit, last=digit == column.width - 1, entry=entry)
            bias.append(b + base)
            next_state.append(n)
        else:
            bias.append(base.unsqueeze(0))
            next_state.append(entry.unsqueeze(0))
    start = int(_entry_states(digits, 0, 1)[0])
    return PositionTables(tuple(low), tuple(high), tuple(bias), tuple(next_state), start)


def _entry_states(digits: Mapping[int, tuple[ColumnCodec, int]], following: int, size: int) -> torch.Tensor:
    """(size,) the state at position ``following`` after each token of the current position.

    Only the first digit of a number needs one: with a head position (sign or
    missing) the head token picks the class; without one the class is ``+``.
    Both bounds start tight.
    """
    start = torch.zeros(size, dtype=torch.long)
    if following not in digits or digits[following][1] != 0:
        return start
    column = digits[following][0]
    tight = _TIGHT_LOW | _TIGHT_HIGH
    if not column.head:
        return start + tight
    classes = torch.tensor([_CLASSES.index(token) for token in column.head])
    return classes * _STATES_PER_CLASS + tight


def _digit_tables(
    column: ColumnCodec, digit: int, *, last: bool, entry: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(bias, next state) of one digit position over every state, each (12, 10)."""
    bias = torch.full((len(_CLASSES) * _STATES_PER_CLASS, 10), float("-inf"))
    follow = torch.zeros(len(_CLASSES) * _STATES_PER_CLASS, 10, dtype=torch.long)
    for class_index, sign in enumerate(_CLASSES):
        bounds = {HEAD_PLUS: column.positive, HEAD_MINUS: column.negative}.get(sign) or (0, 0)
        low, high = (_digits_of(b, column.width)[digit] for b in bounds)
        for flags in range(_STATES_PER_CLASS):
            state = class_index * _STATES_PER_CLASS + flags
            tight_low, tight_high = bool(flags & _TIGHT_LOW), bool(flags & _TIGHT_HIGH)
            for d in range(10):
                if sign == HEAD_NA:  # a missing number is written as zeros
                    ok, nxt = d == 0, state
                else:
                    ok = (not tight_low or d >= low) and (not tight_high or d <= high)
                    nxt = class_index * _STATES_PER_CLASS + (
                        (_TIGHT_LOW if tight_low and d == low else 0) | (_TIGHT_HIGH if tight_high and d == high else 0)
                    )
                if ok:
                    bias[state, d] = 0.0
                follow[state, d] = entry[d] if last else nxt
    return bias, follow


def _digits_of(value: int, width: int) -> list[int]:
    return [int(c) for c in str(value).zfill(width)]
