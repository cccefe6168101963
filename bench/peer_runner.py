"""The REaLTabFormer column of bench/sampling.py: export our model, time REaLTabFormer's sample() in its side env.

REaLTabFormer 0.2.4 needs transformers < 5, so it runs in a separate virtual
environment (``bench/peer/setup.sh`` makes ``.venv-peer``; or name its python in
``FUSEPRUNE_PEER_PYTHON``). ``bench/peer/peer_sample.py RTF_DIR --rows N
[--batch B] [--seed S]`` prints one JSON line with ``rows_per_second``; the
model is handed over by ``fuseprune export-rtf MODEL --out RTF_DIR``. When any
piece is missing the column is skipped, with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ABSENT = "side environment absent (run bench/peer/setup.sh)"


@dataclass(frozen=True)
class Peer:
    """Where the side environment's python and the sampling script are, or why the column is skipped."""

    python: str | None
    script: Path
    reason: str | None
    timeout: float = 1800.0

    @classmethod
    def find(cls, repo: Path) -> Peer:
        """Look for the side environment, the peer script and our export-rtf command."""
        python = os.environ.get("FUSEPRUNE_PEER_PYTHON") or str(repo / ".venv-peer/bin/python")
        script = repo / "bench/peer/peer_sample.py"
        if not Path(python).is_file():
            return cls(None, script, ABSENT)
        if not script.is_file():
            return cls(python, script, f"{script.relative_to(repo)} absent")
        if "export-rtf" not in _commands():
            return cls(python, script, "this fuseprune has no `export-rtf` command")
        return cls(python, script, None)

    def describe(self) -> dict[str, object]:
        """JSON-ready: the python used, or why the column was skipped."""
        if self.reason is not None:
            return {"skipped": self.reason}
        probe = ("import realtabformer, transformers, torch; "
                 "print(realtabformer.__version__, transformers.__version__, torch.__version__)")
        version = subprocess.run([self.python, "-c", probe], capture_output=True, text=True, check=False)
        return {"python": self.python, "versions (realtabformer transformers torch)": version.stdout.strip()}

    def export(self, model_dir: Path, rtf_dir: Path) -> tuple[Path | None, str | None]:
        """Export ``model_dir`` as a REaLTabFormer folder; return it, or None and why not."""
        if self.reason is not None:
            return None, self.reason
        from fuseprune.cli import main

        shutil.rmtree(rtf_dir, ignore_errors=True)
        code = main(["export-rtf", str(model_dir), "--out", str(rtf_dir)])
        return (rtf_dir, None) if code == 0 else (None, f"export-rtf failed with exit code {code}")

    def rate(self, rtf_dir: Path | None, rows: int, batch: int | None, seed: int, threads: int) -> float:
        """REaLTabFormer's rows/s sampling ``rows`` rows from ``rtf_dir`` (as the script reports it)."""
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        env.pop("PYTHONPATH", None)  # our packages must not shadow the side environment's
        command = [self.python, str(self.script), str(rtf_dir), "--rows", str(rows), "--seed", str(seed),
                   *(["--batch", str(batch)] if batch else [])]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=self.timeout, check=False)
        lines = [line for line in done.stdout.splitlines() if line.strip().startswith("{")]
        if done.returncode != 0 or not lines:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"peer_sample.py failed ({done.returncode}): {tail}")
        return float(json.loads(lines[-1])["rows_per_second"])


def _commands() -> set[str]:
    """The sub-commands of the installed fuseprune command line."""
    import argparse

    from fuseprune.cli import build_parser

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices) if actions else set()
