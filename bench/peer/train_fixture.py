"""Train the small REaLTabFormer model that fuseprune's tests import (run in the peer environment).

Run with the side environment's python (``bash bench/peer/setup.sh`` builds it),
from the repository root, or through ``make fixture-rtf``::

    .venv-peer/bin/python bench/peer/train_fixture.py [--data CSV] [--out DIR] [--epochs N]

It trains REaLTabFormer 0.2.4 itself on the CSV (by default the bundled
``titanic`` table, exported next to the fixture by ``make fixture-rtf``: three
categorical columns and ``age``, a number with up to four decimals and 263
missing values, which REaLTabFormer writes one character per token), a narrow
GPT-2 (3 layers, 64 wide, 2 heads) for a few epochs, saves it with
REaLTabFormer's own ``save()``, and writes beside it:

- ``reference_logits.safetensors``: REaLTabFormer's own token ids of a few
  rows (encoded by REaLTabFormer's ``process_data``/``make_dataset``, as in
  training) and of a few random sequences of valid tokens, with the logits of
  REaLTabFormer's GPT-2 (transformers 4) on them;
- ``rtf_samples.csv``: rows drawn by REaLTabFormer's own ``sample()``, so the
  main suite can compare the kind of rows both samplers write.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from realtabformer import REaLTabFormer
from realtabformer.data_utils import make_dataset, process_data
from safetensors.torch import save_file
from transformers import GPT2Config

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "rtf-titanic"
SEED = 0


def train(frame: pd.DataFrame, epochs: int, work: Path) -> REaLTabFormer:
    """Fit a narrow REaLTabFormer tabular model on ``frame`` (no sensitivity critic: plain epochs)."""
    config = GPT2Config(n_layer=3, n_head=2, n_embd=64, n_positions=32)
    rtf = REaLTabFormer(
        model_type="tabular", tabular_config=config, epochs=epochs, batch_size=32, random_state=SEED,
        checkpoints_dir=str(work / "checkpoints"), samples_save_dir=str(work / "samples"),
        full_save_dir=str(work / "full"), report_to="none", save_strategy="no", logging_steps=50,
        learning_rate=2e-3,
    )
    rtf.fit(frame, n_critic=0, device="cpu")
    return rtf


def save(rtf: REaLTabFormer, out: Path, work: Path) -> None:
    """REaLTabFormer's ``save()``, working around its 0.2.4 bug with ``full_save_dir``.

    0.2.4 converts ``checkpoints_dir`` and ``samples_save_dir`` to text before
    ``json.dumps`` but not ``full_save_dir``, a ``PosixPath``, so ``save``
    fails; turning it into text first is all it needs.
    """
    rtf.full_save_dir = Path(rtf.full_save_dir).as_posix()
    rtf.save(work / "saved")
    saved = work / "saved" / rtf.experiment_id
    out.mkdir(parents=True, exist_ok=True)
    for name in ("rtf_config.json", "rtf_model.pt"):
        shutil.copyfile(saved / name, out / name)


def reference_sequences(rtf: REaLTabFormer, frame: pd.DataFrame, n_rows: int, n_random: int) -> tuple[list, list]:
    """Token ids (REaLTabFormer's vocabulary) of some rows and of random valid sequences, and the row indices."""
    processed, _ = process_data(
        frame, numeric_max_len=rtf.numeric_max_len, numeric_precision=rtf.numeric_precision,
        numeric_nparts=rtf.numeric_nparts,
    )
    missing = [int(i) for i in np.flatnonzero(frame.isna().any(axis=1).to_numpy())[:2]]
    rows = list(range(n_rows)) + missing
    ids = [list(s) for s in make_dataset(processed.iloc[rows].reset_index(drop=True), rtf.vocab)["input_ids"]]
    rng = random.Random(SEED)
    bos, eos = rtf.vocab["token2id"]["[BOS]"], rtf.vocab["token2id"]["[EOS]"]
    for _ in range(n_random):
        ids.append([bos] + [rng.choice(rtf.col_idx_ids[t]) for t in range(len(rtf.processed_columns))] + [eos])
    return ids, rows


def write_reference(rtf: REaLTabFormer, frame: pd.DataFrame, out: Path) -> None:
    """Logits of REaLTabFormer's GPT-2 on fixed sequences, for the main suite's equality check."""
    ids, rows = reference_sequences(rtf, frame, n_rows=6, n_random=4)
    input_ids = torch.tensor(ids, dtype=torch.long)
    model = rtf.model.cpu().eval()
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits.float()
    save_file(
        {"input_ids": input_ids, "logits": logits.contiguous(), "rows": torch.tensor(rows, dtype=torch.long)},
        str(out / "reference_logits.safetensors"),
        metadata={"rows": "indices into data.csv of the first len(rows) sequences; the rest are random valid tokens"},
    )


def main() -> None:
    """Train, save, and write the reference logits and samples."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=FIXTURE / "data.csv", help="training CSV")
    parser.add_argument("--out", type=Path, default=FIXTURE, help="fixture folder to write")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=300, help="rows for rtf_samples.csv (default: %(default)s)")
    args = parser.parse_args()
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    frame = pd.read_csv(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        rtf = train(frame, args.epochs, Path(tmp))
        save(rtf, args.out, Path(tmp))
    write_reference(rtf, frame, args.out)
    samples = rtf.sample(n_samples=args.samples, gen_batch=100, device="cpu")
    samples.to_csv(args.out / "rtf_samples.csv", index=False)
    summary = {"parameters": sum(p.numel() for p in rtf.model.parameters()), "vocab_size": len(rtf.vocab["id2token"]),
               "processed_columns": rtf.processed_columns, "sample_dtypes": samples.dtypes.astype(str).to_dict()}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
