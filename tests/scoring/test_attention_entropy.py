"""attention_entropy with zeroed queries and keys, where attention is uniform and entropy is known."""

from __future__ import annotations

import logging
import math

import pytest

from fuseprune.scoring import score_layers


def test_attention_entropy_causal_uniform(uniform_gpt2, padded_pair, caplog):
    # Query t attends uniformly to t + 1 keys: entropy ln(t + 1).
    # Row of 4 tokens: 0 + ln 2 + ln 3 + ln 4 = ln 24; row of 2 (+2 padding): 0 + ln 2. Mean over 6 valid queries.
    with caplog.at_level(logging.INFO, logger="fuseprune"):
        scores = score_layers(uniform_gpt2, [padded_pair], ["attention_entropy"])["attention_entropy"]
    expected = (math.log(24) + math.log(2)) / 6
    assert scores.raw == pytest.approx([expected, expected])
    assert scores.goal == "minimize"
    # Loaded with SDPA (no probabilities): switched to eager for the pass, logged, and restored.
    assert uniform_gpt2.config._attn_implementation == "sdpa"
    assert "to 'eager'" in caplog.text and "restored" in caplog.text


def test_attention_entropy_bidirectional_honours_padding(uniform_bert, padded_pair):
    # Row of 4 valid tokens: 4 queries with entropy ln 4.  Row of 2 (+2 masked padding keys): 2 queries, ln 2.
    # Mean over 6 valid queries: (4 ln 4 + 2 ln 2) / 6 = (10 / 6) ln 2. Counting padding keys would give ln 4.
    scores = score_layers(uniform_bert, [padded_pair], ["attention_entropy"])["attention_entropy"]
    assert scores.raw == pytest.approx([10 / 6 * math.log(2)] * 2)
