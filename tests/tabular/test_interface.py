"""Every codec implements the whole codec interface, with the interface's signatures."""

from __future__ import annotations

import inspect

import pytest

from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.realtabformer.codec import RtfCodec

MEMBERS = sorted(name for name in vars(Codec) if not name.startswith("_"))


def test_the_interface_names_what_the_sampler_and_the_stream_use():
    assert {"constraint_tables", "example_row", "decode", "sequence_length", "vocab_size"} <= set(MEMBERS)


@pytest.mark.parametrize("cls", [TableCodec, RtfCodec])
@pytest.mark.parametrize("name", MEMBERS)
def test_every_codec_has_every_member(cls, name):
    want, have = inspect.getattr_static(Codec, name), inspect.getattr_static(cls, name, None)
    assert have is not None, f"{cls.__name__} lacks {name}"
    if isinstance(want, property):
        assert isinstance(have, property)
    else:
        assert list(inspect.signature(have).parameters) == list(inspect.signature(want).parameters)
