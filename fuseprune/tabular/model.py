"""TabularGPT: a plain transformers GPT-2 language model over a table's tokens, plus its codec.

The network is an ordinary :class:`transformers.GPT2LMHeadModel`, saved with
``save_pretrained`` (safetensors), so every transformers tool works on it. The
codec and a small record of how it was trained are saved beside it as JSON.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.compress.plan import recorded_plan
from fuseprune.compress.store import MANIFEST, is_compressed, read_compressed, write_compressed
from fuseprune.errors import ModelError, PathNotFoundError
from fuseprune.files import write_json_atomic
from fuseprune.jsonsafe import nan_to_none
from fuseprune.outputs import MODEL, output_folder
from fuseprune.presets import PRESETS, ModelPreset
from fuseprune.tabular.codec import BOS_ID, EOS_ID, PAD_ID, load_codec
from fuseprune.tabular.folder import (
    check_finite,
    check_info,
    check_tensors,
    checksums,
    file_tensors,
    read_config,
    read_json_object,
    verify_checksums,
    weight_files,
)
from fuseprune.tabular.interface import Codec

if TYPE_CHECKING:
    from fuseprune.data.table import Table

log = logging.getLogger(__name__)
INFO_FILE = "fuseprune.json"
#: Key of ``fuseprune.json`` holding the sha256 of every weights file.
CHECKSUM_KEY = "weights_sha256"


def build_model(codec: Codec, preset: str | ModelPreset = "default", seed: int = 0) -> GPT2LMHeadModel:
    """Return a freshly initialised GPT-2 sized by ``preset`` for the codec's vocabulary and row length.

    The weights depend on ``seed`` only; the caller's global torch RNG is left as it was.
    """
    with torch.random.fork_rng():
        return seeded_model(codec, preset, seed)


def seeded_model(codec: Codec, preset: str | ModelPreset, seed: int) -> GPT2LMHeadModel:
    """:func:`build_model` on the global torch RNG: seed it, initialise, and leave it where initialisation ended.

    For a training loop that draws its dropout masks from that same stream (run it
    inside ``torch.random.fork_rng()`` to leave its caller's RNG alone).
    """
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
        codec: Turns rows into tokens and back (a :class:`~fuseprune.tabular.interface.Codec`): a
            :class:`TableCodec`, or for a model imported from REaLTabFormer an
            :class:`~fuseprune.tabular.realtabformer.RtfCodec`.
        info: JSON-ready record of the data, split, preset and training history.
    """

    model: GPT2LMHeadModel
    codec: Codec
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_parameters(self) -> int:
        """Number of distinct weight values (tied embeddings counted once, int8 layers' weights included)."""
        from fuseprune.compress.base import parameter_count

        return parameter_count(self.model)

    def save(self, folder: str | Path, overwrite: bool = False) -> Path:
        """Write the model folder atomically: it appears complete or not at all.

        An existing folder is replaced only if it is a model folder fuseprune
        wrote, or with ``overwrite`` (see :mod:`fuseprune.outputs`).

        ``fuseprune.json`` records the sha256 of every weights file, which
        :meth:`load` checks.

        Raises:
            OutputError: ``folder`` may not be written (checked before anything is written).
        """
        folder = Path(folder)
        with output_folder(folder, MODEL, overwrite) as tmp:
            if is_compressed(self.model):  # factorised or int8 modules: safetensors + compression.json
                write_compressed(self.model, tmp, recorded_plan(self.info))
            else:
                self.model.save_pretrained(tmp, safe_serialization=True)
            self.codec.save(tmp)
            sums = checksums(tmp, weight_files(tmp))
            write_json_atomic(tmp / INFO_FILE, nan_to_none({**self.info, CHECKSUM_KEY: sums}))
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, verify: bool = True) -> TabularGPT:
        """Load a model folder written by :meth:`save` (no pickle anywhere).

        Every part is checked before the weights are read: the config is a sane
        GPT-2, the weight files hold exactly the tensors the config implies,
        shapes included, the codec passes its schema and fits the config, and
        no weight is NaN. A compressed folder (``compression.json``, see
        :mod:`fuseprune.compress.store`) is rebuilt from its manifest.
        With ``verify`` (the default) the weight files must
        also match the sha256 recorded when the folder was saved; a folder
        without a record (saved by an older fuseprune) loads with a warning.

        Raises:
            PathNotFoundError: No such folder.
            ModelError: A part is missing, damaged or does not fit the others (one line, naming it).
            CodecError: ``codec.json`` fails its schema.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise PathNotFoundError(f"model folder {str(folder)!r} does not exist; train one with `fuseprune train`.")
        if not (folder / "config.json").is_file():
            raise ModelError(f"{str(folder)!r} has no config.json; it is not a saved model folder.")
        config = read_config(folder)
        names = weight_files(folder)
        info = read_json_object(folder / INFO_FILE, "model record") if (folder / INFO_FILE).is_file() else {}
        check_info(folder / INFO_FILE, info)
        compressed = (folder / MANIFEST).is_file()
        if not compressed:  # a compressed folder's tensors are checked against its manifest
            check_tensors(folder, config, file_tensors(folder, names))
        recorded = info.pop(CHECKSUM_KEY, None)
        if verify and recorded is None:
            log.warning("%s records no weights checksum (saved by an older fuseprune); loading it unverified", folder)
        elif verify:
            verify_checksums(folder, names, recorded)
        codec = load_codec(folder)
        codec.check_model_config(config.vocab_size, config.n_positions)
        model = read_compressed(folder, config) if compressed else _read_weights(folder, config)
        return cls(model, codec, info)

    @classmethod
    def from_realtabformer(cls, folder: str | Path, data: str | Table | None = None) -> TabularGPT:
        """Import a tabular model saved by REaLTabFormer (``rtf_config.json`` + ``rtf_model.pt``).

        See :func:`fuseprune.tabular.realtabformer.import_realtabformer`; ``data`` (a bundled
        name, a CSV path or a loaded table) is the table it was trained on, recorded for evaluation.
        """
        from fuseprune.tabular.realtabformer.importer import import_realtabformer

        return import_realtabformer(folder, data)

    def to_realtabformer(self, folder: str | Path, overwrite: bool = False) -> Path:
        """Write this model as a folder REaLTabFormer's ``load_from_dir`` loads and samples from.

        See :func:`fuseprune.tabular.realtabformer.export_realtabformer` (``overwrite`` as for :meth:`save`).
        """
        from fuseprune.tabular.realtabformer.exporter import export_realtabformer

        return export_realtabformer(self, folder, overwrite)


def _read_weights(folder: Path, config: GPT2Config) -> GPT2LMHeadModel:
    """The network of a checked folder, in eval mode."""
    # with output_loading_info the call returns (model, report); transformers types only the model
    loaded: Any = GPT2LMHeadModel.from_pretrained(folder, config=config, use_safetensors=True, output_loading_info=True)
    model, report = cast("tuple[GPT2LMHeadModel, dict[str, list[str]]]", loaded)
    leftovers = {k: sorted(v)[:3] for k, v in report.items() if v and k != "error_msgs"}
    if leftovers:  # check_tensors compares the same things; this guards against a transformers change
        raise ModelError(f"transformers reports {leftovers} loading {str(folder)!r}; the folder is damaged.")
    check_finite(folder, model)
    return model.eval()
