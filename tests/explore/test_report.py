"""The report of hand-made records: every candidate listed, ratios to the teacher, the choice said plainly."""

from __future__ import annotations

import json

from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.report import write_report


def record(name, quality, rate, teacher_rate, size, nonzero, healed=True):
    return {"candidate": name, "steps": [], "quality": quality, "rows_per_second": rate,
            "teacher_rows_per_second": teacher_rate, "bytes_on_disk": size, "nonzero_parameters": nonzero,
            "healed": healed, "heal": {"epochs": 2, "note": None} if healed else None, "ceiling": None,
            "speed_batch_size": 64}


RECORDS = {
    "teacher": record("teacher", 0.80, 100.0, 100.0, 1000, 500, healed=False),
    "depth(remove=3,strategy=tail)": record("depth(remove=3,strategy=tail)", 0.796, 200.0, 100.0, 500, 250),
    "sparsity(sparsity=0.5)": record("sparsity(sparsity=0.5)", 0.79, 101.0, 100.0, 1000, 250, healed=False),
    "depth(remove=3,strategy=tail)+int8": record("depth(remove=3,strategy=tail)+int8", 0.70, 300.0, 100.0, 150, 250),
}


def test_every_candidate_is_listed_with_its_ratios(tmp_path):
    config = ExploreConfig(model="m", data="d", methods=("depth", "sparsity", "int8"), target_quality=0.99)
    path = write_report(tmp_path, config, RECORDS, "depth(remove=3,strategy=tail)", tmp_path / "best")
    text = path.read_text()
    # 0.796 / 0.8 = 0.995 at 200 / 100 = 2x and 500 / 1000 = 0.5 of the bytes
    assert "| `depth(remove=3,strategy=tail)` | 2 ep | 0.7960 | 0.9950 | 2.00x | 200 | 100 | 500 | 0.50 |" in text
    # half the parameters zeroed, 1.01x: saves parameters, not time
    assert "| `sparsity(sparsity=0.5)` | no | 0.7900 | 0.9875 | 1.01x |" in text
    assert "saves bytes or parameters, not time" in text.split("sparsity(sparsity=0.5)` |")[1].splitlines()[0]
    assert "**`depth(remove=3,strategy=tail)`**, quality ratio 0.9950, **2.00x**" in text
    # why nothing faster was chosen: +int8 ran at 3x but kept 0.70 / 0.80 = 0.875 of the quality
    assert ("Faster candidates fell below 0.99 of the teacher's quality: `depth(remove=3,strategy=tail)+int8` "
            "(3.00x, quality ratio 0.8750).") in text
    rows = [json.loads(line) for line in (tmp_path / "report" / "candidates.jsonl").read_text().splitlines()]
    assert [r["candidate"] for r in rows] == ["teacher", *sorted(set(RECORDS) - {"teacher"})]
    flags = {r["candidate"]: (r["on_speed_frontier"], r["on_size_frontier"]) for r in rows[1:]}
    # depth: best quality among the candidates at 2x; +int8: fastest and smallest; sparsity: beaten in both
    assert flags == {"depth(remove=3,strategy=tail)": (True, True), "depth(remove=3,strategy=tail)+int8": (True, True),
                     "sparsity(sparsity=0.5)": (False, False)}


def test_none_reaching_the_target_is_said_plainly(tmp_path):
    config = ExploreConfig(model="m", data="d", methods=("depth",), target_quality=1.0)
    text = write_report(tmp_path, config, RECORDS, None, None).read_text()
    assert ("**No candidate reached 1 of the teacher's quality.** The closest was `depth(remove=3,strategy=tail)` "
            "at 0.9950 (2.00x the teacher's rows/s); no model was saved.") in text


def test_the_fastest_candidate_names_no_faster_ones(tmp_path):
    config = ExploreConfig(model="m", data="d", methods=("depth", "int8"), target_quality=0.8)
    # at 0.8 the +int8 candidate (0.875) is the fastest at the target: nothing faster to explain
    text = write_report(tmp_path, config, RECORDS, "depth(remove=3,strategy=tail)+int8", tmp_path / "best").read_text()
    assert "**`depth(remove=3,strategy=tail)+int8`**, quality ratio 0.8750, **3.00x**" in text
    assert "Faster candidates" not in text
    assert "No candidate of this search was faster, at any quality" in text


def test_without_a_depth_only_model_at_the_target_the_fastest_depth_one_is_named(tmp_path):
    records = {**RECORDS, "int8": record("int8", 0.80, 150.0, 100.0, 250, 500, healed=False)}
    config = ExploreConfig(model="m", data="d", methods=("depth", "int8"), target_quality=0.999)
    # depth keeps 0.995 < 0.999; int8 keeps 0.80 / 0.80 = 1 at 1.5x
    text = write_report(tmp_path, config, records, "int8", tmp_path / "best").read_text()
    assert ("No depth-only model reached the target; the fastest, `depth(remove=3,strategy=tail)`, reached 2.00x "
            "at quality ratio 0.9950.") in text
