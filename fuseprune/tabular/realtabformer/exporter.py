"""Export a TabularGPT (imported, or trained by fuseprune) as a folder REaLTabFormer loads and samples from.

``rtf_model.pt`` holds ``torch.save(state_dict)`` of plain tensors, with
REaLTabFormer's token order; ``rtf_config.json`` holds the attributes
``REaLTabFormer.load_from_dir`` sets (vocabulary, processed columns,
``col_idx_ids``, ``col_transform_data``, the GPT-2 config at the model's
current depth). An imported model gets its own vocabulary back; a model
trained by fuseprune gets its TableCodec in REaLTabFormer's terms (see
:mod:`~fuseprune.tabular.realtabformer.translate`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from transformers import GPT2LMHeadModel

from fuseprune.errors import ModelError
from fuseprune.outputs import REALTABFORMER, check_folder
from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.realtabformer.codec import RtfCodec
from fuseprune.tabular.realtabformer.layout import BOS, EOS, PAD, write_folder
from fuseprune.tabular.realtabformer.translate import translate
from fuseprune.tabular.realtabformer.weights import ARCHITECTURE, export_weights

log = logging.getLogger(__name__)
EXPERIMENT_ID = "fuseprune-export"


def export_realtabformer(bundle: TabularGPT, folder: str | Path, overwrite: bool = False) -> Path:
    """Write ``bundle`` as a REaLTabFormer 0.2.4 folder, atomically; return the folder.

    An existing ``folder`` is replaced only if it is an export fuseprune wrote, unchanged
    since, or with ``overwrite`` (see :mod:`fuseprune.outputs`).

    Raises:
        OutputError: ``folder`` may not be written (checked before anything is computed).
        ModelError: The network is not a GPT-2 language model, or the codec is of an unknown kind.
        CodecError: A fuseprune codec holds values REaLTabFormer cannot write back.
    """
    check_folder(folder, REALTABFORMER, overwrite)
    if not isinstance(bundle.model, GPT2LMHeadModel):
        raise ModelError(f"only GPT-2 models export to REaLTabFormer; this one is {type(bundle.model).__name__}.")
    if isinstance(bundle.codec, RtfCodec):
        codec, order = bundle.codec, bundle.codec.order
    elif isinstance(bundle.codec, TableCodec):
        codec, order = translate(bundle.codec)
    else:
        raise ModelError(f"a model with a {type(bundle.codec).__name__} cannot be exported to REaLTabFormer.")
    state = export_weights(bundle.model, order, codec.vocab_size)
    config = rtf_config(codec, bundle.model.config.to_dict())
    folder = write_folder(folder, config, state, overwrite)
    log.info("exported a %d-layer model to %s", bundle.model.config.n_layer, folder)
    return folder


def rtf_config(codec: RtfCodec, gpt2: dict[str, Any]) -> dict[str, Any]:
    """The attributes ``REaLTabFormer.load_from_dir`` sets for a tabular model with this codec and GPT-2."""
    token2id = {token: i for i, token in enumerate(codec.tokens)}
    by_position = {name: list(ids) for name, ids in zip(codec.processed_columns, codec.position_ids, strict=True)}
    tabular = {key: gpt2[key] for key in ARCHITECTURE if key in gpt2}
    tabular.update(vocab_size=codec.vocab_size, bos_token_id=token2id[BOS], eos_token_id=token2id[EOS],
                   pad_token_id=token2id[PAD], model_type="gpt2", architectures=["GPT2LMHeadModel"])
    settings = codec.settings
    return {
        "model_type": "tabular",
        "tabular_config": tabular,
        "columns": codec.column_names,
        "column_dtypes": {c.name: c.dtype for c in codec.columns},
        "column_has_missing": {c.name: c.has_missing for c in codec.columns},
        "drop_na_cols": [c.name for c in codec.columns if not c.has_missing],
        "processed_columns": list(codec.processed_columns),
        "numeric_columns": [c.name for c in codec.columns if c.kind == "numeric"],
        "datetime_columns": [],
        "vocab": {"id2token": dict(enumerate(codec.tokens)), "token2id": token2id, "column_token_ids": by_position},
        "tabular_max_length": codec.sequence_length,
        "relational_max_length": None,
        "tabular_col_size": len(codec.processed_columns),
        "relational_col_size": None,
        "col_transform_data": {c.name: c.transform for c in codec.columns if c.kind == "numeric"},
        "in_col_transform_data": None,
        "col_idx_ids": {t: list(ids) for t, ids in enumerate(codec.position_ids)},
        "random_state": settings.get("random_state", 1029),
        "numeric_nparts": settings.get("numeric_nparts", 1),
        "numeric_precision": settings.get("numeric_precision", 4),
        "numeric_max_len": settings.get("numeric_max_len", 10),
        "experiment_id": EXPERIMENT_ID,
        "trainer_state": None,
        "target_col": codec.target,
        "realtabformer_version": settings.get("realtabformer_version", "0.2.4"),
    }
