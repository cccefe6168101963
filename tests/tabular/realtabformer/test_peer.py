"""REaLTabFormer itself loads our exports and samples valid rows (needs the side environment: make bench-peer).

Skipped, saying why, when the side environment is absent; ``make test`` leaves
these out (``-m "not peer"``), ``make bench-peer`` runs them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from fuseprune.errors import PeerNotFoundError
from fuseprune.tabular import TrainConfig, sample_rows, split_of, train_on_table
from fuseprune.tabular.realtabformer import export_realtabformer, peer_python
from fuseprune.tabular.realtabformer.translate import translate

from .conftest import FIXTURE

pytestmark = pytest.mark.peer
REPO = Path(__file__).resolve().parents[3]
SAMPLE = """
import contextlib, json, random, sys
import numpy as np, torch
from realtabformer import REaLTabFormer
with contextlib.redirect_stdout(sys.stderr):
    rtf = REaLTabFormer.load_from_dir(sys.argv[1])
    random.seed(0); np.random.seed(0); torch.manual_seed(0)
    rows = rtf.sample(n_samples=int(sys.argv[2]), gen_batch=100, device="cpu")
print(json.dumps({"dtypes": rows.dtypes.astype(str).to_dict(),
                  "rows": json.loads(rows.to_json(orient="split", index=False, double_precision=15))}))
"""


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return peer_python()
    except PeerNotFoundError as exc:
        pytest.skip(str(exc))


def realtabformer_sample(python: Path, folder: Path, n_rows: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """REaLTabFormer's load_from_dir + sample() in the side environment: its rows and their dtypes."""
    done = subprocess.run([str(python), "-c", SAMPLE, str(folder), str(n_rows)], capture_output=True, text=True,
                          timeout=600, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    payload = json.loads(done.stdout)
    rows = pd.DataFrame(payload["rows"]["data"], columns=payload["rows"]["columns"])
    return rows.astype({c: d for c, d in payload["dtypes"].items() if d != "object"}), payload["dtypes"]


def assert_in_vocabulary(codec, rows: pd.DataFrame) -> None:
    """Every value is one the vocabulary writes, at its precision: it encodes, and decodes back unchanged."""
    pd.testing.assert_frame_equal(codec.decode(codec.encode(rows)), rows, check_dtype=False)


def test_realtabformer_samples_our_export_of_the_imported_fixture_after_prune_and_distil(python, imported, tmp_path):
    from fuseprune.data import load_table
    from fuseprune.distill import DistillConfig
    from fuseprune.tabular import distill_tabular, make_tabular_plan, prune_tabular

    train, _ = split_of(imported, load_table(imported.info["data"]["source"]))
    plan = make_tabular_plan(imported, train, "block_influence", remove=1, n_rows=64)
    student, _ = distill_tabular(prune_tabular(imported, plan), imported, train, DistillConfig(max_epochs=1))
    folder = export_realtabformer(student, tmp_path / "rtf-student")
    assert sorted(p.name for p in folder.iterdir()) == [".fuseprune", "rtf_config.json", "rtf_model.pt"]
    rows, dtypes = realtabformer_sample(python, folder, 300)  # fuseprune's marker beside its files is no matter
    assert len(rows) == 300 and list(rows.columns) == ["survived", "sex", "age", "passengerClass"]
    assert dtypes == {"survived": "object", "sex": "object", "age": "float64", "passengerClass": "object"}
    assert set(rows["passengerClass"]) <= {"1st", "2nd", "3rd"} and set(rows["sex"]) <= {"female", "male"}
    assert_in_vocabulary(student.codec, rows)
    assert 0 < rows["age"].isna().mean() < 0.5
    assert rows["age"].dropna().map(lambda v: round(v, 4) == v).all()  # REaLTabFormer's precision: 4 decimals


def test_realtabformer_samples_our_export_of_a_model_fuseprune_trained(python, tmp_path):
    from fuseprune.data import load_table

    table = load_table("iris")
    bundle = train_on_table(table, TrainConfig(preset="tiny", max_epochs=3, learning_rate=5e-3))
    folder = export_realtabformer(bundle, tmp_path / "rtf-iris")
    rows, dtypes = realtabformer_sample(python, folder, 300)
    ours = sample_rows(bundle, 10, seed=0)
    assert list(rows.columns) == list(table.frame.columns) and len(rows) == 300
    assert dtypes == ours.dtypes.astype(str).to_dict() == table.frame.dtypes.astype(str).to_dict()
    assert set(rows["Species"]) <= {"setosa", "versicolor", "virginica"}
    assert_in_vocabulary(translate(bundle.codec)[0], rows)
    numbers = rows.drop(columns="Species")
    assert numbers.map(lambda v: round(v, 1) == v).all().all()  # one decimal, as the data has
    assert (numbers.min() >= 0).all() and (numbers.max() < 10).all()  # one digit before the point


def test_peer_sample_prints_one_json_line(python, tmp_path):
    done = subprocess.run([str(python), str(REPO / "bench" / "peer" / "peer_sample.py"), str(FIXTURE), "--rows", "40",
                           "--batch", "16", "--seed", "1", "--out", str(tmp_path / "rows.csv")],
                          capture_output=True, text=True, timeout=600, check=False,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    result = json.loads(lines[0])
    assert set(result) == {"rows_per_second", "rows", "seconds", "invalid_discarded"}
    assert result["rows"] == 40 and result["seconds"] > 0 and result["invalid_discarded"] >= 0
    assert abs(result["rows_per_second"] - 40 / result["seconds"]) < 1e-6 * result["rows_per_second"]
    assert len(pd.read_csv(tmp_path / "rows.csv")) == 40
