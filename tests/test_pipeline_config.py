"""`fuseprune run` checks its options against the preset before it trains anything."""

from __future__ import annotations

import pytest

from fuseprune.errors import ConfigError, UnknownNameError
from fuseprune.pipeline import RunConfig


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"remove": "lots"}, ConfigError, '`remove` must be a layer count (3) or a percentage of the layers ("50%")'),
        ({"remove": "9"}, ConfigError, "`remove` must be between 1 and 5 for the 6-layer 'default' preset; got '9'"),
        ({"remove": "6"}, ConfigError, "must be between 1 and 5 for the 6-layer 'default' preset"),
        ({"remove": "2", "preset": "tiny"}, ConfigError, "must be between 1 and 1 for the 2-layer 'tiny' preset"),
        ({"remove": "100%"}, ConfigError, "greater than 0% and less than 100%"),
        ({"preset": "huge"}, UnknownNameError, "unknown model preset 'huge'"),
        ({"seed": -1}, ConfigError, "`seed` must be an integer between 0 and 4294967295; got -1."),
        ({"split_seed": 2**40}, ConfigError, "`split_seed` must be an integer between 0 and 4294967295"),
    ],
)
def test_options_the_preset_cannot_meet_are_refused_up_front(options, error, message):
    with pytest.raises(error) as exc:
        RunConfig(**options)
    assert message in str(exc.value)


def test_the_defaults_and_the_largest_removal_pass():
    assert RunConfig().remove == "50%"
    assert RunConfig(remove="5").remove == "5" and RunConfig(preset="tiny", remove="1").preset == "tiny"
