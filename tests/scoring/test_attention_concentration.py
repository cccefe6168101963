"""attention_concentration with zeroed queries and keys (uniform attention)."""

from __future__ import annotations

import pytest

from fuseprune.scoring import score_layers


def test_attention_concentration_causal_uniform(uniform_gpt2, padded_pair):
    # Query t attends uniformly to t + 1 keys: max prob 1 / (t + 1).
    # Row of 4: 1 + 1/2 + 1/3 + 1/4 = 25/12; row of 2: 1 + 1/2 = 3/2. Mean over 6 queries: (25/12 + 18/12) / 6 = 43/72.
    scores = score_layers(uniform_gpt2, [padded_pair], ["attention_concentration"])["attention_concentration"]
    assert scores.raw == pytest.approx([43 / 72, 43 / 72])
    assert scores.goal == "maximize"


def test_attention_concentration_bidirectional_honours_padding(uniform_bert, padded_pair):
    # Row of 4: 4 queries with max 1/4; row of 2: 2 queries with max 1/2. Mean: (1 + 1) / 6 = 1/3.
    scores = score_layers(uniform_bert, [padded_pair], ["attention_concentration"])["attention_concentration"]
    assert scores.raw == pytest.approx([1 / 3, 1 / 3])
