"""The candidates of a search: single settings per method, and combinations of those that kept the target."""

from __future__ import annotations

import pytest

from fuseprune.errors import ConfigError, UnknownNameError
from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.grid import Candidate, combined_candidates, removed_layers, single_candidates


def config(**changes):
    return ExploreConfig(model="teacher", data="breast-cancer-wisconsin", **changes)


def names(candidates):
    return [c.name for c in candidates]


def test_depth_fractions_become_layer_counts_rounded_within_one_and_all_but_one():
    assert [removed_layers(f, 6) for f in (0.25, 0.5, 0.9)] == [2, 3, 5]  # 1.5 -> 2, 3, 5.4 -> 5
    assert [removed_layers(f, 2) for f in (0.25, 0.5, 0.9)] == [1, 1, 1]  # at least one, at most one of two


def test_single_candidates_of_every_method_weakest_first():
    found = single_candidates(config(methods=("int8", "svd", "depth")), layers=6)
    assert names(found) == ["depth(remove=2,strategy=tail)", "depth(remove=3,strategy=tail)",
                            "svd(fraction=0.5)", "svd(fraction=0.25)", "int8"]


def test_depth_settings_that_remove_as_many_layers_are_one_candidate():
    assert names(single_candidates(config(methods=("depth",)), layers=2)) == ["depth(remove=1,strategy=tail)"]


def test_combinations_take_the_strongest_setting_that_kept_the_target_alone():
    search = config(methods=("depth", "sparsity", "svd", "int8"), sparsity=(0.3, 0.7), target_quality=0.9)
    quality = {  # teacher quality 1.0: the target is 0.9
        "depth(remove=2,strategy=tail)": 0.95, "depth(remove=3,strategy=tail)": 0.91,
        "sparsity(sparsity=0.3)": 0.97, "sparsity(sparsity=0.7)": 0.5,
        "svd(fraction=0.5)": 0.85, "svd(fraction=0.25)": 0.8,  # svd never reaches the target: left out
        "int8": 0.99,
    }
    records = {name: {"quality": q} for name, q in quality.items()}
    found = combined_candidates(search, 6, records, teacher_quality=1.0)
    assert names(found) == [
        "sparsity(sparsity=0.3)+int8",
        "depth(remove=3,strategy=tail)+int8",
        "depth(remove=3,strategy=tail)+sparsity(sparsity=0.3)",
        "depth(remove=3,strategy=tail)+sparsity(sparsity=0.3)+int8",
    ]
    assert all(isinstance(c, Candidate) and c.methods[-1] != "depth" for c in found)


def test_no_combinations_when_told_so_or_when_one_method_passes():
    records = {"depth(remove=2,strategy=tail)": {"quality": 1.0}, "int8": {"quality": 1.0}}
    assert combined_candidates(config(methods=("depth", "int8"), combine=0), 6, records, 1.0) == []
    assert combined_candidates(config(methods=("depth",)), 6, records, 1.0) == []


def test_unknown_method_is_refused_listing_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown compression method 'prune'; known: all, depth, sparsity"):
        config(methods=("depth", "prune"))


@pytest.mark.parametrize("target", [0.0, -0.5, 1.01])
def test_a_target_outside_zero_to_one_is_refused(target):
    with pytest.raises(ConfigError, match="`target_quality` must be greater than 0.0 and at most 1.0"):
        config(target_quality=target)


def test_a_sparsity_of_one_is_refused():
    with pytest.raises(ConfigError, match=r"`sparsity` must be at least 0 and below 1; got 1.0"):
        config(sparsity=(0.5, 1.0))


def test_the_config_round_trips_through_json_values():
    search = config(methods=("depth", "int8"), quality_seeds=(0, 1))
    assert ExploreConfig.from_dict(search.to_dict()) == search
    assert search.methods == ("depth", "int8")
