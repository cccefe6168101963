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


def test_infinite_or_repeated_rows_are_refused(make_bank):
    frame = make_bank(lambda f: f["act_norm"]).frame
    for column, value in (("taylor", float("inf")), ("impact", -float("inf"))):
        broken = frame.copy()
        broken.loc[2, column] = value
        with pytest.raises(DataError, match=f"column\\(s\\) {column} hold NaNs, infinities or non-numbers"):
            FusionBank(broken)
    with pytest.raises(DataError, match="holds layer .* twice; remove the repeated rows"):
        FusionBank(pd.concat([frame, frame.iloc[:1]], ignore_index=True))
    with pytest.raises(DataError, match="column\\(s\\) layer must hold non-negative integers"):
        FusionBank(frame.assign(layer=frame["layer"] + 0.5))


def test_files_that_are_not_bank_text_are_refused_in_one_line(make_bank, tmp_path):
    import gzip

    good = make_bank(lambda f: f["act_norm"]).save(tmp_path / "bank.csv")
    cases = {
        "bank.csv.gz": (gzip.compress(good.read_bytes()), "gzip-compressed file; decompress it first"),
        "latin1.csv": (b"# fuseprune-bank {\"version\": 1, \"by\": \"caf\xe9\"}\n", "it is not UTF-8 text"),
        "version.csv": (good.read_bytes().replace(b'"version": 1', b'"version": 9', 1), "has version 9"),
        "meta.csv": (b"# fuseprune-bank [1]\n" + good.read_bytes().split(b"\n", 1)[1], "has version [1]"),
        "columns.csv": (b'# fuseprune-bank {"version": 1}\na,b\n1,2\n', "lacks column(s) dataset, seed"),
        "header-only.csv": (b'# fuseprune-bank {"version": 1}\n', "cannot be read"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError) as exc:
            FusionBank.load(tmp_path / name)
        assert message in str(exc.value) and "\n" not in str(exc.value), name
