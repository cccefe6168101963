"""codec.json is checked field by field before anything is sized from it; each mistake is one line naming it."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from fuseprune.errors import CodecError
from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.schema import MAX_DECIMALS, MAX_DIGITS

# "size" is written digit by digit (-12.5 .. 301.25: width 5, 2 decimals, signed); "colour" has one token per value.
FRAME = pd.DataFrame({"size": [-12.5, 3.0, 301.25, 7.75], "colour": pd.Categorical(["red", "blue", "red", None])})
CODEC = TableCodec.fit(FRAME, {"size": "numerical", "colour": "categorical"}, max_values=2)
PAYLOAD = json.loads(json.dumps(CODEC.to_dict()))


def test_the_fitted_codec_is_what_the_cases_below_assume():
    size, colour = PAYLOAD["columns"]
    assert (size["encoding"], size["width"], size["decimals"], size["signed"]) == ("digits", 5, 2, True)
    assert (size["positive"], size["negative"]) == ([300, 30125], [1250, 1250])
    assert (colour["encoding"], colour["values"], colour["has_na"]) == ("values", ["blue", "red"], True)
    assert TableCodec.from_dict(PAYLOAD) == CODEC


def changed(column: int, **fields) -> dict:
    payload = copy.deepcopy(PAYLOAD)
    payload["columns"][column].update(fields)
    return payload


def refused(payload) -> str:
    with pytest.raises(CodecError) as exc:
        TableCodec.from_dict(payload)
    assert "\n" not in str(exc.value)
    return str(exc.value)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (changed(0, encoding="bogus"), "column 'size': `encoding` must be one of values, digits; got 'bogus'"),
        (changed(0, width=10**9), "`width` must be between 1 and 15; got 1000000000"),
        (changed(0, width=0), "`width` must be between 1 and 15; got 0"),
        (changed(0, decimals=MAX_DECIMALS + 1), f"`decimals` must be between 0 and {MAX_DECIMALS}; got 325"),
        (changed(0, decimals=-1), "`decimals` must be between 0 and 324; got -1"),
        (changed(0, width="5"), "`width` must be an integer; got '5'"),
        (changed(0, width=5.0), "`width` must be an integer; got 5.0"),
        (changed(0, width=True), "`width` must be an integer; got True"),
        (changed(0, signed="yes"), "`signed` must be true or false; got 'yes'"),
        (changed(0, kind="date"), "`kind` must be one of categorical, numerical, boolean; got 'date'"),
        (changed(0, dtype="datetime64[ns]"), "`dtype` must be a pandas dtype of numbers, booleans, text or"),
        (changed(0, dtype="no-such-type"), "`dtype` must be a pandas dtype"),
        (changed(0, dtype="object"), "a digits column must be numerical with an integer or float dtype"),
        (changed(0, positive=[300, 10**5]), "`positive` must be [low, high] with 0 <= low <= high < 10**width"),
        (changed(0, positive=[5, 1]), "`positive` must be [low, high]"),
        (changed(0, positive=[1, 2, 3]), "`positive` must be [low, high]"),
        (changed(0, negative=None), "`signed` must be true exactly when `negative` bounds are given"),
        (changed(0, positive=None, negative=None, signed=False), "needs `positive` or `negative` bounds"),
        (changed(0, values=[1.5]), "`values` must be [] for a digits column"),
        (changed(0, colour="red"), "codec column 0 has unknown field 'colour'"),
        (changed(1, encoding="digits"), "a digits column must be numerical"),
        (changed(1, width=3), "`width` must be 0 for a values column; got 3"),
        (changed(1, values=["red", "red"]), "`values` lists 'red' twice"),
        (changed(1, values=["red", "green"]), "value 'green' is not one of the column's `categories`"),
        (changed(1, values=[], has_na=False), "a values column needs at least one value or `has_na`"),
        (changed(1, values=[["nested"]]), "`values` entry ['nested'] does not fit dtype 'category'"),
        (changed(1, dtype="int8", categories=None, values=[1, 300]), "`values` entry 300 does not fit dtype 'int8'"),
        (changed(1, dtype="bool", categories=None, values=[0, 1]), "`values` entry 0 does not fit dtype 'bool'"),
        (changed(1, dtype="float64", categories=None, values=[1.5, "x"]), "entry 'x' does not fit dtype 'float64'"),
        (changed(1, categories=None, ordered=True), "`ordered` needs `categories`"),
        (changed(1, name=7), "codec column 1: `name` must be a string; got 7"),
        (changed(1, name="size"), "codec names column 'size' twice"),
        ({**PAYLOAD, "schema_version": 2}, "schema_version must be 1; got 2"),
        ({**PAYLOAD, "extra": 1}, "codec has unknown field 'extra'"),
        ({**PAYLOAD, "columns": []}, "codec `columns` must be a non-empty list"),
        ({**PAYLOAD, "columns": [[1, 2]]}, "codec column 0 must be a JSON object; got list"),
        ([1, 2], "a codec must be a JSON object; got list"),
    ],
)
def test_schema_violations_are_named(payload, message):
    assert message in refused(payload)


def test_a_missing_required_field_is_named():
    payload = copy.deepcopy(PAYLOAD)
    del payload["columns"][1]["kind"]
    assert "codec column 1 lacks field 'kind'" in refused(payload)


def test_the_limits_are_the_ones_fitting_keeps():
    assert MAX_DIGITS == 15  # a 15-digit integer is an exact double
    with pytest.raises(CodecError, match="needs 16 digits"):
        TableCodec.fit(pd.DataFrame({"v": [1.0, 2.0, 1234567890123.456]}), max_values=1)
    widest = TableCodec.fit(pd.DataFrame({"v": [5e-324, 0.0]}), max_values=1)
    assert widest.columns[0].decimals == MAX_DECIMALS  # the most decimals a double needs
    assert TableCodec.from_dict(json.loads(json.dumps(widest.to_dict()))) == widest


def test_check_against_the_model_sizes():
    CODEC.check_model_config(CODEC.vocab_size, CODEC.sequence_length)
    with pytest.raises(CodecError, match=f"describes {CODEC.vocab_size} tokens but the model's vocab_size is 3"):
        CODEC.check_model_config(3, CODEC.sequence_length)
    with pytest.raises(CodecError, match=f"rows of {CODEC.sequence_length} tokens but the model holds at most 4"):
        CODEC.check_model_config(CODEC.vocab_size, 4)


def test_a_codec_whose_token_mask_would_be_huge_is_refused_before_it_is_built():
    # 1,000 value columns of 200 values each: 1,000 positions x 201,000 tokens = 201,000,000 mask cells > 100,000,000
    payload = copy.deepcopy(PAYLOAD)
    colour = payload["columns"][1]
    payload["columns"] = [{**colour, "name": f"c{i}", "values": [f"v{j}" for j in range(200)],
                           "categories": [f"v{j}" for j in range(200)] if colour.get("categories") else None}
                          for i in range(1000)]
    assert "more than the 100,000,000 cells" in refused(payload)
