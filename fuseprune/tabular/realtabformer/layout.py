"""The folder REaLTabFormer's ``save()`` writes: ``rtf_config.json`` and ``rtf_model.pt``.

Read as REaLTabFormer 0.2.4 writes it (``realtabformer.py``, ``data_utils.py``):
the config is the JSON of the model's attributes (``model_type``, GPT-2
``tabular_config``, ``vocab``, ``processed_columns``, ``col_idx_ids``,
``col_transform_data``, ...), the weights a ``torch.save``-d state dict of a
transformers ``GPT2LMHeadModel``. The state dict is read with
``torch.load(..., weights_only=True)``: a file that needs more than tensors is
refused and no pickle code ever runs.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from fuseprune.errors import CodecError, ModelError, PathNotFoundError
from fuseprune.files import write_json_atomic
from fuseprune.outputs import REALTABFORMER, output_folder

CONFIG_FILE = "rtf_config.json"
MODEL_FILE = "rtf_model.pt"
SPECIAL_TOKENS = (  # data_utils.SpecialTokens, in REaLTabFormer's id order
    "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]", "[BOS]", "[EOS]", "[BMEM]", "[EMEM]", "[RMASK]", "[SPTYPE]",
)
PAD, BOS, EOS = "[PAD]", "[BOS]", "[EOS]"
SEP = "___"
NA_TOKEN = "@"
TEACHER_FORCING = "_TEACHERFORCING"
REQUIRED = {"tabular_config": dict, "vocab": dict, "processed_columns": list, "col_idx_ids": dict, "columns": list,
            "column_dtypes": dict, "column_has_missing": dict, "col_transform_data": dict}


def read_config(folder: str | Path) -> dict[str, Any]:
    """Read and check the config of a REaLTabFormer folder: a tabular model with every field fuseprune needs."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PathNotFoundError(f"REaLTabFormer folder {str(folder)!r} does not exist; check the path.")
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ModelError(f"{str(folder)!r} is not a REaLTabFormer save: it has no {CONFIG_FILE}{_hint(folder)}.")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{str(path)!r} is not valid JSON ({exc}); it is not a REaLTabFormer config.") from None
    if not isinstance(config, dict):
        raise ModelError(f"{str(path)!r} is not a REaLTabFormer config (not a JSON object).")
    kind = config.get("model_type", "tabular")
    if kind == "relational":
        raise ModelError(
            f"{str(folder)!r} holds a relational REaLTabFormer model (an encoder-decoder); "
            "fuseprune imports tabular (GPT-2) models only."
        )
    if kind != "tabular":
        raise ModelError(f"{str(path)!r} has model_type {kind!r}; fuseprune imports tabular REaLTabFormer models only.")
    bad = [key for key, kind in REQUIRED.items()
           if not isinstance(config.get(key), kind) or (not config[key] and key != "col_transform_data")]
    if bad:
        raise ModelError(f"{str(path)!r} lacks (or has malformed) {', '.join(bad)}; "
                         "it is not a saved, trained REaLTabFormer model.")
    return config


def _hint(folder: Path) -> str:
    """REaLTabFormer's ``save(path)`` writes into ``path/<experiment id>``: point there if that is the case."""
    inside = sorted(p for p in folder.glob(f"*/{CONFIG_FILE}"))
    return f" (did you mean {str(inside[0].parent)!r}?)" if len(inside) == 1 else ""


def read_state(folder: str | Path) -> dict[str, torch.Tensor]:
    """Read ``rtf_model.pt`` as plain tensors only (``weights_only=True``): no pickle code runs."""
    path = Path(folder) / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{str(Path(folder))!r} is not a REaLTabFormer save: it has no {MODEL_FILE}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights only" in str(exc).lower() or "unsupported global" in str(exc).lower():
            raise ModelError(
                f"{str(path)!r} holds more than tensors (a pickled object: {_global(exc)}); fuseprune loads only "
                "plain tensors and never runs pickle code. Save the weights with torch.save(model.state_dict())."
            ) from None
        raise ModelError(f"{str(path)!r} cannot be read ({reason}); it is truncated or corrupt.") from None
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{str(path)!r} cannot be read ({reason}); it is truncated or corrupt.") from None
    if not isinstance(state, Mapping) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                 for k, v in state.items()):
        raise ModelError(f"{str(path)!r} is not a state dict (names -> tensors); it is not a REaLTabFormer model file.")
    return dict(state)


def _global(exc: Exception) -> str:
    """The pickled global the weights-only loader refused, as torch names it."""
    for line in str(exc).splitlines():
        if "GLOBAL" in line:
            return line.split("GLOBAL", 1)[1].strip().split(" ")[0]
    return "not a tensor"


def write_folder(folder: str | Path, config: Mapping[str, Any], state: Mapping[str, torch.Tensor],
                 overwrite: bool = False) -> Path:
    """Write a REaLTabFormer folder atomically: plain tensors in ``rtf_model.pt``, the config as JSON.

    The folder is a fuseprune output of kind ``realtabformer`` (see :mod:`fuseprune.outputs`):
    its hidden ``.fuseprune`` marker, which REaLTabFormer ignores, lets a later export replace it.

    Raises:
        OutputError: ``folder`` may not be written (checked before anything is written).
    """
    folder = Path(folder)
    with output_folder(folder, REALTABFORMER, overwrite) as tmp:
        torch.save({name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}, tmp / MODEL_FILE)
        write_json_atomic(tmp / CONFIG_FILE, dict(config))
    return folder


def codec_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an RtfCodec as ``RtfCodec.to_dict`` writes them, read from a REaLTabFormer config."""
    try:
        id2token = {int(k): str(v) for k, v in config["vocab"]["id2token"].items()}
        tokens = [id2token[i] for i in range(len(id2token))]
        processed = [str(c) for c in config["processed_columns"]]
        index = {int(k): [int(i) for i in v] for k, v in config["col_idx_ids"].items()}
        positions = [index[t] for t in range(len(processed))]
        numeric = {column for kind, column in map(split_processed, processed) if kind != "CATEGORICAL"}
        transforms, dtypes, missing = (dict(config.get(key) or {}) for key in
                                       ("col_transform_data", "column_dtypes", "column_has_missing"))
        columns = [{"name": str(name), "kind": "numeric" if name in numeric else "categorical",
                    "dtype": str(dtypes.get(name, "object")), "has_missing": bool(missing.get(name, False)),
                    "transform": transforms.get(name) if name in numeric else None} for name in config["columns"]]
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"the REaLTabFormer vocabulary is malformed ({type(exc).__name__}: {exc}); "
                         "rtf_config.json is not a trained model's config.") from None
    settings = {k: config[k] for k in ("numeric_nparts", "numeric_precision", "numeric_max_len",
                                       "random_state", "realtabformer_version") if k in config}
    return {"tokens": tokens, "processed_columns": processed, "position_ids": positions, "columns": columns,
            "target": config.get("target_col"), "settings": settings}


def split_processed(name: str) -> tuple[str, str]:
    """``'2___NUMERIC___age_01'`` -> (``'NUMERIC'``, ``'age'``): the kind and the column a position writes."""
    parts = name.split(SEP, 2)
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in ("NUMERIC", "DATETIME", "CATEGORICAL"):
        raise CodecError(f"processed column {name!r} is not of REaLTabFormer's form INDEX___KIND___NAME.")
    kind, column = parts[1], parts[2]
    if kind != "CATEGORICAL":
        column = column.rsplit("_", 1)[0]  # the digit partition suffix: age_01 -> age
    return kind, column


def token_value(token: str) -> str:
    """The value a token writes, as REaLTabFormer's decoding reads it (the text after the last ``___``)."""
    return token.split(SEP)[-1]
