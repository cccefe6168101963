"""A damaged model folder never loads: each part is checked against the others, and the weights against their sha256."""

from __future__ import annotations

import json
import logging
import shutil
import time

import pytest
import torch
from safetensors.torch import load_file, save_file

from fuseprune.errors import CodecError, FusepruneError, ModelError
from fuseprune.tabular import TabularGPT
from fuseprune.tabular.model import CHECKSUM_KEY, INFO_FILE

WEIGHTS = "model.safetensors"


@pytest.fixture
def folder(tiny_model_dir, tmp_path):
    """A private copy of the tiny model folder, to damage."""
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def edit_json(path, change):
    payload = json.loads(path.read_text())
    change(payload)
    path.write_text(json.dumps(payload))


def edit_tensors(folder, change):
    tensors = load_file(folder / WEIGHTS)
    change(tensors)
    save_file(tensors, folder / WEIGHTS, metadata={"format": "pt"})


def refusal(folder, error=ModelError, verify=True) -> str:
    with pytest.raises(error) as exc:
        TabularGPT.load(folder, verify=verify)
    message = str(exc.value)
    assert "\n" not in message and isinstance(exc.value, FusepruneError)
    return message


def test_a_saved_folder_records_the_sha256_of_its_weights_and_loads(folder):
    import hashlib

    recorded = json.loads((folder / INFO_FILE).read_text())[CHECKSUM_KEY]
    assert recorded == {WEIGHTS: hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()}
    loaded = TabularGPT.load(folder)
    assert CHECKSUM_KEY not in loaded.info  # the record describes the files, not the model
    assert loaded.info["data"]["source"] == "breast-cancer-wisconsin"


def test_editing_n_layer_names_the_missing_or_unexpected_tensors(folder):
    edit_json(folder / "config.json", lambda c: c.update(n_layer=3))
    message = refusal(folder)
    assert "missing tensors transformer.h.2.attn.c_attn.bias" in message and "(+9 more)" in message
    edit_json(folder / "config.json", lambda c: c.update(n_layer=1))
    assert "unexpected tensors transformer.h.1." in refusal(folder)


def test_a_deleted_tensor_is_named_even_without_the_checksum(folder):
    edit_tensors(folder, lambda t: t.pop("transformer.h.0.mlp.c_fc.weight"))
    for verify in (True, False):
        assert "missing tensors transformer.h.0.mlp.c_fc.weight;" in refusal(folder, verify=verify)


def test_extra_and_reshaped_tensors_are_named(folder):
    edit_tensors(folder, lambda t: t.update({"extra.weight": torch.zeros(2)}))
    assert "unexpected tensors extra.weight" in refusal(folder)
    edit_tensors(folder, lambda t: (t.pop("extra.weight"), t.update({"transformer.ln_f.weight": torch.ones(5)})))
    assert "transformer.ln_f.weight [5] (config implies [32])" in refusal(folder)


def test_a_config_of_another_width_or_vocabulary_is_refused_before_allocating(folder):
    edit_json(folder / "config.json", lambda c: c.update(vocab_size=9_000_000))
    start = time.perf_counter()
    assert "transformer.wte.weight [95, 32] (config implies [9000000, 32])" in refusal(folder)
    assert time.perf_counter() - start < 5  # the comparison builds nothing: 9M x 32 floats are never allocated
    edit_json(folder / "config.json", lambda c: c.update(vocab_size=95, n_embd=10**9))
    assert "`n_embd` must be an integer between 1 and 65536; got 1000000000" in refusal(folder)


def test_flipped_bytes_fail_the_checksum_unless_verification_is_skipped(folder):
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[-4] ^= 0x01  # the lowest mantissa byte of the last float: still a valid, finite file
    (folder / WEIGHTS).write_bytes(bytes(data))
    assert "does not match the sha256 recorded when it was saved" in refusal(folder)
    assert TabularGPT.load(folder, verify=False).model.config.n_layer == 2


def test_nan_weights_are_refused_even_without_verification(folder):
    edit_tensors(folder, lambda t: t["transformer.ln_f.bias"].__setitem__(0, float("nan")))
    assert "hold NaN or infinite values (transformer.ln_f.bias)" in refusal(folder, verify=False)


def test_a_folder_saved_without_a_checksum_loads_with_a_warning(folder, caplog):
    edit_json(folder / INFO_FILE, lambda info: info.pop(CHECKSUM_KEY))
    with caplog.at_level(logging.WARNING, logger="fuseprune.tabular.model"):
        TabularGPT.load(folder)
    assert "records no weights checksum" in caplog.text


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / WEIGHTS).write_bytes((f / WEIGHTS).read_bytes()[:5000]), "is not a readable safetensors file"),
        (lambda f: (f / WEIGHTS).write_bytes(b"\x00" * 64), "is not a readable safetensors file"),
        (lambda f: (f / "config.json").write_text("{not json"), "is not valid JSON (Expecting property name"),
        (lambda f: (f / "config.json").write_bytes(b'{"a": "\xff"}'), "is not UTF-8 text"),
        (lambda f: (f / "config.json").write_text("[1, 2]"), "must hold a JSON object; got list"),
        (lambda f: edit_json(f / "config.json", lambda c: c.update(model_type="llama")), "describes a 'llama' model"),
        (lambda f: edit_json(f / "config.json", lambda c: c.update(n_layer="2")), "`n_layer` must be an integer"),
        (lambda f: edit_json(f / "config.json", lambda c: c.update(n_head=3)), "must be a multiple of `n_head` (3)"),
        (lambda f: ((f / WEIGHTS).rename(f / "pytorch_model.bin")), "holds only pickle weights (pytorch_model.bin)"),
        (lambda f: (f / WEIGHTS).unlink(), "has no model.safetensors"),
        (lambda f: (f / INFO_FILE).write_text("{"), "model record"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i.update({CHECKSUM_KEY: "abc"})), "are not a mapping"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i.update(data=[1])), "`data` must be an object"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i["data"].update(holdout=7)), "`data.holdout` must be"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i["data"].update(split_seed=-1)), "`data.split_seed` must be"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i.update(pruning=3)), "`pruning` must be an object"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i["data"].update(read="x")), "`data.read` must be an object"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i["data"].update(read={"drop_columns": "id"})),
         "`data.read.drop_columns` must be a list"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i["data"].update(read={"delimiter": ";;"})),
         "`data.read.delimiter` must be one character"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i["data"].update(kinds=["a"])), "`data.kinds` must map"),
        (lambda f: edit_json(f / INFO_FILE, lambda i: i["data"].update(sha256=5)), "`data.sha256` must be a string"),
    ],
    ids=["truncated", "zeros", "config-not-json", "config-latin1", "config-list", "not-gpt2", "n_layer-string",
         "heads", "pickle-only", "no-weights", "info-not-json", "checksum-shape", "data-list", "holdout",
         "split-seed", "pruning", "read-text", "read-drops", "read-delimiter", "kinds-list", "sha256-number"],
)
def test_broken_parts_are_one_line_errors(folder, damage, message):
    damage(folder)
    assert message in refusal(folder)


def test_a_codec_of_another_vocabulary_is_refused(folder):
    def drop_value(codec):
        column = next(c for c in codec["columns"] if c["encoding"] == "values" and len(c["values"]) > 2)
        column["values"].pop()

    edit_json(folder / "codec.json", drop_value)
    assert "describes 94 tokens but the model's vocab_size is 95" in refusal(folder, CodecError)


def test_a_bogus_encoding_or_a_huge_width_is_refused_at_once(folder):
    edit_json(folder / "codec.json", lambda c: c["columns"][0].update(encoding="bogus"))
    assert "`encoding` must be one of values, digits; got 'bogus'" in refusal(folder, CodecError)
    edit_json(folder / "codec.json", lambda c: c["columns"][0].update(encoding="digits", values=[], width=10**9))
    start = time.perf_counter()
    assert "`width` must be between 1 and 15; got 1000000000" in refusal(folder, CodecError)
    assert time.perf_counter() - start < 5
