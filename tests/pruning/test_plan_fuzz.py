"""The plan loader never raises anything but a FusepruneError: random bytes, random JSON, mutated plans."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuseprune.errors import FusepruneError
from fuseprune.pruning import ModelFingerprint, PrunePlan

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = PrunePlan(
    model=ModelFingerprint("gpt2", "transformer.h", 4, 99, "c" * 64, "d" * 64),
    strategy="random", mode="one-shot", removal_order=(3, 0), parameters={"remove": 2},
    signal_scores={"random": (0.5, 0.1, 0.9, 0.0)}, fused_scores=(1.0, 0.0, 0.5, 0.25),
).to_dict()

scalars = st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner, max_size=6),
    max_leaves=30,
)


def load_or_refuse(load: Any, payload: Any) -> None:
    """Call the loader; success or a FusepruneError are the only acceptable outcomes."""
    try:
        plan = load(payload)
    except FusepruneError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(plan, PrunePlan)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(payload):
    load_or_refuse(PrunePlan.from_json, payload)


@FUZZ
@given(json_values)
def test_random_json(value):
    load_or_refuse(PrunePlan.from_dict, value)
    load_or_refuse(PrunePlan.from_json, json.dumps(value))


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        found += [p for key, item in value.items() for p in _paths(item, (*prefix, key))]
    elif isinstance(value, list):
        found += [p for index, item in enumerate(value) for p in _paths(item, (*prefix, index))]
    return found


PATHS = [p for p in _paths(VALID) if p]


@FUZZ
@given(st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "add"]), json_values, st.text(max_size=8))
def test_mutated_valid_plans(path, action, value, new_key):
    data = json.loads(json.dumps(VALID))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[new_key] = value
    else:
        parent.insert(last, value)
    load_or_refuse(PrunePlan.from_dict, data)
    load_or_refuse(PrunePlan.from_json, json.dumps(data))


def test_the_valid_plan_loads():
    assert PrunePlan.from_dict(VALID).removal_order == (3, 0)


def test_deeply_nested_json_is_refused_cleanly():
    load_or_refuse(PrunePlan.from_json, "[" * 100_000 + "]" * 100_000)
    load_or_refuse(PrunePlan.from_json, '{"schema_version": 1' + "0" * 5000 + "}")
