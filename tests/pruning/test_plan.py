"""PrunePlan: JSON round trip, the shipped JSON Schema, one-line loader errors, atomic writes.

Written plans are validated against the shipped ``plan.schema.json`` with
``jsonschema`` (a test extra).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import fuseprune.files
from fuseprune import __version__
from fuseprune.errors import DataError, PathNotFoundError
from fuseprune.pruning import SCHEMA_PATH, SCHEMA_VERSION, ModelFingerprint, PrunePlan

FINGERPRINT = ModelFingerprint("gpt2", "transformer.h", 6, 1234, "a" * 64, "b" * 64)


def sample_plan(**changes: Any) -> PrunePlan:
    """A 6-layer plan removing layers 4 then 1, with scores for two signals."""
    fields = dict(
        model=FINGERPRINT, strategy="block_influence", mode="iterative", removal_order=(4, 1),
        parameters={"remove": 2, "protect": ("first",), "seed": 0},
        signal_scores={"block_influence": (1.0, 0.2, 0.5, 0.7, 0.0, 0.9), "act_norm": (0.0, 1, 2, 3, 4, 5)},
    )
    return PrunePlan(**{**fields, **changes})


@pytest.fixture(scope="module")
def schema() -> dict:
    """The JSON Schema shipped in the package."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# --- round trip and schema ---------------------------------------------------------------------------


def test_plan_round_trips_through_json(tmp_path):
    plan = sample_plan(fused_scores=(0.1,) * 6, predicted_impact=(0.0, 0.5, 1, 2, 3, 4), measured={"nll": 1.5})
    path = plan.save(tmp_path / "plans" / "plan.json")
    assert PrunePlan.load(path) == plan
    data = json.loads(path.read_text())
    assert data["remove"] == [1, 4] and data["kept_layers"] == [0, 2, 3, 5] and data["removal_order"] == [4, 1]
    assert data["schema_version"] == SCHEMA_VERSION and data["fuseprune_version"] == __version__
    assert data["strategy"] == {"name": "block_influence", "mode": "iterative",
                                "parameters": {"remove": 2, "protect": ["first"], "seed": 0}}
    assert plan.kept_layers == (0, 2, 3, 5) and plan.remove == (1, 4) and plan.num_layers_after == 4


def test_written_plans_match_the_shipped_schema(schema, tmp_path):
    assert SCHEMA_PATH.parent.name == "pruning" and schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    for plan in (sample_plan(), sample_plan(fused_scores=(0.0,) * 6, measured={"quality": [0.8, 0.01]}),
                 sample_plan(removal_order=(), signal_scores={}, mode="one-shot")):
        data = json.loads(plan.save(tmp_path / "plan.json").read_text())
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(data)) == []
    broken = json.loads(sample_plan().save(tmp_path / "plan.json").read_text())
    broken["removal_order"] = [1, 1]
    broken["model"]["weights_sha256"] = "xyz"
    del broken["measured"]
    assert len(list(jsonschema.Draft202012Validator(schema).iter_errors(broken))) == 3


def test_summary_and_measured_results():
    plan = sample_plan().with_measured(quality=0.8)
    assert plan.measured == {"quality": 0.8} and plan.with_measured(nll=2.0).measured == {"quality": 0.8, "nll": 2.0}
    summary = plan.summary()
    assert summary["removed_layers"] == [1, 4] and summary["kept_layers"] == [0, 2, 3, 5]
    assert summary["teacher"]["weights_sha256"] == "b" * 64 and summary["num_layers_after"] == 4


# --- loader errors -----------------------------------------------------------------------------------


def _valid() -> dict:
    return sample_plan().to_dict()


def _edit(**changes: Any) -> dict:
    data = _valid()
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    return data


_DELETE = object()
BAD = {
    "malformed JSON": ('{"schema_version": 1,', "not valid JSON"),
    "not an object": ("[1, 2]", "must be an object; got list"),
    "missing field": (_edit(measured=_DELETE), "missing field\\(s\\) measured"),
    "extra field": (_edit(comment="hi"), "unknown field\\(s\\) 'comment'"),
    "newer schema": (_edit(schema_version=SCHEMA_VERSION + 1), "newer than this fuseprune .* upgrade fuseprune"),
    "old schema": (_edit(schema_version=0), "schema_version` must be at least 1"),
    "duplicate layers": (_edit(removal_order=[4, 1, 4], remove=[1, 4, 4]), "must not repeat layers; got \\[4\\]"),
    "layer out of range": (_edit(removal_order=[6, 1]), "between 0 and 5; got \\[6\\]"),
    "negative layer": (_edit(removal_order=[-1]), "between 0 and 5; got \\[-1\\]"),
    "removes every layer": (_edit(removal_order=list(range(6))), "removes every layer \\(6 of 6\\)"),
    "wrong kept_layers": (_edit(kept_layers=[0, 1, 2, 3]), "`kept_layers` does not match"),
    "wrong remove": (_edit(remove=[4, 1]), "`remove` does not match"),
    "short scores": (_edit(signal_scores={"x": [1.0]}), "one value per layer \\(6\\); got 1"),
    "bool index": (_edit(removal_order=[True]), "removal_order\\[0\\]` must be an integer; got True"),
    "bad mode": (_edit(strategy={"name": "x", "mode": "greedy", "parameters": {}}), "mode` must be one of"),
    "bad hash": (_edit(model={**_valid()["model"], "config_sha256": "nope"}), "sha256 hex digest"),
    "repeated key": ('{"a": 1, "a": 2}', "repeats the key 'a'"),
    "binary garbage": (b"\xff\xfe\x00garbage", "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_plans_give_one_line_errors(case, tmp_path):
    payload, message = BAD[case]
    path = tmp_path / "plan.json"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    with pytest.raises(DataError, match=message) as info:
        PrunePlan.load(path)
    assert "\n" not in str(info.value)


def test_non_finite_scores_are_refused():
    data = _valid()
    data["signal_scores"]["block_influence"][2] = float("nan")
    with pytest.raises(DataError, match="block_influence'\\]\\[2\\]` must be a finite number"):
        PrunePlan.from_json(json.dumps(data))


def test_missing_file(tmp_path):
    with pytest.raises(PathNotFoundError, match="does not exist"):
        PrunePlan.load(tmp_path / "nope.json")


# --- atomic writes -----------------------------------------------------------------------------------


class _HalfWriter:
    """A file handle that writes half of what it is given, then fails (a crash mid-write)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def write(self, text: str) -> int:
        self.handle.write(text[: len(text) // 2])
        self.handle.flush()
        raise OSError("disk full")


def test_an_interrupted_plan_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "plan.json"
    old = sample_plan().save(path).read_text()
    real_fdopen = os.fdopen
    monkeypatch.setattr(fuseprune.files.os, "fdopen", lambda *a, **k: _HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="disk full"):
        sample_plan(removal_order=(2,)).save(path)
    with pytest.raises(OSError, match="disk full"):
        sample_plan().save(tmp_path / "new.json")
    assert path.read_text() == old and not (tmp_path / "new.json").exists()
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["plan.json"]  # no temporary file left
