"""Measure what the fusion design study needs, teacher by teacher, into the JSON cache (resumable).

    PYTHONPATH=. python bench/fusion_collect.py [--root /work/study/fusion2] [--wait]

For every teacher (deep preset, seeds 0 and 1, nine data sets; then the default-preset teachers): the signals of
every state along each single signal's removal path, the holdout and training subset tables at k = L/2, and the
signals and one-step losses of every state along the training-row optimum's path.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fusion_cache import TeacherCache  # noqa: E402

from fuseprune.pruning.targets import removal_ranking  # noqa: E402
from fuseprune.scoring import list_signals  # noqa: E402

DEEP_DATASETS = ("breast-cancer-wisconsin", "credit", "diabetes", "pima", "titanic", "breast-cancer-diagnostic",
                 "credit-card", "wage", "health-insurance")
DEFAULT_DATASETS = ("birthwt", "iris", "wine", "diabetes", "pima", "breast-cancer-wisconsin", "credit", "titanic",
                    "health-insurance", "breast-cancer-diagnostic")  # the cheapest first
DEEP_ROOT = Path("/work/study/teachers")
DEFAULT_ROOT = Path("/work/main/runs/teachers")
log = logging.getLogger("fusion_collect")


def teachers() -> list[tuple[Path, str, int, str]]:
    """(folder, data set, seed, preset) of every teacher of the study, deep first."""
    deep = [(DEEP_ROOT / f"{d}-deep-seed{s}", d, s, "deep") for d in DEEP_DATASETS for s in (0, 1)]
    default = [(DEFAULT_ROOT / f"{d}-default-seed0", d, 0, "default") for d in DEFAULT_DATASETS]
    return deep + default


def ready(folder: Path) -> bool:
    """Whether the background job has finished the teacher (it is listed in teachers.log)."""
    if folder.parent == DEFAULT_ROOT:
        return folder.is_dir()
    log_file = Path("/work/study/teachers.log")
    name, seed = folder.name.rsplit("-deep-seed", 1)
    lines = log_file.read_text().splitlines() if log_file.is_file() else []
    return any(line.startswith(f"{name} {seed} ") for line in lines)


def signal_path(cache: TeacherCache, signal: str, k: int) -> list[int]:
    """The layers a single signal removes, one at a time, re-ranking each state."""
    removed: list[int] = []
    for _ in range(k):
        kept = [i for i in range(cache.n_layer) if i not in removed]
        keep = cache.signals(tuple(sorted(removed)))[signal]
        removed.append(kept[removal_ranking(keep, range(len(kept)))[0]])
    return removed


def optimum_path(cache: TeacherCache, k: int) -> list[int]:
    """The training-row optimum's layers, in the order of smallest one-step damage; states measured on the way."""
    table = cache.table("train")
    best = min(table, key=table.get)
    removed: list[int] = []
    for _ in range(k):
        cache.signals(tuple(sorted(removed)))
        kept = [i for i in range(cache.n_layer) if i not in removed]
        steps = cache.small([tuple(sorted([*removed, layer])) for layer in kept])
        left = [layer for layer in best if layer not in removed]
        removed.append(min(left, key=lambda layer: steps[tuple(sorted([*removed, layer]))]))
    return removed


def collect(folder: Path, dataset: str, seed: int, root: Path) -> None:
    """Measure and cache everything the study needs of one teacher."""
    start = time.time()
    cache = TeacherCache(folder, dataset, seed, root)
    k = cache.n_layer // 2
    for signal in list_signals():
        signal_path(cache, signal, k)
    cache.table("holdout")
    cache.table("train")
    optimum_path(cache, k)
    log.info("%s done in %.0f s (%d states)", folder.name, time.time() - start, len(cache.data["signals"]))


def main() -> None:
    """Measure every ready teacher (and, with --wait, the rest as they finish)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="/work/study/fusion2")
    parser.add_argument("--wait", action="store_true", help="wait for teachers still being trained")
    parser.add_argument("--only", default="", help="comma-separated preset filter (deep, default)")
    parser.add_argument("--seeds", default="", help="comma-separated teacher seed filter")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    todo = [t for t in teachers() if (not args.only or t[3] in args.only.split(","))
            and (not args.seeds or str(t[2]) in args.seeds.split(","))]
    while todo:
        waiting = []
        for folder, dataset, seed, _ in todo:
            if ready(folder):
                collect(folder, dataset, seed, Path(args.root))
            else:
                waiting.append((folder, dataset, seed, _))
        todo = waiting
        if todo and not args.wait:
            log.info("not ready: %s", ", ".join(t[0].name for t in todo))
            return
        if todo:
            time.sleep(20)


if __name__ == "__main__":
    main()
