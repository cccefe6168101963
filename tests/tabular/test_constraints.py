"""TableCodec's constraint tables allow exactly what the codec allows, position by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from fuseprune.tabular import TableCodec, build_model
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.sampler import sample_ids


@pytest.fixture(scope="module")
def mixed_codec() -> TableCodec:
    """Digits with sign and missing head, digits without head, a category: every table kind."""
    rng = np.random.default_rng(0)
    signed = np.round(rng.uniform(-3.5, 12.25, 60), 2)
    signed[[0, 1]] = [-3.5, 12.25]  # both bounds present
    signed[5::9] = np.nan
    frame = pd.DataFrame({
        "signed": signed,
        "plain": rng.integers(130, 4721, 60),
        "colour": rng.choice(["red", "green", "blue"], 60),
        "negative": -rng.integers(11, 95, 60).astype(float),
    })
    return TableCodec.fit(frame, max_values=4)


def test_every_allowed_token_lies_in_its_position_range(mixed_codec):
    tables = mixed_codec.constraint_tables()
    static = mixed_codec.allowed_mask()
    assert len(tables.low) == mixed_codec.sequence_length - 1 == len(static)
    for t, (low, high) in enumerate(zip(tables.low, tables.high, strict=True)):
        assert static[t, low:high].any() and not static[t, :low].any() and not static[t, high:].any()
    assert (tables.low[-1], tables.high[-1]) == (2, 3)  # the last position is EOS
    head = mixed_codec.columns[3].head  # "negative": no number >= 0, so its "+" head is never allowed
    head_position = mixed_codec.sequence_length - 2 - 3  # the last column: head + two digits
    assert head[0] == "+" and torch.isinf(tables.bias[head_position][0, 0]) and tables.bias[head_position][0, 1] == 0


def test_tables_allow_exactly_what_the_codec_allows_along_rows(mixed_codec):
    model = build_model(mixed_codec, "tiny", seed=0)  # untrained: rows wander everywhere in range
    sampled = sample_ids(model, mixed_codec, 3000, seed=0)
    frame = mixed_codec.decode(sampled)
    assert frame["signed"].isna().any() and (frame["signed"] < 0).any() and (frame["signed"] > 10).any()
    assert frame["plain"].between(130, 4720).all() and frame["negative"].between(-94, -11).all()
    real = mixed_codec.encode(pd.concat([frame.head(0), mixed_codec.decode(sampled[:5])]))
    for ids in (sampled, real):
        expected = mixed_codec.logit_bias(ids) == 0
        allowed = mixed_codec.constraint_tables().allowed(ids)
        assert torch.equal(allowed, expected[..., : allowed.shape[-1]])


def test_a_number_at_its_bounds_can_only_continue_inside_them():
    codec = TableCodec.fit(pd.DataFrame({"x": [205, 230, 231, 399, 250, 260] * 3}), max_values=2)
    tables = codec.constraint_tables()
    # x is written as 3 digits: after "2" then "0" only 5..9 may follow; after "3" then "9" only 0..9 (<= 399)
    first = codec.encode(pd.DataFrame({"x": [205]}))
    allowed = tables.allowed(first)[0]
    def digits(t):
        return [d for d in range(10) if allowed[t, tables.low[t] + d]]

    assert digits(0) == [2, 3]
    assert digits(1) == list(range(10))
    assert digits(2) == [5, 6, 7, 8, 9]
    top = tables.allowed(codec.encode(pd.DataFrame({"x": [399]})))[0]
    assert [d for d in range(10) if top[1, tables.low[1] + d]] == list(range(10))
    assert [d for d in range(10) if top[2, tables.low[2] + d]] == list(range(10))


def test_sampled_digits_stay_in_range_with_a_bundle():
    frame = pd.DataFrame({"x": [205, 230, 231, 399, 250, 260] * 3})
    codec = TableCodec.fit(frame, max_values=2)
    rows = TabularGPT(build_model(codec, "tiny", seed=1), codec)
    from fuseprune.tabular import sample_rows

    values = sample_rows(rows, 2000, seed=3)["x"]
    assert values.between(205, 399).all()
    assert {205, 399} <= set(values)  # the bounds themselves are reachable
