"""The REaLTabFormer fixture (trained by REaLTabFormer itself, see bench/peer/train_fixture.py) and helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "rtf-titanic"


def fixture_config() -> dict[str, Any]:
    return json.loads((FIXTURE / "rtf_config.json").read_text())


def fixture_data() -> pd.DataFrame:
    return pd.read_csv(FIXTURE / "data.csv")


def reference() -> dict[str, torch.Tensor]:
    """REaLTabFormer's token ids (its own vocabulary) and its GPT-2's logits on them (transformers 4)."""
    return load_file(str(FIXTURE / "reference_logits.safetensors"))


def ours(codec: Any, rtf_ids: torch.Tensor) -> torch.Tensor:
    """REaLTabFormer token ids -> the imported codec's ids."""
    return torch.argsort(torch.as_tensor(codec.order))[rtf_ids]


@pytest.fixture(scope="session")
def imported():
    """The fixture imported with its training data recorded."""
    from fuseprune.tabular import TabularGPT

    return TabularGPT.from_realtabformer(FIXTURE, str(FIXTURE / "data.csv"))
