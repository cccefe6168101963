"""The Strategic Fusion study's two claims, checked against a comparison results folder.

    .venv/bin/python bench/study_claims.py RESULTS [--fusion fusion-rf] [--json OUT]

Claim 1 (Table 1 of the study): random-forest fusion reaches the best quality
of all strategies on 7 of 9 data sets. Claim 2: after distillation, the
fused (half-depth) model's quality is above the original model's on 6 of 9.

Each claim is counted twice: by seed means (a point estimate, which a lucky
seed can decide) and by leads a paired test over the teacher seeds confirms
(:mod:`fuseprune.compare.stats`). A claim is **reproduced** when the confirmed
count reaches the study's, **not reproduced** when even the point-estimate
count falls short, and **undecided** otherwise (the means agree, the test does
not confirm: with two teacher seeds a per-data-set lead can never be confirmed,
which the verdict across data sets, pairing every (data set, seed), partly makes
up for). Oracles (``ablation``, ``exhaustive``) do not compete.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from fuseprune.compare import ResultStore, analysis
from fuseprune.compare.report import markdown_table
from fuseprune.compare.stats import paired_comparison
from fuseprune.compare.subset_tables import read_tables


def verdict(confirmed: int, by_means: int, needed: int) -> str:
    """The verdict on a claim: reproduced, not reproduced or undecided (see the module docstring)."""
    if confirmed >= needed:
        return "reproduced"
    return "not reproduced" if by_means < needed else "undecided"


def best_quality_claim(frame: pd.DataFrame, fusion: str, needed: int = 7) -> dict[str, Any]:
    """Claim 1: ``fusion`` has the best seed-mean best quality on ``needed`` data sets (oracles left out)."""
    seeds = analysis.per_seed(frame, analysis.best_quality, "quality")
    seeds = seeds.drop(columns=[c for c in analysis.ORACLES if c in seeds.columns])
    means = seeds.groupby(level="dataset").mean()
    leaders = means.idxmax(axis=1)
    confirmed = analysis.separated_winners(seeds, True)
    overall = {other: paired_comparison(seeds[fusion], seeds[other], True).text()
               for other in seeds.columns if other != fusion}
    by_means, sure = int((leaders == fusion).sum()), int((confirmed == fusion).sum())
    return {"claim": f"{fusion} has the best quality on {needed} of 9 data sets", "data sets": len(means),
            "best by means": by_means, "confirmed": sure, "verdict": verdict(sure, by_means, needed),
            "leader per data set": leaders.to_dict(), "fusion vs each, across data sets": overall}


def distilled_claim(frame: pd.DataFrame, fusion: str, needed: int = 6) -> dict[str, Any]:
    """Claim 2: ``fusion``'s distilled student at half depth beats the intact teacher's quality."""
    half = frame.groupby("dataset")["layers"].transform("max") // 2
    student = frame[(frame["strategy"] == fusion) & (frame["step"] == half)].set_index(["dataset", "seed"])
    teacher = frame[frame["step"] == 0].drop_duplicates(["dataset", "seed"]).set_index(["dataset", "seed"])
    pairs = pd.DataFrame({"student": student["distilled_quality"], "teacher": teacher["quality"]}).dropna()
    per_set = {str(d): paired_comparison(g["student"], g["teacher"], True).verdict
               for d, g in pairs.groupby(level="dataset")}
    means = pairs.groupby(level="dataset").mean()
    by_means = int((means["student"] > means["teacher"]).sum())
    sure = sum(v == "better" for v in per_set.values())
    return {"claim": f"distilled {fusion} at half depth is above the original on {needed} of 9 data sets",
            "data sets": len(means), "above by means": by_means, "confirmed": sure,
            "verdict": verdict(sure, by_means, needed),
            "student and teacher means": {str(d): [round(float(r["student"]), 4), round(float(r["teacher"]), 4)]
                                          for d, r in means.iterrows()},
            "across data sets": paired_comparison(pairs["student"], pairs["teacher"], True).text()}


SUMMARY = (("quality_at_half", analysis.at_half, "quality", True),
           ("distilled_quality_at_half", analysis.at_half, "distilled_quality", True),
           ("regret_at_half", analysis.at_half, "regret", False),
           ("distilled_regret_at_half", analysis.at_half, "distilled_regret", False),
           ("regret_along_path", analysis.area_under, "regret", False))


def summary(frame: pd.DataFrame, against: str = "tail") -> pd.DataFrame:
    """Strategy x criterion: the mean over data sets (of seed means), and each strategy against ``against``.

    The verdict pairs every (data set, teacher seed) of the regret with half the layers removed.
    """
    columns: dict[str, pd.Series] = {}
    regret = None
    for name, table, measure, _ in SUMMARY:
        if measure in frame.columns and frame[measure].notna().any():
            seeds = analysis.per_seed(frame, table, measure)
            columns[name] = seeds.groupby(level="dataset").mean().mean()
            regret = seeds if name == "regret_at_half" else regret
    result = pd.DataFrame(columns)
    if regret is not None and against in regret.columns:
        result[f"regret at half vs {against}"] = [
            paired_comparison(regret[s], regret[against], False).text() if s != against else "" for s in result.index]
    return result.sort_values("regret_at_half") if "regret_at_half" in result else result


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally write) the claims of the results folder given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results folder of `fuseprune compare` (with --distill for claim 2)")
    parser.add_argument("--fusion", default="fusion-rf", help="the fusion strategy the claims are about")
    parser.add_argument("--json", help="also write the claims to this JSON file")
    args = parser.parse_args(argv)
    store = ResultStore(args.results)
    frame = analysis.steps_frame(store.records(), read_tables(store.subset_lines()))
    claims = [best_quality_claim(frame, args.fusion)]
    if frame["distilled_quality"].notna().any():
        claims.append(distilled_claim(frame, args.fusion))
    for claim in claims:
        print(f"{claim['claim']}: {claim['verdict'].upper()}")
        for key, value in claim.items():
            if key not in ("claim", "verdict"):
                print(f"  {key}: {value}")
    table = summary(frame)
    print(markdown_table(table, "{:.4f}", corner="strategy"))
    if args.json:
        payload = {"claims": claims, "summary": json.loads(table.to_json(orient="index"))}
        Path(args.json).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
