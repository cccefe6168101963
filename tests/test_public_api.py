from __future__ import annotations

import fuseprune


def test_every_public_name_resolves_and_all_is_sorted():
    assert fuseprune.__all__ == sorted(fuseprune.__all__)
    for name in fuseprune.__all__:
        assert getattr(fuseprune, name) is not None, name


def test_fusion_strategies_are_known_to_the_planner():
    from fuseprune.pruning import list_strategies

    assert {"fusion-lr", "fusion-rf", "random", "ablation", "block_influence"} <= set(list_strategies())
