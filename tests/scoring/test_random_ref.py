"""The seeded random reference."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring import random_scores, score_layers


def test_random_reference_is_seeded(gpt2, gpt2_batches):
    one = score_layers(gpt2, gpt2_batches, ["random"], seed=3)["random"]
    again = score_layers(gpt2, gpt2_batches, ["random"], seed=3)["random"]
    other = score_layers(gpt2, gpt2_batches, ["random"], seed=4)["random"]
    assert one == again and one.raw != other.raw
    assert one.raw == tuple(np.random.default_rng(3).random(3))
    assert one.reference and one.family == "reference"


def test_random_scores_shape():
    scores = random_scores(5, seed=0)
    assert scores.num_layers == 5 and min(scores.keep) == 0.0 and max(scores.keep) == 1.0
