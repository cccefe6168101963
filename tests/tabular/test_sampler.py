from __future__ import annotations

import pandas as pd
import pytest
import torch

from fuseprune.errors import ConfigError
from fuseprune.tabular import sample_ids, sample_rows


def test_samples_have_the_original_columns_and_dtypes(tiny_bundle, wisconsin):
    rows = sample_rows(tiny_bundle, 300, seed=0)
    assert len(rows) == 300
    assert list(rows.columns) == list(wisconsin.frame.columns)
    assert rows.dtypes.to_dict() == wisconsin.frame.dtypes.to_dict()
    assert set(rows["class"]) <= {"benign", "malignant"}
    scores = rows.drop(columns="class")
    assert ((scores.stack() >= 1) & (scores.stack() <= 10)).all()


def test_same_seed_same_rows_other_seed_other_rows(tiny_bundle):
    first, again = sample_rows(tiny_bundle, 64, seed=5), sample_rows(tiny_bundle, 64, seed=5)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(sample_rows(tiny_bundle, 64, seed=6))


def test_kv_cached_sampling_matches_full_forward_pass(tiny_bundle):
    # At a temperature near zero sampling is greedy, so each sampled token must be the
    # argmax of the masked logits that a full (uncached) forward pass gives for its prefix.
    codec, model = tiny_bundle.codec, tiny_bundle.model
    ids = sample_ids(model, codec, 40, seed=0, batch_size=16, temperature=1e-6)
    with torch.no_grad():
        logits = model(input_ids=ids[:, :-1]).logits + codec.logit_bias(ids)
    assert torch.equal(logits.argmax(-1), ids[:, 1:])


def test_digit_columns_stay_inside_the_fitted_range():
    from fuseprune.tabular import TableCodec, build_model
    from fuseprune.tabular.model import TabularGPT

    frame = pd.DataFrame({"x": [12, 57, 30, 41, 19, 25] * 3, "c": list("abcabc") * 3})
    codec = TableCodec.fit(frame, max_values=2)
    bundle = TabularGPT(build_model(codec, "tiny", seed=0), codec)  # untrained: uniform-ish over digits
    rows = sample_rows(bundle, 500, seed=0)
    assert rows["x"].between(12, 57).all()
    assert rows["x"].nunique() > 20  # digits are free inside the range


@pytest.mark.parametrize("kwargs", [{"n_rows": 0}, {"n_rows": 5, "temperature": 0.0}, {"n_rows": 5, "batch_size": 0}])
def test_bad_sampling_arguments_are_refused(tiny_bundle, kwargs):
    n_rows = kwargs.pop("n_rows")
    with pytest.raises(ConfigError):
        sample_rows(tiny_bundle, n_rows, **kwargs)


def test_a_row_depends_on_the_seed_and_its_index_only(tiny_bundle):
    model, codec = tiny_bundle.model, tiny_bundle.codec
    whole = sample_ids(model, codec, 60, seed=4, batch_size=60)
    assert torch.equal(sample_ids(model, codec, 60, seed=4, batch_size=7), whole)  # batching
    assert torch.equal(sample_ids(model, codec, 25, seed=4, first_row=35, batch_size=9), whole[35:])  # offsets
    assert torch.equal(sample_ids(model, codec, 10, seed=4), whole[:10])  # fewer rows: a prefix


def test_the_transformers_forward_draws_the_same_rows(tiny_bundle, monkeypatch):
    from fuseprune.tabular import sampler
    from fuseprune.tabular.decoder import HFStepper

    lean = sample_ids(tiny_bundle.model, tiny_bundle.codec, 200, seed=2)
    monkeypatch.setattr(sampler, "make_stepper", HFStepper)
    assert torch.equal(sample_ids(tiny_bundle.model, tiny_bundle.codec, 200, seed=2), lean)


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_tokens_are_drawn_from_the_softmax_of_the_allowed_logits(tiny_bundle, temperature):
    # The first token follows BOS in every row, so its distribution is one softmax: the
    # sampled frequencies must match it within four standard errors.
    codec, model, n = tiny_bundle.codec, tiny_bundle.model, 20_000
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[1]])).logits[0, 0] / temperature + codec.logit_bias()[0]
    probability = torch.softmax(logits, dim=-1)
    ids = sample_ids(model, codec, n, seed=11, temperature=temperature)
    frequency = torch.bincount(ids[:, 1], minlength=len(probability)).double() / n
    error = (probability.double() * (1 - probability.double()) / n).sqrt()
    assert probability.max() < 0.9 and (probability > 0.01).sum() >= 4  # a distribution worth testing
    assert ((frequency - probability).abs() <= 4 * error + 1e-9).all()


def test_steps_of_rows_with_a_shared_prefix_are_computed_once(tiny_bundle, monkeypatch):
    from fuseprune.tabular import sampler

    made, make = [], sampler.make_stepper
    monkeypatch.setattr(sampler, "make_stepper", lambda model: made.append(make(model)) or made[-1])
    sample_ids(tiny_bundle.model, tiny_bundle.codec, 300, batch_size=100)
    first_column = len(tiny_bundle.codec.columns[0].values)  # clump_thickness: 10 values
    computed = made[0].rows_computed
    assert computed[0] == 3  # BOS: once per batch
    assert 3 < computed[1] <= 3 * first_column  # one per distinct first value per batch
    steps = tiny_bundle.codec.sequence_length - 1
    assert computed[:steps] == sorted(computed[:steps])  # prefixes only ever split further
    assert computed[steps - 1] == 300  # whole rows are (nearly all) distinct: no sharing left


def test_the_default_batch_follows_the_width_and_the_cache_budget():
    from types import SimpleNamespace

    from fuseprune.tabular.sampler import default_batch_size

    def model(width: int) -> SimpleNamespace:
        return SimpleNamespace(config=SimpleNamespace(n_embd=width, n_layer=6, n_positions=1024))

    assert default_batch_size(model(128), 12) == 2048
    assert default_batch_size(model(768), 12) == 1024  # the cache: 2 * 6 * 12 * 768 * 4 B = 432 KiB a row
    assert default_batch_size(model(768), 161) == 90  # 512 MiB / (2 * 6 * 161 * 768 * 4 B)
