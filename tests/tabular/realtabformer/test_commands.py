"""import-rtf records how its table was read, so later commands reread it without --data."""

from __future__ import annotations

import json

from fuseprune.cli import main
from fuseprune.data import load_table

from .conftest import FIXTURE, fixture_data


def test_an_imported_model_rereads_its_table_as_it_was_read(tmp_path, capsys):
    frame = fixture_data()
    frame.insert(0, "id", range(1, len(frame) + 1))  # an identifier: refused unless dropped
    frame.to_csv(tmp_path / "titanic.csv", sep=";", index=False)
    model = tmp_path / "model"
    assert main(["import-rtf", str(FIXTURE), "--data", str(tmp_path / "titanic.csv"), "--delimiter", ";",
                 "--drop-column", "id", "--holdout", "0.25", "--split-seed", "3", "--out", str(model)]) == 0
    data = json.loads((model / "fuseprune.json").read_text())["data"]
    assert data["source"] == str(tmp_path / "titanic.csv") and (data["holdout"], data["split_seed"]) == (0.25, 3)
    assert data["read"] == {"delimiter": ";", "drop_columns": ["id"], "column_types": {}}
    assert data["sha256"] == load_table(FIXTURE / "data.csv").sha256  # the same rows, whatever the file
    capsys.readouterr()

    assert main(["score", str(model), "--signals", "block_influence", "--rows", "32", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_layers"] == 3
    assert (
        main(["plan", str(model), "--strategy", "random", "--remove", "1", "--out", str(tmp_path / "plan.json")]) == 0
    )

    frame.loc[0, "age"] = 99.5  # the table changed since the import: its holdout rows cannot be trusted
    frame.to_csv(tmp_path / "titanic.csv", sep=";", index=False)
    capsys.readouterr()
    assert main(["score", str(model), "--signals", "block_influence", "--rows", "32"]) == 2
    assert "is not what the model was trained on" in capsys.readouterr().err
