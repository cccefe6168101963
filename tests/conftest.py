"""Shared fixtures: one tiny model trained for a few epochs on the default data, reused by many tests."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    """Tiny models run fastest on one thread (and CI's two cores are not oversubscribed)."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def _quiet_transformers() -> None:
    from fuseprune.progress import quiet_transformers

    quiet_transformers()


@pytest.fixture(scope="session")
def wisconsin():
    """The default bundled table."""
    from fuseprune.data import load_table

    return load_table("breast-cancer-wisconsin")


@pytest.fixture(scope="session")
def tiny_bundle(wisconsin):
    """A `tiny` TabularGPT trained for three epochs on the Wisconsin training split."""
    from fuseprune.tabular import TrainConfig, train_on_table

    return train_on_table(wisconsin, TrainConfig(preset="tiny", max_epochs=3, learning_rate=5e-3, seed=0))


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_bundle, tmp_path_factory):
    """The tiny model saved as a model folder."""
    return tiny_bundle.save(tmp_path_factory.mktemp("models") / "tiny")
