"""Identifier-like columns are refused unless dropped or declared; declared kinds must fit the values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fuseprune.data import DATASETS, identifier_columns, load_table
from fuseprune.data.columns import MIN_IDENTIFIER_ROWS, apply_column_types
from fuseprune.errors import DataError, FusepruneError

N = 30


def frame(**columns: object) -> pd.DataFrame:
    """N rows: a low-cardinality ``group`` column plus the given ones."""
    return pd.DataFrame({"group": [i % 3 for i in range(N)], **columns})


def message(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and isinstance(exc.value, FusepruneError)
    return text


# --- the rule, on hand-made frames ------------------------------------------------------------------


def test_a_name_column_is_an_identifier():
    assert identifier_columns(frame(name=[f"person {i}" for i in range(N)])) == ["name"]


def test_an_integer_counter_from_1_to_n_is_an_identifier():
    assert identifier_columns(frame(row=list(range(1, N + 1)))) == ["row"]


def test_a_shuffled_sequential_id_from_any_start_is_an_identifier():
    ids = np.random.default_rng(0).permutation(np.arange(1000, 1000 + N))
    assert identifier_columns(frame(id=ids)) == ["id"]
    # as floats with a missing value (how pandas reads such a column): 29 distinct integers over a range of 30
    with_gap = pd.Series(ids, dtype=float)
    with_gap[4] = np.nan
    assert identifier_columns(frame(id=with_gap)) == ["id"]


def test_sequential_ids_with_a_few_rows_deleted_are_identifiers_sparse_codes_are_not():
    # 30 of 33 numbers (91 %) are used: any number drawn from 1..33 is most likely a real id
    assert identifier_columns(frame(id=[i for i in range(1, 34) if i not in (5, 17, 30)])) == ["id"]
    # 30 of 34 (88 %): below the 90 % density, a column of codes rather than a counter
    assert identifier_columns(frame(id=[i for i in range(1, 35) if i not in (5, 17, 30, 31)])) == []
    assert identifier_columns(frame(code=[10 * i for i in range(N)])) == []


def test_low_cardinality_columns_do_not_trip():
    columns = frame(city=[["Oslo", "Lima", "Pune"][i % 3] for i in range(N)], flag=[i % 2 == 0 for i in range(N)],
                    score=[i % 10 for i in range(N)])
    assert identifier_columns(columns) == []


def test_distinct_measurements_are_not_identifiers():
    # real numbers that never repeat, and integers that are distinct but not a consecutive range
    columns = frame(weight=[50 + i * 0.37 for i in range(N)], income=[1000 + 7 * i for i in range(N)])
    assert identifier_columns(columns) == []


def test_a_text_column_with_one_repeat_is_not_an_identifier():
    names = [f"person {i}" for i in range(N)]
    names[-1] = names[0]
    assert identifier_columns(frame(name=names)) == []


def test_small_tables_are_never_called_identifiers():
    small = pd.DataFrame({"name": [f"p{i}" for i in range(MIN_IDENTIFIER_ROWS - 1)]})
    assert identifier_columns(small) == []
    assert identifier_columns(pd.DataFrame({"name": [f"p{i}" for i in range(MIN_IDENTIFIER_ROWS)]})) == ["name"]


def test_declared_columns_are_not_identifiers():
    columns = frame(name=[f"person {i}" for i in range(N)], row=list(range(N)))
    assert identifier_columns(columns, declared=["name"]) == ["row"]


@pytest.mark.parametrize("name", DATASETS.names())
def test_no_bundled_data_set_trips_the_detector(name):
    assert identifier_columns(DATASETS.get(name).load()) == []


# --- what load_table does with them ------------------------------------------------------------------


def write_csv(path: Path, table: pd.DataFrame) -> Path:
    table.to_csv(path, index=False)
    return path


def test_a_csv_with_an_id_and_a_name_is_refused_naming_both_and_the_fixes(tmp_path):
    path = write_csv(tmp_path / "patients.csv", frame(id=range(1, N + 1), name=[f"p{i}" for i in range(N)]))
    with pytest.raises(DataError) as exc:
        load_table(path)
    text = message(exc)
    assert "'id', 'name'" in text
    assert "--drop-column id --drop-column name" in text and "--column-type id=categorical" in text


def test_dropping_the_identifiers_loads_the_rest(tmp_path):
    path = write_csv(tmp_path / "patients.csv", frame(id=range(1, N + 1), name=[f"p{i}" for i in range(N)]))
    table = load_table(path, drop_columns=["id", "name"])
    assert list(table.frame.columns) == ["group"] and table.read.drop_columns == ("id", "name")


def test_declaring_an_identifier_keeps_it(tmp_path):
    path = write_csv(tmp_path / "patients.csv", frame(name=[f"p{i}" for i in range(N)]))
    table = load_table(path, {"name": "categorical"})
    assert table.kinds["name"] == "categorical" and table.frame["name"].nunique() == N


def test_dropping_a_column_that_is_not_there_is_refused(tmp_path):
    path = write_csv(tmp_path / "t.csv", frame(x=[i % 4 for i in range(N)]))
    with pytest.raises(DataError) as exc:
        load_table(path, drop_columns=["nope"])
    assert "'nope'" in message(exc) and "group, x" in str(exc.value)


def test_bundled_sets_take_drop_columns_too():
    table = load_table("iris", drop_columns=["Species"])
    assert "Species" not in table.frame.columns and table.frame.shape == (150, 4)


# --- declared kinds are checked against the values ---------------------------------------------------


def test_text_declared_numerical_is_refused_showing_some_values():
    columns = frame(city=[["Oslo", "Lima", "Pune", "Rome"][i % 4] for i in range(N)])
    with pytest.raises(DataError) as exc:
        apply_column_types(columns, {"city": "numerical"})
    text = message(exc)
    assert "'city' is declared numerical" in text and "30 of 30 values are not numbers" in text
    assert "'Oslo', 'Lima', 'Pune', ..." in text


def test_numbers_written_as_text_declared_numerical_become_numbers():
    columns = frame(dose=[" 1.5", "2", "1e1", None] * 7 + ["3", "4"])
    converted = apply_column_types(columns, {"dose": "numerical"})
    assert converted["dose"].tolist()[:3] == [1.5, 2.0, 10.0] and converted["dose"].isna().sum() == 7


def test_one_bad_value_among_numbers_is_named():
    values = [str(i % 5) for i in range(N)]
    values[7] = "n/a?"
    with pytest.raises(DataError) as exc:
        apply_column_types(frame(dose=values), {"dose": "numerical"})
    assert "1 of 30 values" in message(exc) and "'n/a?'" in str(exc.value)


def test_boolean_with_more_than_two_values_is_refused():
    with pytest.raises(DataError) as exc:
        apply_column_types(frame(level=[i % 3 for i in range(N)]), {"level": "boolean"})
    assert "declared boolean but holds 3 distinct values" in message(exc)


def test_boolean_with_two_values_that_are_not_true_or_false_is_refused():
    with pytest.raises(DataError) as exc:
        apply_column_types(frame(city=[["Oslo", "Lima"][i % 2] for i in range(N)]), {"city": "boolean"})
    assert "not true/false" in message(exc) and "'Oslo', 'Lima'" in str(exc.value)


@pytest.mark.parametrize("values", [["yes", "no"], ["Y", "N"], [0, 1], [True, False], ["TRUE", "false"], [1.0, 0.0]])
def test_boolean_like_values_may_be_declared_boolean(values):
    columns = frame(flag=[values[i % 2] for i in range(N)])
    pd.testing.assert_frame_equal(apply_column_types(columns, {"flag": "boolean"}), columns)


def test_anything_may_be_declared_categorical():
    columns = frame(weight=[50 + i * 0.37 for i in range(N)])
    pd.testing.assert_frame_equal(apply_column_types(columns, {"weight": "categorical"}), columns)


def test_declared_kinds_are_checked_when_a_csv_is_loaded(tmp_path):
    path = write_csv(tmp_path / "t.csv", frame(city=[["Oslo", "Lima"][i % 2] for i in range(N)]))
    with pytest.raises(DataError) as exc:
        load_table(path, {"city": "numerical"})
    assert "'city' is declared numerical" in message(exc)
