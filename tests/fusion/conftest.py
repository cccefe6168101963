from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fuseprune.fusion.bank import FusionBank
from fuseprune.scoring import SIGNALS, normalise


def synthetic_bank(target, datasets=("a", "b", "c"), seeds=(0, 1), layers=6, seed=0) -> FusionBank:
    """A bank with random keep scores per state and a target computed by ``target(frame)``, then min-max per state."""
    rng = np.random.default_rng(seed)
    frames = []
    for dataset in datasets:
        for s in seeds:
            for step in range(layers - 1):
                n = layers - step
                frame = pd.DataFrame({name: rng.random(n) for name in SIGNALS.names()})
                frame.insert(0, "model_sha256", f"{dataset}{s}{step}")
                frame.insert(0, "layer", range(n))
                frame.insert(0, "step", step)
                frame.insert(0, "seed", s)
                frame.insert(0, "dataset", dataset)
                frame["depth"] = np.linspace(0, 1, n)
                frame["removed_fraction"] = step / layers
                frame["impact"] = target(frame)
                frame["target"] = normalise(frame["impact"], "maximize")
                frames.append(frame)
    return FusionBank(pd.concat(frames, ignore_index=True), {"made_by": "test"})


@pytest.fixture
def make_bank():
    return synthetic_bank
