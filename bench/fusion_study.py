"""The fusion design study: regret at k = L/2 of every design, leave-one-dataset-out and leave-one-preset-out.

    PYTHONPATH=. python bench/fusion_study.py [--root /work/study/fusion2] [--out docs/fusion-design.json]

Reads (and extends on demand) the caches of bench/fusion_collect.py. Every strategy removes one layer at a time
(re-ranking the pruned model); its final set is scored by regret on the holdout subset table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from fusion_cache import TeacherCache  # noqa: E402
from fusion_collect import teachers  # noqa: E402

from fuseprune.fusion.bank import FusionBank  # noqa: E402
from fuseprune.fusion.forest import ForestFusion  # noqa: E402
from fuseprune.fusion.linear import LinearFusion  # noqa: E402
from fuseprune.fusion.strategy import DEFAULT_BANK  # noqa: E402
from fuseprune.pruning.subsets import regret_of  # noqa: E402
from fuseprune.pruning.targets import removal_ranking  # noqa: E402
from fuseprune.scoring import list_signals  # noqa: E402

log = logging.getLogger("fusion_study")
SIGNALS = list_signals()
Keep = Callable[[TeacherCache, tuple[int, ...], list[int]], list[float]]


# ---------------------------------------------------------------- paths and regret
def final_set(cache: TeacherCache, keep: Keep) -> tuple[int, ...]:
    """The k = L/2 layers a keep-score function removes one at a time."""
    removed: list[int] = []
    for _ in range(cache.n_layer // 2):
        kept = [i for i in range(cache.n_layer) if i not in removed]
        scores = keep(cache, tuple(sorted(removed)), kept)
        removed.append(kept[removal_ranking(scores, range(len(kept)))[0]])
    return tuple(sorted(removed))


def regret(cache: TeacherCache, chosen: tuple[int, ...]) -> float:
    """Holdout regret of a chosen set (0 = best subset, 1 = worst)."""
    return regret_of(cache.table("holdout"), chosen).regret


def signal_keep(name: str) -> Keep:
    """A single signal as a strategy."""
    return lambda cache, removed, kept: cache.signals(removed)[name]


def tail_keep(cache: TeacherCache, removed: tuple[int, ...], kept: list[int]) -> list[float]:
    """The last layer goes first."""
    return [-float(i) for i in range(len(kept))]


# ---------------------------------------------------------------- features and targets
def context(cache: TeacherCache, removed: tuple[int, ...], kept: list[int]) -> dict[str, np.ndarray]:
    """Context features of every layer of a state."""
    n, total = len(kept), cache.n_layer
    depth = np.array([i / (n - 1) if n > 1 else 0.0 for i in range(n)])
    return {"depth": depth, "removed_fraction": np.full(n, len(removed) / total), "layers_left": np.full(n, n / 12),
            "width": np.full(n, cache.n_embd / 128)}


def features(cache: TeacherCache, removed: tuple[int, ...], kept: list[int], names: list[str]) -> np.ndarray:
    """Feature matrix (layers x names) of one state: signal keep scores and context features."""
    sig = cache.signals(removed)
    ctx = context(cache, removed, kept)
    cols = []
    for name in names:
        if name in sig:
            cols.append(np.asarray(sig[name], dtype=float))
        elif name in ctx:
            cols.append(ctx[name])
        elif "*" in name:
            a, b = name.split("*")
            cols.append(_col(sig, ctx, a) * _col(sig, ctx, b))
        else:
            raise KeyError(name)
    return np.column_stack(cols)


def _col(sig: dict[str, Any], ctx: dict[str, np.ndarray], name: str) -> np.ndarray:
    return np.asarray(sig[name], dtype=float) if name in sig else ctx[name]


def training_states(cache: TeacherCache) -> list[tuple[int, ...]]:
    """The states fixed by bench/fusion_collect.py: every single signal's path and the training optimum's path."""
    from fusion_collect import optimum_path, signal_path

    k = cache.n_layer // 2
    paths = [signal_path(cache, s, k) for s in SIGNALS] + [optimum_path(cache, k)]
    states = {tuple(sorted(p[:j])) for p in paths for j in range(k)}
    return sorted(states, key=lambda s: (len(s), s))


def targets(cache: TeacherCache, removed: tuple[int, ...], kept: list[int], kind: str) -> np.ndarray | None:
    """Per kept layer, higher = keep: the training-row outcome of removing it next."""
    # "h..." targets: a bank teacher's holdout table, never the scored teacher's
    table = cache.table("holdout" if kind.startswith("h") else "train")
    kind = kind.removeprefix("h")
    if kind in ("completion", "mean"):
        out = []
        for layer in kept:
            need = set(removed) | {layer}
            losses = [v for s, v in table.items() if need <= set(s)]
            out.append(min(losses) if kind == "completion" else float(np.mean(losses)))
        return np.array(out)
    if kind == "marginal":
        subsets = [tuple(sorted([*removed, layer])) for layer in kept]
        if not all(",".join(map(str, s)) in cache.data["train_small"] for s in subsets):
            return None
        small = cache.small(subsets)
        return np.array([small[s] for s in subsets])
    raise KeyError(kind)


def bank_rows(caches: list[TeacherCache], names: list[str], kind: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(features, target) of every training state of the given teachers."""
    rows = []
    for cache in caches:
        for removed in training_states(cache):
            kept = [i for i in range(cache.n_layer) if i not in removed]
            y = targets(cache, removed, kept, kind)
            if y is not None:
                rows.append((features(cache, removed, kept, names), y))
    return rows


# ---------------------------------------------------------------- models
def _norm(y: np.ndarray) -> np.ndarray:
    span = y.max() - y.min()
    return (y - y.min()) / span if span > 0 else np.zeros_like(y)


def fit_pointwise(rows: list[tuple[np.ndarray, np.ndarray]], model: str) -> Callable[[np.ndarray], np.ndarray]:
    """Ridge or random forest on the per-state normalised target."""
    X = np.vstack([x for x, _ in rows])
    y = np.concatenate([_norm(t) for _, t in rows])
    if model == "lr":
        from sklearn.linear_model import Ridge

        est = Ridge(alpha=1.0).fit(X, y)
    else:
        from sklearn.ensemble import RandomForestRegressor

        est = RandomForestRegressor(n_estimators=200, min_samples_leaf=3, max_features=0.5, random_state=0,
                                    n_jobs=1).fit(X, y)
    return est.predict


def pairs(rows: list[tuple[np.ndarray, np.ndarray]], margin: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise differences within each state, label 1 when the first layer should be kept over the second."""
    diffs, labels, weights = [], [], []
    for x, t in rows:
        tn = _norm(t)
        for i, j in itertools.permutations(range(len(t)), 2):
            if abs(tn[i] - tn[j]) > margin:
                diffs.append(x[i] - x[j])
                labels.append(int(tn[i] > tn[j]))
                weights.append(abs(tn[i] - tn[j]))
    return np.array(diffs), np.array(labels), np.array(weights)


def fit_pairwise(rows: list[tuple[np.ndarray, np.ndarray]], model: str, weighted: bool = False,
                 C: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """Pairwise logistic regression or gradient boosting on within-state feature differences."""
    D, labels, w = pairs(rows)
    w = w if weighted else None
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression

        est = LogisticRegression(C=C, fit_intercept=False, max_iter=2000).fit(D, labels, sample_weight=w)
        coef = est.coef_[0]
        return lambda X: X @ coef
    from sklearn.ensemble import HistGradientBoostingClassifier

    est = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0)
    est.fit(D, labels, sample_weight=w)

    def score(X: np.ndarray) -> np.ndarray:
        n = len(X)
        ij = [(i, j) for i in range(n) for j in range(n) if i != j]
        p = est.predict_proba(np.array([X[i] - X[j] for i, j in ij]))[:, 1]
        out = np.zeros(n)
        for (i, _), value in zip(ij, p, strict=True):
            out[i] += value
        return out

    return score


def learned_keep(predict: Callable[[np.ndarray], np.ndarray], names: list[str]) -> Keep:
    """A fitted model as a strategy."""
    return lambda cache, removed, kept: [float(v) for v in predict(features(cache, removed, kept, names))]


def shipped_keep(ds: str, kind: str) -> Keep:
    """fusion-lr / fusion-rf fitted on the shipped bank without ``ds`` (what the comparison runs)."""
    bank = FusionBank.load(DEFAULT_BANK).without(ds)
    est = (LinearFusion() if kind == "lr" else ForestFusion()).fit(bank)
    names = bank.features()
    return learned_keep(lambda X: est._predict(X), names)


def rank_keep(path: str, ds: str) -> Keep:
    """The shipped ``fusion-rank`` model fitted on a rank bank without ``ds``."""
    from fuseprune.fusion.ranking import PairwiseFusion, RankBank, context_features

    model = PairwiseFusion().fit(RankBank.load(path).without(ds))

    def keep(cache: TeacherCache, removed: tuple[int, ...], kept: list[int]) -> list[float]:
        frame = context_features(len(kept), len(removed) / cache.n_layer, cache.n_embd)
        for name, values in cache.signals(removed).items():
            frame[name] = values
        return [float(v) for v in model.predict(frame)]

    return keep


# ---------------------------------------------------------------- the study
DESIGNS: dict[str, dict[str, Any]] = {}


def design(name: str, target: str, model: str, ctx: tuple[str, ...] = ("depth", "removed_fraction"),
           bank: str = "deep", **kw: Any) -> None:
    """Register one design."""
    DESIGNS[name] = {"target": target, "model": model, "context": list(ctx), "bank": bank, **kw}


def register_designs() -> None:
    """Every design tried: target x model x context x bank (the bank preset; "both" = deep and default)."""
    base = ("depth", "removed_fraction")
    rich = ("depth", "removed_fraction", "layers_left", "width", "depth*removed_fraction", "depth*layers_left")
    for bank in ("default", "deep"):
        tag = "" if bank == "default" else "@deep"
        design(f"A-marginal-lr{tag}", "marginal", "lr", base, bank=bank)
        design(f"A-completion-lr{tag}", "completion", "lr", base, bank=bank)
        design(f"A-mean-lr{tag}", "mean", "lr", base, bank=bank)
        design(f"A-completion-rf{tag}", "completion", "rf", base, bank=bank)
        design(f"A-hcompletion-rf{tag}", "hcompletion", "rf", base, bank=bank)
        design(f"B-completion-pairlog{tag}", "completion", "logistic", base, bank=bank)
        design(f"B-mean-pairlog{tag}", "mean", "logistic", base, bank=bank)
        design(f"B-hcompletion-pairlog{tag}", "hcompletion", "logistic", base, bank=bank)
        design(f"B-hmean-pairlog{tag}", "hmean", "logistic", base, bank=bank)
        design(f"C-completion-pairlog-ctx{tag}", "completion", "logistic", rich, bank=bank)
        design(f"C-hcompletion-pairlog-ctx{tag}", "hcompletion", "logistic", rich, bank=bank)
    design("B-completion-pairgbm", "completion", "gbm", base, bank="default")
    design("D-completion-pairlog-ctx@both", "completion", "logistic", rich, bank="both")
    design("D-hcompletion-pairlog-ctx@both", "hcompletion", "logistic", rich, bank="both")


def fit_design(spec: dict[str, Any], caches: list[TeacherCache]) -> Keep:
    """Fit a design on the teachers of its bank."""
    names = SIGNALS + spec["context"]
    rows = bank_rows(caches, names, spec["target"])
    if spec["model"] in ("lr", "rf"):
        return learned_keep(fit_pointwise(rows, spec["model"]), names)
    return learned_keep(fit_pairwise(rows, spec["model"], spec.get("weighted", False)), names)


def main() -> None:
    """Score the baselines and every design, write the JSON, print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="/work/study/fusion2")
    parser.add_argument("--out", default="docs/fusion-design.json")
    parser.add_argument("--designs", default="", help="comma-separated subset of designs")
    parser.add_argument("--rank-bank", default="", help="also score fusion-rank fitted on this rank bank (LODO)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("fuseprune").setLevel(logging.WARNING)
    register_designs()
    chosen = [d for d in DESIGNS if not args.designs or d in args.designs.split(",")]
    all_caches = {(f.name): (TeacherCache(f, d, s, args.root), d, p) for f, d, s, p in teachers()
                  if (Path(args.root) / f"{f.name}.json").is_file()}
    done = {n: c for n, c in all_caches.items() if "holdout" in c[0].data and "train" in c[0].data}
    deep = {n: c for n, c in done.items() if c[2] == "deep"}
    default = {n: c for n, c in done.items() if c[2] == "default"}
    results: dict[str, dict[str, list[float]]] = {}

    def record(strategy: str, name: str, value: float) -> None:
        results.setdefault(strategy, {}).setdefault(name, []).append(value)

    for name, (cache, ds, _) in sorted({**deep, **default}.items()):
        for signal in SIGNALS:
            record(signal, name, regret(cache, final_set(cache, signal_keep(signal))))
        record("tail", name, regret(cache, final_set(cache, tail_keep)))
        record("train-optimum", name, regret(cache, min(cache.table("train"), key=cache.table("train").get)))
        for kind in ("lr", "rf"):
            record(f"fusion-{kind}", name, regret(cache, final_set(cache, shipped_keep(ds, kind))))
    everyone = {**deep, **default}
    for dname in chosen:
        spec = DESIGNS[dname]
        presets = ("deep", "default") if spec["bank"] == "both" else (spec["bank"],)
        # leave one data set out; a teacher of the other preset is also left-one-preset-out
        for ds in sorted({ds for _, ds, _ in everyone.values()}):
            pool = [c for c, d, p in everyone.values() if d != ds and p in presets]
            if pool:
                keep = fit_design(spec, pool)
                for name, (cache, d, _) in everyone.items():
                    if d == ds:
                        record(dname, name, regret(cache, final_set(cache, keep)))
        log.info("%s done", dname)
    if args.rank_bank:
        for name, (cache, ds, _) in sorted({**deep, **default}.items()):
            record("fusion-rank", name, regret(cache, final_set(cache, rank_keep(args.rank_bank, ds))))
    out = {"teachers": {n: c[1] for n, c in {**deep, **default}.items()}, "designs": DESIGNS, "regret": results}
    Path(args.out).write_text(json.dumps(out, indent=1, sort_keys=True))
    summarize(out)


def summarize(out: dict[str, Any]) -> None:
    """Print per data set mean regret (over seeds) and the win count against the best signal and tail, per preset."""
    for preset in ("deep", "default"):
        by_ds: dict[str, dict[str, float]] = {}
        for strategy, per_teacher in out["regret"].items():
            groups: dict[str, list[float]] = {}
            for name, values in per_teacher.items():
                if f"-{preset}-seed" in name:
                    groups.setdefault(out["teachers"][name], []).extend(values)
            if groups:
                by_ds[strategy] = {ds: float(np.mean(v)) for ds, v in groups.items()}
        if "tail" not in by_ds:
            continue
        datasets = sorted(by_ds["tail"])
        by_ds = {k: v for k, v in by_ds.items() if set(v) == set(datasets)}
        best_signal = min(SIGNALS, key=lambda s: np.mean(list(by_ds[s].values())))
        print(f"\n### {preset} preset (k = L/2); best single signal on mean: {best_signal}\n")
        print("| strategy | " + " | ".join(d for d in datasets) + " | mean | wins |")
        print("|---" * (len(datasets) + 3) + "|")
        for strategy, row in sorted(by_ds.items(), key=lambda kv: np.mean(list(kv[1].values()))):
            wins = sum(row[d] < by_ds[best_signal][d] and row[d] < by_ds["tail"][d] for d in datasets)
            bank = out["designs"].get(strategy, {}).get("bank", preset)
            label = strategy + (" (LOPO)" if bank not in (preset, "both") else "")
            print(f"| {label} | " + " | ".join(f"{row[d]:.3f}" for d in datasets)
                  + f" | {np.mean(list(row.values())):.3f} | {wins}/{len(datasets)} |")


if __name__ == "__main__":
    main()
