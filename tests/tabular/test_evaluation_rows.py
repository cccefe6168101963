"""How many sampled rows an evaluation scores: the training split's size by default, never above the cap."""

from __future__ import annotations

import logging

from fuseprune.tabular.evaluation import (
    DEFAULT_SCORING_ROWS,
    MAX_EVAL_ROWS,
    MAX_SCORING_ROWS,
    EvalConfig,
)


def test_scoring_rows_follow_the_training_split_up_to_the_default():
    assert EvalConfig().scoring_rows(559) == 559
    assert EvalConfig().scoring_rows(50_000) == DEFAULT_SCORING_ROWS == 2000
    assert EvalConfig(n_rows=5000).scoring_rows(559) == 5000


def test_more_rows_than_the_cap_are_capped_and_it_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="fuseprune.tabular.evaluation"):
        assert EvalConfig(n_rows=MAX_SCORING_ROWS).scoring_rows(559) == MAX_SCORING_ROWS
        assert caplog.text == ""
        assert EvalConfig(n_rows=MAX_EVAL_ROWS).scoring_rows(559) == MAX_SCORING_ROWS == 20_000
    assert "scoring 20000 sampled rows per seed, not 100000" in caplog.text
