"""Import a REaLTabFormer tabular model as a TabularGPT (a plain transformers GPT-2 and an RtfCodec)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fuseprune.data.table import DEFAULT_HOLDOUT, Table
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.realtabformer.codec import RtfCodec
from fuseprune.tabular.realtabformer.layout import read_config, read_state
from fuseprune.tabular.realtabformer.weights import gpt2_config, import_weights
from fuseprune.tabular.train import data_record
from fuseprune.version import __version__

log = logging.getLogger(__name__)


def import_realtabformer(folder: str | Path, data: str | Table | None = None, *,
                         holdout: float = DEFAULT_HOLDOUT, split_seed: int = 0) -> TabularGPT:
    """Read a folder written by REaLTabFormer's ``save()`` (``rtf_config.json`` + ``rtf_model.pt``).

    Args:
        folder: The REaLTabFormer folder (the ``<experiment id>`` folder ``save()`` made).
        data: The table the model was trained on (bundled name, CSV path, or a table loaded with
            :func:`~fuseprune.data.load_table` and its read options), recorded as a trained model
            records its table (source, split, read options, content hash) so that ``evaluate``,
            ``score``, ``plan`` and ``distill`` reread it the same way; every row must encode with
            the model's vocabulary. None records no data (those commands then need ``--data``).
        holdout: Fraction of ``data`` the fuseprune split holds out for evaluation.
        split_seed: Seed of that split.

    Raises:
        ModelError: The folder is not a REaLTabFormer save, holds a relational model, its
            weights are not plain tensors or do not match the config.
        CodecError: The vocabulary is inconsistent, or ``data`` does not fit it.
    """
    folder = Path(folder)
    config = read_config(folder)
    codec = RtfCodec.from_rtf_config(config)
    state = read_state(folder)
    gpt2 = gpt2_config(config["tabular_config"], codec.vocab_size, codec.sequence_length)
    model = import_weights(gpt2, state, codec.order)
    info: dict[str, Any] = {"realtabformer": {
        "source": str(folder.resolve()), "experiment_id": config.get("experiment_id"),
        "realtabformer_version": config.get("realtabformer_version"), "imported_by": f"fuseprune {__version__}",
    }}
    if data is not None:
        info["data"] = _check_data(codec, data, holdout, split_seed)
    log.info("imported a %d-layer REaLTabFormer model (%d tokens, %d positions) from %s",
             gpt2.n_layer, codec.vocab_size, codec.sequence_length, folder)
    return TabularGPT(model, codec, info)


def _check_data(codec: RtfCodec, data: str | Table, holdout: float, split_seed: int) -> dict[str, Any]:
    """Load ``data`` (unless loaded), check every row encodes, and return the record ``split_of`` reads."""
    from fuseprune.data import DATASETS, load_table

    table = data if isinstance(data, Table) else load_table(data)
    table.split(holdout, split_seed)  # refuses a split that leaves nothing
    codec.encode(table.frame)
    source = table.name if table.name in DATASETS else str(Path(table.name).resolve())  # found from any folder
    return {**data_record(table, holdout, split_seed), "source": source}
