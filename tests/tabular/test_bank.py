from __future__ import annotations

import pytest

from fuseprune.errors import DataError
from fuseprune.fusion import FusionBank
from fuseprune.tabular import bank as build_module
from fuseprune.tabular.bank import BankConfig, build_bank


@pytest.fixture
def config(tmp_path):
    return BankConfig(datasets=("iris", "birthwt"), seeds=(0,), preset="tiny", calibration_rows=32,
                      teachers=str(tmp_path / "teachers"))


def test_bank_follows_the_oracle_and_records_provenance(config, tmp_path):
    bank = build_bank(config, tmp_path / "bank.csv")
    # a tiny teacher has 2 layers: one state (step 0) with 2 rows per data set
    assert len(bank.frame) == 4 and bank.datasets == ["birthwt", "iris"]
    assert len(bank.signals) == 13
    for _, state in bank.states():
        assert sorted(state["target"]) == [0.0, 1.0]
    meta = FusionBank.load(tmp_path / "bank.csv").meta
    assert meta["preset"] == "tiny" and meta["datasets"] == ["iris", "birthwt"] and meta["seeds"] == [0]


def test_an_interrupted_build_resumes_without_redoing_finished_cells(config, tmp_path, monkeypatch):
    real = build_module.oracle_path_rows
    calls = []

    def crash_on_second(dataset, seed, cfg):
        calls.append(dataset)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(dataset, seed, cfg)

    monkeypatch.setattr(build_module, "oracle_path_rows", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        build_bank(config, tmp_path / "bank.csv")
    assert FusionBank.load(tmp_path / "bank.csv").datasets == ["iris"]
    calls.clear()
    monkeypatch.setattr(build_module, "oracle_path_rows", lambda d, s, c: (calls.append(d), real(d, s, c))[1])
    bank = build_bank(config, tmp_path / "bank.csv")
    assert calls == ["birthwt"] and bank.datasets == ["birthwt", "iris"]


def test_resuming_with_other_options_is_refused(config, tmp_path):
    build_bank(BankConfig(**{**config.to_dict(), "datasets": ("iris",)}), tmp_path / "bank.csv")
    other = BankConfig(**{**config.to_dict(), "calibration_rows": 64})
    with pytest.raises(DataError, match="was built with calibration_rows=32, not 64"):
        build_bank(other, tmp_path / "bank.csv")
