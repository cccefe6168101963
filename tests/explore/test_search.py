"""A whole search on the tiny teacher, run in this process: the choice, the report, resuming."""

from __future__ import annotations

import json

import pytest

from fuseprune.compare.backends import Backend
from fuseprune.errors import ConfigError
from fuseprune.explore import ExploreConfig, run_search
from fuseprune.explore.store import RESULTS_FILE, slug
from fuseprune.tabular import TabularGPT


class InProcess(Backend):
    """Runs every task here, one after the other, and counts them."""

    def __init__(self) -> None:
        super().__init__(1)
        self.labels: list[str] = []

    def run(self, tasks, started, work):
        for task in tasks:
            started(task)
            self.labels.append(task.label)
            yield task, work(task)


def search(model_dir, **changes):
    settings = {"model": str(model_dir), "data": "breast-cancer-wisconsin", "methods": ("depth", "sparsity", "int8"),
                "sparsity": (0.2, 0.9), "target_quality": 0.9, "heal_epochs": 1, "speed_rows": 32,
                "speed_repeats": 1, "batch_size": 32, **changes}
    return ExploreConfig(**settings)


@pytest.fixture(scope="module")
def finished(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "out"
    backend = InProcess()
    summary = run_search(search(tiny_model_dir), out, backend=backend)
    return out, summary, backend


def test_every_candidate_is_measured_once_and_listed_in_the_report(finished):
    out, summary, backend = finished
    singles = ["depth(remove=1,strategy=tail)", "sparsity(sparsity=0.2)", "sparsity(sparsity=0.9)", "int8"]
    assert backend.labels[:5] == ["teacher", *singles]
    assert len(backend.labels) == len(set(backend.labels)) == summary.candidates + 1
    report = (out / "report" / "report.md").read_text()
    listed = [json.loads(line)["candidate"] for line in (out / "report" / "candidates.jsonl").read_text().splitlines()]
    assert sorted(listed) == sorted(backend.labels)
    for name in backend.labels[1:]:
        assert f"| `{name}` |" in report
    assert (out / "report" / "quality_vs_speed.png").stat().st_size > 0
    assert (out / "report" / "quality_vs_bytes.png").stat().st_size > 0


def test_the_chosen_model_is_the_fastest_at_or_above_the_target(finished, tiny_model_dir):
    out, summary, _ = finished
    rows = [json.loads(line) for line in (out / "report" / "candidates.jsonl").read_text().splitlines()]
    teacher = next(r for r in rows if r["candidate"] == "teacher")
    passing = [r for r in rows if r["candidate"] != "teacher" and r["quality"] >= 0.9 * teacher["quality"]]
    assert passing, "the tiny teacher's candidates should keep 0.9 of its quality"
    fastest = max(passing, key=lambda r: r["rows_per_second"] / r["teacher_rows_per_second"])
    assert summary.chosen == fastest["candidate"]
    assert f"**`{fastest['candidate']}`**" in (out / "report" / "report.md").read_text()
    assert TabularGPT.load(out / "best").codec.to_dict() == TabularGPT.load(tiny_model_dir).codec.to_dict()
    saved = json.loads((out / "best" / "fuseprune.json").read_text())
    assert saved["compression"]["order"] == [step.split("(")[0] for step in summary.chosen.split("+")]
    assert [p.name for p in (out / "models").iterdir()] == [slug(summary.chosen)]  # the others are cleared


def test_a_second_run_measures_nothing_and_a_lost_record_is_measured_again(finished, tiny_model_dir):
    out, summary, _ = finished
    again = InProcess()
    repeat = run_search(search(tiny_model_dir), out, backend=again)
    assert again.labels == [] and repeat.computed == 0 and repeat.skipped == summary.candidates
    assert repeat.chosen == summary.chosen
    lines = (out / RESULTS_FILE).read_text().splitlines(keepends=True)
    lost = json.loads(lines[-1])["candidate"]
    (out / RESULTS_FILE).write_text("".join(lines[:-1]) + lines[-1][:20])  # a torn last line, as a kill leaves
    resumed = InProcess()
    run_search(search(tiny_model_dir), out, backend=resumed)
    assert resumed.labels == [lost]


def test_a_search_with_other_settings_is_refused_by_the_folder(finished, tiny_model_dir):
    out, _, _ = finished
    with pytest.raises(ConfigError, match=r"holds a search with other settings \(target_quality: 0.9 there, 0.95 here"):
        run_search(search(tiny_model_dir, target_quality=0.95), out, backend=InProcess())
