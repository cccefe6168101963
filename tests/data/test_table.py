"""Loading tables by name or from CSV, their column kinds, their one-line errors, and the seeded split."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fuseprune.data import DATASETS, load_table, parse_column_overrides, split_frame
from fuseprune.data.table import check_frame
from fuseprune.errors import DataError, FusepruneError, PathNotFoundError, UnknownNameError


def rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"row": range(n), "value": [i % 7 for i in range(n)]})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    assert isinstance(exc.value, FusepruneError)
    return message


# --- split_frame ----------------------------------------------------------------------------


def test_default_holdout_of_699_rows_is_140_and_559():
    train, hold = split_frame(rows(699))
    # 0.2 * 699 = 139.8, rounded to 140
    assert (len(train), len(hold)) == (559, 140)


def test_split_is_disjoint_covers_every_row_and_keeps_row_order():
    frame = rows(699)
    train, hold = split_frame(frame, 0.2, seed=3)
    assert set(train["row"]).isdisjoint(hold["row"])
    assert sorted([*train["row"], *hold["row"]]) == list(range(699))
    assert train["row"].is_monotonic_increasing and hold["row"].is_monotonic_increasing
    assert list(train.index) == list(range(559)) and list(hold.index) == list(range(140))
    # every row keeps its own values: value is row % 7 wherever the row went
    assert (train["value"] == train["row"] % 7).all() and (hold["value"] == hold["row"] % 7).all()


def test_same_seed_same_split_other_seed_other_split():
    frame = rows(699)
    first, second = split_frame(frame, seed=11), split_frame(frame, seed=11)
    pd.testing.assert_frame_equal(first[1], second[1])
    pd.testing.assert_frame_equal(first[0], second[0])
    other = split_frame(frame, seed=12)
    assert set(other[1]["row"]) != set(first[1]["row"])


def test_table_split_is_split_frame_of_its_rows():
    table = load_table("iris")
    hold = table.split(0.5, seed=4)[1]
    pd.testing.assert_frame_equal(hold, split_frame(table.frame, 0.5, seed=4)[1])
    assert len(hold) == 75


@pytest.mark.parametrize("holdout", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_holdout_outside_the_open_unit_interval_is_rejected(holdout):
    with pytest.raises(DataError) as exc:
        split_frame(rows(699), holdout)
    assert "between 0 and 1" in one_line(exc)


@pytest.mark.parametrize("holdout", [0.0001, 0.9999])
def test_holdout_that_leaves_a_side_empty_is_rejected(holdout):
    # 699 * 0.0001 rounds to 0 held-out rows; 699 * 0.9999 rounds to all 699
    with pytest.raises(DataError) as exc:
        split_frame(rows(699), holdout)
    assert "empty split" in one_line(exc)


# --- load_table on CSV files ----------------------------------------------------------------


CSV = "age,city,smoker,score\n" + "".join(
    f"{20 + i},{['Oslo', 'Lima', 'Pune'][i % 3]},{['True', 'False'][i % 2]},{i * 1.5}\n" for i in range(12)
)


def test_csv_kinds_are_inferred_from_its_values(tmp_path):
    table = load_table(write(tmp_path / "people.csv", CSV))
    assert table.name == str(tmp_path / "people.csv")
    assert table.frame.shape == (12, 4)
    assert table.frame["age"].tolist() == list(range(20, 32))
    assert table.frame["smoker"].tolist()[:2] == [True, False]
    assert table.kinds == {"age": "numerical", "city": "categorical", "smoker": "boolean", "score": "numerical"}


def test_csv_kind_overrides_win_over_inference(tmp_path):
    path = write(tmp_path / "people.csv", CSV)
    table = load_table(str(path), {"age": "categorical", "smoker": "categorical"})
    assert table.kinds == {"age": "categorical", "city": "categorical", "smoker": "categorical", "score": "numerical"}


def test_overrides_from_the_command_line_form(tmp_path):
    overrides = parse_column_overrides(["age=categorical", "score=numerical"])
    assert overrides == {"age": "categorical", "score": "numerical"}
    assert parse_column_overrides(None) == {}
    # only the last '=' separates the kind, so a name may contain '='
    assert parse_column_overrides(["a=b=boolean"]) == {"a=b": "boolean"}
    table = load_table(write(tmp_path / "people.csv", CSV), overrides)
    assert table.kinds["age"] == "categorical"


def test_bundled_name_loads_the_catalog_frame():
    table = load_table("iris")
    pd.testing.assert_frame_equal(table.frame, DATASETS.get("iris").load())


# --- errors ----------------------------------------------------------------------------------


def test_unknown_name_lists_bundled_names_and_mentions_csv():
    with pytest.raises(UnknownNameError) as exc:
        load_table("no-such-table")
    message = one_line(exc)
    assert "'no-such-table'" in message
    assert all(name in message for name in DATASETS.names())
    assert "CSV" in message
    assert isinstance(exc.value, KeyError)


def test_missing_csv_file(tmp_path):
    with pytest.raises(PathNotFoundError) as exc:
        load_table(tmp_path / "absent.csv")
    assert "absent.csv" in one_line(exc)
    assert isinstance(exc.value, FileNotFoundError)


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_empty_csv(tmp_path, text):
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "empty.csv", text))
    assert "empty" in one_line(exc)


def test_csv_with_a_header_and_no_rows(tmp_path):
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "header.csv", "a,b\n"))
    assert "0 rows" in one_line(exc)


def test_csv_with_too_few_rows(tmp_path):
    text = "a,b\n" + "".join(f"{i},{i}\n" for i in range(9))
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "nine.csv", text))
    assert "9 rows" in one_line(exc) and "at least 10" in str(exc.value)
    # ten rows are enough
    assert len(load_table(write(tmp_path / "ten.csv", text + "9,9\n")).frame) == 10


def test_csv_with_duplicate_column_names(tmp_path):
    text = "a,b,a\n" + "".join(f"{i},{i},{i}\n" for i in range(12))
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "dup.csv", text))
    assert "duplicate" in one_line(exc) and "['a']" in str(exc.value)
    # a name that merely looks like pandas' renaming of a duplicate is a name like any other
    text = "a,a.1\n" + "".join(f"{i},{i}\n" for i in range(12))
    assert list(load_table(write(tmp_path / "fine.csv", text)).frame.columns) == ["a", "a.1"]


def test_frame_with_duplicate_column_names():
    frame = pd.DataFrame([[i, i] for i in range(12)], columns=["a", "a"])
    with pytest.raises(DataError) as exc:
        check_frame(frame, "frame")
    assert "duplicate" in one_line(exc) and "'a'" in str(exc.value)


def test_csv_with_an_all_empty_column(tmp_path):
    text = "a,blank,b\n" + "".join(f"{i},,{i}\n" for i in range(12))
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "blank.csv", text))
    assert "no values" in one_line(exc) and "blank" in str(exc.value)


def test_override_naming_a_missing_column(tmp_path):
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "people.csv", CSV), {"height": "numerical"})
    message = one_line(exc)
    assert "'height'" in message and "age, city, smoker, score" in message


def test_override_with_an_unknown_kind(tmp_path):
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "people.csv", CSV), {"age": "ordinal"})
    message = one_line(exc)
    assert "'ordinal'" in message and "categorical, numerical, boolean" in message


@pytest.mark.parametrize("item", ["age", "=numerical"])
def test_override_not_of_the_form_name_equals_kind(item):
    with pytest.raises(DataError) as exc:
        parse_column_overrides([item])
    assert "NAME=KIND" in one_line(exc) and repr(item) in str(exc.value)


def test_date_columns_are_rejected_with_advice():
    frame = pd.DataFrame({"when": pd.date_range("2020-01-01", periods=12), "x": range(12)})
    from fuseprune.data import infer_column_kinds

    with pytest.raises(DataError) as exc:
        infer_column_kinds(frame)
    assert "'when'" in one_line(exc)
