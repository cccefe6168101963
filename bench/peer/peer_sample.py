"""Time REaLTabFormer's own ``sample()`` on a REaLTabFormer folder (run in the peer environment).

    .venv-peer/bin/python bench/peer/peer_sample.py RTF_DIR --rows N [--batch B] [--seed S] [--out CSV]

Loads the folder with ``REaLTabFormer.load_from_dir``, seeds Python, NumPy and
torch with ``--seed``, times one call of ``sample(n_samples=N, gen_batch=B,
device="cpu")`` (loading is not timed) and prints exactly one JSON line on
stdout::

    {"rows_per_second": ..., "rows": ..., "seconds": ..., "invalid_discarded": ...}

``invalid_discarded`` is the number of generated rows REaLTabFormer's decoding
threw away (its own count, which it prints; that print goes to stderr here so
stdout holds only the JSON line). Threads follow torch's defaults and
``OMP_NUM_THREADS``. ``bench/sampling.py`` runs this as a subprocess with the
peer environment's python.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
from realtabformer import REaLTabFormer

COUNT = re.compile(r"Generated (\d+) invalid samples out of total (\d+)")


def main() -> int:
    """Load, sample, time, print the JSON line."""
    parser = argparse.ArgumentParser(description="Time REaLTabFormer's own sample() on a saved model.")
    parser.add_argument("rtf_dir", type=Path, help="folder with rtf_config.json and rtf_model.pt")
    parser.add_argument("--rows", type=int, required=True, help="rows to sample")
    parser.add_argument("--batch", type=int, default=512,
                        help="gen_batch: sequences per generate call (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of Python, NumPy and torch (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="write the sampled rows to this CSV")
    args = parser.parse_args()
    if args.rows < 1 or args.batch < 1:
        parser.error("--rows and --batch must be at least 1")
    with contextlib.redirect_stdout(sys.stderr):
        rtf = REaLTabFormer.load_from_dir(args.rtf_dir)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        start = time.perf_counter()
        rows = rtf.sample(n_samples=args.rows, gen_batch=args.batch, device="cpu")
        seconds = time.perf_counter() - start
    sys.stderr.write(printed.getvalue())
    found = COUNT.findall(printed.getvalue())
    invalid = int(found[-1][0]) if found else None
    if args.out:
        rows.to_csv(args.out, index=False)
    result = {"rows_per_second": len(rows) / seconds, "rows": len(rows), "seconds": seconds,
              "invalid_discarded": invalid}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
