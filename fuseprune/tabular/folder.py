"""Checks of a saved model folder: its config, its weights and their checksums, before anything is loaded.

A model folder that was damaged after it was saved (an edited ``config.json``,
a tensor missing from ``model.safetensors``, flipped bytes) must never load
with random weights. These functions compare the folder's parts with each
other without allocating the model:

- :func:`read_config`: ``config.json`` is a JSON object describing a GPT-2 with
  sane sizes;
- :func:`weight_files` and :func:`checksums`: the safetensors files (pickle
  files are refused) and their sha256;
- :func:`check_tensors`: every tensor the config implies is in the files with
  the right shape, and nothing else is (the model is built on the ``meta``
  device, so the comparison allocates nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.errors import ModelError

WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"
PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "model.pth", "model.ckpt")
#: Upper bounds of the sizes in config.json (far above any TabularGPT; they bound what a typo can allocate).
CONFIG_LIMITS = {"n_layer": 1024, "n_head": 1024, "n_embd": 65_536, "vocab_size": 10_000_000, "n_positions": 65_536}
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
SHOWN = 3


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """Parse ``path`` as a JSON object; any damage is a one-line ``ModelError`` naming the file."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ModelError(f"{what} {str(path)!r} is not UTF-8 text; the folder is damaged.") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{what} {str(path)!r} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                         f"{exc.colno}); the folder is damaged.") from None
    if not isinstance(payload, dict):
        raise ModelError(f"{what} {str(path)!r} must hold a JSON object; got {type(payload).__name__}.")
    return payload


def check_info(path: Path, info: dict[str, Any]) -> None:
    """Raise ``ModelError`` if the parts of ``fuseprune.json`` that commands rely on have the wrong shape.

    ``data`` says where the model's training split came from (its source, holdout
    fraction and split seed); ``pruning`` what it was pruned from (checked where used).
    """
    data = info.get("data", {})
    problem = None
    if not isinstance(data, dict):
        problem = "`data` must be an object"
    elif not isinstance(data.get("source", ""), str):
        problem = "`data.source` must be a string"
    elif "holdout" in data and not (_is_number(data["holdout"]) and 0 < data["holdout"] <= 1):
        problem = f"`data.holdout` must be a number in (0, 1]; got {data['holdout']!r:.40}"
    elif "split_seed" in data and not (_is_int(data["split_seed"]) and 0 <= data["split_seed"] < 2**32):
        problem = f"`data.split_seed` must be an integer seed; got {data['split_seed']!r:.40}"
    elif not isinstance(info.get("pruning", {}), dict):
        problem = "`pruning` must be an object"
    else:
        problem = _read_problem(data)
    if problem:
        raise ModelError(f"model record {str(path)!r}: {problem}; the folder is damaged.")


def _read_problem(data: dict[str, Any]) -> str | None:
    """What is wrong with how ``data`` says its table was read (kinds, content hash, read options), if anything."""
    kinds, digest, read = data.get("kinds", {}), data.get("sha256", ""), data.get("read", {})
    if not (isinstance(kinds, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in kinds.items())):
        return "`data.kinds` must map column names to kinds"
    if not isinstance(digest, str):
        return "`data.sha256` must be a string"
    if not isinstance(read, dict):
        return "`data.read` must be an object"
    drops, types = read.get("drop_columns") or [], read.get("column_types") or {}
    if not isinstance(read.get("delimiter") or "", str) or len(read.get("delimiter") or "") > 1:
        return "`data.read.delimiter` must be one character or null"
    if not (isinstance(drops, list) and all(isinstance(c, str) for c in drops)):
        return "`data.read.drop_columns` must be a list of column names"
    if not (isinstance(types, dict) and all(isinstance(v, str) for v in types.values())):
        return "`data.read.column_types` must map column names to kinds"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_config(folder: Path) -> GPT2Config:
    """Return the GPT-2 config of ``folder`` after checking its type and sizes."""
    path = folder / "config.json"
    payload = read_json_object(path, "config file")
    if payload.get("model_type") != "gpt2":
        raise ModelError(f"config file {str(path)!r} describes a {payload.get('model_type')!r} model; "
                         "a fuseprune model folder holds a GPT-2 (model_type 'gpt2').")
    for key, limit in CONFIG_LIMITS.items():
        value = payload.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise ModelError(f"config file {str(path)!r}: `{key}` must be an integer between 1 and {limit}; "
                             f"got {value!r}.")
    if payload["n_embd"] % payload["n_head"]:
        raise ModelError(f"config file {str(path)!r}: `n_embd` ({payload['n_embd']}) must be a multiple of "
                         f"`n_head` ({payload['n_head']}).")
    try:
        return GPT2Config.from_dict(payload)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"config file {str(path)!r} is not a valid GPT-2 config ({_first_line(exc)}).") from None


def weight_files(folder: Path) -> list[str]:
    """Names of the safetensors files holding the weights; a pickle-only folder is refused."""
    if (folder / WEIGHTS_INDEX).is_file():
        index = read_json_object(folder / WEIGHTS_INDEX, "weights index")
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise ModelError(
                f"weights index {str(folder / WEIGHTS_INDEX)!r} has no `weight_map`; the folder is damaged."
            )
        names = sorted({str(v) for v in weight_map.values()})
    elif (folder / WEIGHTS_FILE).is_file():
        names = [WEIGHTS_FILE]
    else:
        pickles = [name for name in PICKLE_FILES if (folder / name).exists()]
        if pickles:
            raise ModelError(f"{str(folder)!r} holds only pickle weights ({pickles[0]}); fuseprune loads safetensors "
                             "only: re-save the model with `save_pretrained(..., safe_serialization=True)`.")
        raise ModelError(f"{str(folder)!r} has no {WEIGHTS_FILE}; it is not a complete model folder.")
    for name in names:
        if "/" in name or name.startswith(".") or not (folder / name).is_file():
            raise ModelError(f"weights file {name!r} listed for {str(folder)!r} is missing; the folder is damaged.")
    return names


def checksums(folder: Path, names: list[str]) -> dict[str, str]:
    """sha256 (hex) of each named file of ``folder``."""
    sums = {}
    for name in names:
        digest = hashlib.sha256()
        with open(folder / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sums[name] = digest.hexdigest()
    return sums


def verify_checksums(folder: Path, names: list[str], recorded: Any) -> None:
    """Raise ``ModelError`` unless the weight files match the checksums recorded when the folder was saved."""
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise ModelError(f"the weights checksums in {str(folder / 'fuseprune.json')!r} are not a mapping of file "
                         "name to sha256; the folder is damaged.")
    if sorted(recorded) != sorted(names):
        raise ModelError(f"{str(folder)!r} holds weight files {names} but its fuseprune.json recorded "
                         f"{sorted(recorded)}; the folder is damaged.")
    for name, found in checksums(folder, names).items():
        if found != recorded[name]:
            raise ModelError(f"{str(folder / name)!r} does not match the sha256 recorded when it was saved "
                             "(the file changed or is damaged); restore the folder or train it again.")


def file_tensors(folder: Path, names: list[str]) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, dtype) of every tensor in the safetensors files, read from their headers only."""
    found: dict[str, tuple[tuple[int, ...], str]] = {}
    for name in names:
        try:
            with safe_open(str(folder / name), framework="pt") as handle:
                for key in handle.keys():
                    piece = handle.get_slice(key)
                    found[key] = (tuple(piece.get_shape()), str(piece.get_dtype()))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelError(f"{str(folder / name)!r} is not a readable safetensors file ({_first_line(exc)}); "
                             "the folder is damaged.") from None
    return found


def check_tensors(folder: Path, config: GPT2Config, found: Mapping[str, tuple[tuple[int, ...], str]]) -> None:
    """Raise ``ModelError`` naming the first few tensors that are missing, unexpected or of the wrong shape."""
    try:
        with torch.device("meta"):
            skeleton = GPT2LMHeadModel(config)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"config file {str(folder / 'config.json')!r} does not describe a buildable GPT-2 "
                         f"({_first_line(exc)}).") from None
    tied = set(getattr(skeleton, "all_tied_weights_keys", None) or {})
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items() if k not in tied}
    problems = []
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    mismatched = sorted(k for k in set(expected) & set(found) if expected[k] != found[k][0])
    if missing:
        problems.append(f"missing tensors {_some(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {_some(unexpected)}")
    if mismatched:
        shown = [f"{k} {list(found[k][0])} (config implies {list(expected[k])})" for k in mismatched[:SHOWN]]
        problems.append(f"tensors of the wrong shape {_some(mismatched, shown)}")
    odd = sorted(k for k in found if k in expected and found[k][1] not in FLOAT_DTYPES)
    if odd:
        problems.append(f"tensors of a non-float dtype {_some(odd)}")
    if problems:
        raise ModelError(f"the weights in {str(folder)!r} do not match its config.json: {'; '.join(problems)}; "
                         "the folder is damaged: restore it or train it again.")


def check_finite(folder: Path, model: torch.nn.Module) -> None:
    """Raise ``ModelError`` if any weight is NaN or infinite."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelError(f"the weights in {str(folder)!r} hold NaN or infinite values ({name}); "
                             "the folder is damaged: restore it or train it again.")


def _some(keys: list[str], shown: list[str] | None = None) -> str:
    text = ", ".join(shown or keys[:SHOWN])
    return text + (f" (+{len(keys) - SHOWN} more)" if len(keys) > SHOWN else "")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__

