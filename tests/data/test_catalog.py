"""The bundled data sets: registered by name, loadable offline, shipped as their sources publish them."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.api import types as ptypes

from fuseprune.data import DATASETS, DEFAULT_DATASET, load_table
from fuseprune.data.catalog import WISCONSIN_COLUMNS

SCORES = list(WISCONSIN_COLUMNS.values())


@pytest.fixture(scope="module")
def biopsy() -> pd.DataFrame:
    return DATASETS.get("breast-cancer-wisconsin").load()


def test_at_least_nine_sets_are_registered_and_the_default_is_one_of_them():
    names = DATASETS.names()
    assert len(names) >= 9
    assert len(set(names)) == len(names)
    assert DEFAULT_DATASET == "breast-cancer-wisconsin"
    assert DEFAULT_DATASET in names


def test_wisconsin_shape_and_column_order(biopsy):
    assert biopsy.shape == (699, 10)
    assert list(biopsy.columns) == [
        "clump_thickness",
        "cell_size_uniformity",
        "cell_shape_uniformity",
        "marginal_adhesion",
        "epithelial_cell_size",
        "bare_nuclei",
        "bland_chromatin",
        "normal_nucleoli",
        "mitoses",
        "class",
    ]


def test_wisconsin_scores_are_integers_from_1_to_10(biopsy):
    for column in SCORES:
        values = biopsy[column].dropna()
        assert ptypes.is_integer_dtype(biopsy[column].dtype), column
        assert values.min() == 1 and values.max() == 10, column


def test_wisconsin_class_is_benign_or_malignant(biopsy):
    # the published split of the 699 biopsies
    assert biopsy["class"].value_counts().to_dict() == {"benign": 458, "malignant": 241}


def test_wisconsin_keeps_its_16_missing_bare_nuclei_as_missing_integers(biopsy):
    missing = biopsy.isna().sum()
    assert missing["bare_nuclei"] == 16
    assert missing.drop("bare_nuclei").sum() == 0
    # nullable integers: not turned into floats, not filled in
    assert str(biopsy["bare_nuclei"].dtype) == "Int64"
    assert biopsy["bare_nuclei"].dropna().between(1, 10).all()


def test_default_table_kinds_treat_scores_as_numbers_and_class_as_a_label():
    table = load_table(DEFAULT_DATASET)
    assert table.name == DEFAULT_DATASET
    assert table.kinds == {**{c: "numerical" for c in SCORES}, "class": "categorical"}


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_bundled_set_loads_offline(name, monkeypatch):
    # any attempt to reach the network fails the test
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"data set {name!r} tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    info = DATASETS.get(name)
    assert info.name == name and info.description and info.source
    table = load_table(name)
    frame = table.frame
    assert len(frame) >= 10 and frame.shape[1] >= 2
    assert set(table.kinds) == set(frame.columns)
    # a fresh RangeIndex: row names are not carried over as an index either
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0


@pytest.mark.parametrize("name", DATASETS.names())
def test_no_bundled_set_has_an_identifier_column(name):
    frame = DATASETS.get(name).load()
    lowered = {str(c).lower() for c in frame.columns}
    assert not lowered & {"rownames", "id", "unnamed: 0", "index"}
    for column in frame.columns:
        values = frame[column].dropna()
        # a column with a different value on every row identifies rows instead of describing them;
        # text labels or a 1..n counter are the usual suspects
        if ptypes.is_object_dtype(values.dtype) or ptypes.is_string_dtype(values.dtype):
            assert values.nunique() < len(frame), column
        if ptypes.is_integer_dtype(values.dtype):
            assert sorted(values) != list(range(1, len(frame) + 1)), column


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_data_set_names_a_target_column_with_values_to_predict(name):
    from fuseprune.data import target_of

    info = DATASETS.get(name)
    frame = info.load()
    assert target_of(name) == info.target and info.target in frame.columns
    assert frame[info.target].dropna().nunique() >= 2
    assert target_of("some/table.csv") is None
