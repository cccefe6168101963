from __future__ import annotations

import pandas as pd
import pytest

from fuseprune.errors import DataError, PathNotFoundError
from fuseprune.fusion import FusionBank
from fuseprune.fusion.bank import state_rows


def test_state_rows_hold_depth_removed_fraction_and_normalised_target():
    rows = state_rows("iris", 1, 2, [0, 3, 5], {"taylor": [0.0, 1.0, 0.5]}, [0.2, 0.6, 0.4], total_layers=6)
    assert rows["layer"].tolist() == [0, 3, 5]
    assert rows["depth"].tolist() == [0.0, 0.5, 1.0]
    assert rows["removed_fraction"].tolist() == [pytest.approx(2 / 6)] * 3
    assert rows["target"].tolist() == pytest.approx([0.0, 1.0, 0.5])  # (impact - 0.2) / 0.4


def test_round_trip_keeps_rows_and_header(make_bank, tmp_path):
    bank = make_bank(lambda f: f["act_norm"])
    path = bank.save(tmp_path / "bank.csv")
    assert path.read_text().startswith('# fuseprune-bank {"made_by": "test", "version": 1}')
    loaded = FusionBank.load(path)
    pd.testing.assert_frame_equal(loaded.frame, bank.frame)
    assert loaded.meta == {"made_by": "test"} and loaded.datasets == ["a", "b", "c"]


def test_bad_banks_are_refused_naming_the_columns(make_bank, tmp_path):
    frame = make_bank(lambda f: f["act_norm"]).frame
    with pytest.raises(DataError, match="lacks column\\(s\\) target"):
        FusionBank(frame.drop(columns="target"))
    broken = frame.copy()
    broken.loc[3, "taylor"] = float("nan")
    with pytest.raises(DataError, match="column\\(s\\) taylor hold NaNs"):
        FusionBank(broken)
    with pytest.raises(PathNotFoundError, match="build one with `fuseprune fuse build-bank`"):
        FusionBank.load(tmp_path / "none.csv")
    (tmp_path / "plain.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="is not a fusion bank"):
        FusionBank.load(tmp_path / "plain.csv")
