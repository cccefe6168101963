"""Build the rank bank that ``fusion-rank`` ships with, from the caches of bench/fusion_collect.py.

    PYTHONPATH=. python bench/fusion_collect.py --wait          # measure (resumable; cached as JSON)
    PYTHONPATH=. python bench/fusion_rank_bank.py [--presets default] [--target hcompletion]
        [--out fuseprune/fusion/default_rank_bank.csv]

One row per (teacher, state, layer left): every signal's keep score on training rows, the context features, and
the outcome: the loss of the best k = L/2 subset holding the state's removed layers and this layer, on the bank
teacher's holdout rows (``hcompletion``, the default; the teacher is never the one ranked, as with the shipped
fusion bank's impact) or on 64 of its training rows (``completion``).
States: every one along each single signal's removal path and along the training-row optimum's path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from fusion_cache import TeacherCache  # noqa: E402
from fusion_collect import teachers  # noqa: E402
from fusion_study import SIGNALS, targets, training_states  # noqa: E402

from fuseprune.fusion.ranking import OUTCOME, RankBank, context_features  # noqa: E402
from fuseprune.pruning.fingerprint import weights_sha256  # noqa: E402
from fuseprune.tabular import TabularGPT  # noqa: E402

TARGETS = {
    "hcompletion": "holdout NLL of the best k=L/2 subset that removes the state's layers and this one",
    "completion": "training-row NLL (64 rows) of the best k=L/2 subset that removes the state's layers and this one",
}


def teacher_rows(cache: TeacherCache, preset: str, target: str) -> pd.DataFrame:
    """The rank bank rows of one teacher."""
    sha = weights_sha256(TabularGPT.load(cache.folder).model.state_dict())
    frames = []
    for removed in training_states(cache):
        kept = [i for i in range(cache.n_layer) if i not in removed]
        frame = context_features(len(kept), len(removed) / cache.n_layer, cache.n_embd)
        signals = cache.signals(removed)
        for name in SIGNALS:
            frame[name] = signals[name]
        frame[OUTCOME] = targets(cache, removed, kept, target)
        frame.insert(0, "model_sha256", sha if not removed else "")
        frame.insert(0, "layer", kept)
        frame.insert(0, "state", "-".join(map(str, removed)))
        frame.insert(0, "seed", cache.seed)
        frame.insert(0, "dataset", cache.dataset)
        frame.insert(0, "preset", preset)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    """Build and save the rank bank."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="/work/study/fusion2")
    parser.add_argument("--presets", default="default")
    parser.add_argument("--target", default="hcompletion", choices=sorted(TARGETS))
    parser.add_argument("--out", default="fuseprune/fusion/default_rank_bank.csv")
    args = parser.parse_args()
    presets = args.presets.split(",")
    frames, used = [], []
    for folder, dataset, seed, preset in teachers():
        cache = TeacherCache(folder, dataset, seed, args.root)
        if preset in presets and "train" in cache.data and "holdout" in cache.data:
            frames.append(teacher_rows(cache, preset, args.target))
            used.append(folder.name)
    meta = {"target": TARGETS[args.target], "presets": presets, "teachers": used, "calibration_rows": 256,
            "command": "bench/fusion_rank_bank.py " + " ".join(sys.argv[1:])}
    RankBank(pd.concat(frames, ignore_index=True), meta).save(args.out, overwrite=True)
    print(f"{args.out}: {sum(len(f) for f in frames)} rows from {len(used)} teachers")


if __name__ == "__main__":
    main()
