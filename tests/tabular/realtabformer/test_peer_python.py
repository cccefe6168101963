"""Finding the side environment's Python, and saying clearly when it is absent (no side environment needed)."""

from __future__ import annotations

import pytest

from fuseprune.errors import PeerNotFoundError
from fuseprune.tabular.realtabformer import peer_python


def test_the_environment_variable_wins(monkeypatch, tmp_path):
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    monkeypatch.setenv("FUSEPRUNE_PEER_PYTHON", str(python))
    assert peer_python() == python


def test_the_default_is_the_repositorys_venv_peer(monkeypatch, tmp_path):
    monkeypatch.delenv("FUSEPRUNE_PEER_PYTHON", raising=False)
    monkeypatch.setattr("fuseprune.tabular.realtabformer.peer.repo_root", lambda: tmp_path)
    (tmp_path / ".venv-peer" / "bin").mkdir(parents=True)
    (tmp_path / ".venv-peer" / "bin" / "python").write_text("")
    assert peer_python() == tmp_path / ".venv-peer" / "bin" / "python"


def test_without_the_side_environment_the_reason_is_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("FUSEPRUNE_PEER_PYTHON", str(tmp_path / "missing" / "python"))
    with pytest.raises(PeerNotFoundError, match="FUSEPRUNE_PEER_PYTHON is .* not an executable file"):
        peer_python()
    monkeypatch.delenv("FUSEPRUNE_PEER_PYTHON")
    monkeypatch.setattr("fuseprune.tabular.realtabformer.peer.repo_root", lambda: tmp_path)
    with pytest.raises(PeerNotFoundError, match="side environment is absent .*`make peer`"):
        peer_python()


