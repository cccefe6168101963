"""TabularGPT: a plain transformers GPT-2 language model over a table's tokens, plus its codec.

The network is an ordinary :class:`transformers.GPT2LMHeadModel`, saved with
``save_pretrained`` (safetensors), so every transformers tool works on it. The
codec and a small record of how it was trained are saved beside it as JSON.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.errors import ModelError, PathNotFoundError
from fuseprune.files import atomic_directory, write_json_atomic
from fuseprune.tabular.codec import BOS_ID, EOS_ID, PAD_ID, TableCodec
from fuseprune.presets import PRESETS, ModelPreset

log = logging.getLogger(__name__)
INFO_FILE = "fuseprune.json"


def build_model(codec: TableCodec, preset: str | ModelPreset = "default", seed: int = 0) -> GPT2LMHeadModel:
    """Return a freshly initialised GPT-2 sized by ``preset`` for the codec's vocabulary and row length."""
    spec = PRESETS.get(preset) if isinstance(preset, str) else preset
    config = GPT2Config(
        vocab_size=codec.vocab_size,
        n_positions=codec.sequence_length,
        n_embd=spec.n_embd,
        n_layer=spec.n_layer,
        n_head=spec.n_head,
        resid_pdrop=spec.dropout,
        embd_pdrop=spec.dropout,
        attn_pdrop=spec.dropout,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return GPT2LMHeadModel(config)


@dataclass
class TabularGPT:
    """A trained tabular generator: the GPT-2 network, its codec and how it was made.

    Attributes:
        model: The network.
        codec: Turns rows into tokens and back.
        info: JSON-ready record of the data, split, preset and training history.
    """

    model: GPT2LMHeadModel
    codec: TableCodec
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_parameters(self) -> int:
        """Number of distinct parameters (tied embeddings counted once)."""
        return sum(p.numel() for p in self.model.parameters())

    def save(self, folder: str | Path) -> Path:
        """Write the model folder atomically: it appears complete or not at all."""
        folder = Path(folder)
        with atomic_directory(folder) as tmp:
            self.model.save_pretrained(tmp, safe_serialization=True)
            self.codec.save(tmp)
            write_json_atomic(tmp / INFO_FILE, self.info)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TabularGPT:
        """Load a model folder written by :meth:`save` (no pickle anywhere)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise PathNotFoundError(f"model folder {str(folder)!r} does not exist; train one with `fuseprune train`.")
        if not (folder / "config.json").is_file():
            raise ModelError(f"{str(folder)!r} has no config.json; it is not a saved model folder.")
        codec = TableCodec.load(folder)
        model = GPT2LMHeadModel.from_pretrained(folder, use_safetensors=True)
        model.eval()
        info_path = folder / INFO_FILE
        info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
        return cls(model, codec, info)
