"""Where REaLTabFormer itself runs: the side environment's Python (REaLTabFormer 0.2.4 needs transformers 4).

``bash bench/peer/setup.sh`` (``make peer``) builds it at ``<repo>/.venv-peer``
or at ``$PEER_VENV``; set ``FUSEPRUNE_PEER_PYTHON`` to use a Python elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from fuseprune.errors import PeerNotFoundError

ENV_VAR = "FUSEPRUNE_PEER_PYTHON"
DEFAULT_VENV = ".venv-peer"


def repo_root() -> Path:
    """The folder holding the ``fuseprune`` package (the repository, for a source checkout)."""
    return Path(__file__).resolve().parents[3]


def peer_python() -> Path:
    """The side environment's Python: ``$FUSEPRUNE_PEER_PYTHON``, else ``<repo>/.venv-peer/bin/python``.

    Raises:
        PeerNotFoundError: Neither exists; the message says how to build it.
    """
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise PeerNotFoundError(f"{ENV_VAR} is {configured!r}, which is not an executable file; point it at "
                                    "the python of the REaLTabFormer side environment (make peer builds one).")
        return path
    path = repo_root() / DEFAULT_VENV / "bin" / "python"
    if not path.is_file():
        raise PeerNotFoundError(f"REaLTabFormer's side environment is absent (no {path}); build it with "
                                f"`make peer` (bash bench/peer/setup.sh) or set {ENV_VAR} to its python.")
    return path
