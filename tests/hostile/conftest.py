"""The hostile-input catalogue's harness: run a command as a careless user would and check the refusal.

A refusal is exit code 2, exactly one ``error:`` line on stderr, no traceback,
and a file system unchanged outside fuseprune's own temporary names (hidden
``.NAME.*.tmp`` entries, which the next start cleans).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from fuseprune.cli import main

TEMPORARY = re.compile(r"^\..+\.tmp$")


def tree_state(root: Path) -> dict[str, tuple]:
    """What a folder tree holds: per entry its type, mode, size and content hash (or link target)."""
    state: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not TEMPORARY.match(d)]
        for name in [*dirnames, *filenames]:
            if TEMPORARY.match(name):
                continue
            path = Path(dirpath) / name
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                state[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                state[rel] = ("file", stat.S_IMODE(info.st_mode), info.st_size,
                              hashlib.sha256(path.read_bytes()).hexdigest())
            elif stat.S_ISDIR(info.st_mode):
                state[rel] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                state[rel] = ("special", stat.S_IFMT(info.st_mode))
    return state


def run(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> tuple[int, str, str]:
    """Run the command line in this process; an exception escaping ``main`` fails the test."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors exit with 2 and a usage line
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def refused(capsys: pytest.CaptureFixture[str]) -> Callable[..., str]:
    """``refused(argv, root, message)``: assert the command is refused cleanly; return stderr."""

    def check(argv: Sequence[str], root: Path, message: str | None = None) -> str:
        before = tree_state(root)
        code, _, err = run(capsys, argv)
        after = tree_state(root)
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert code == 2, f"exit code {code}; stderr: {err}"
        assert "Traceback" not in err, err
        assert len(lines) == 1 and lines[0].startswith("error:"), f"want one `error:` line, got: {err!r}"
        if message is not None:
            assert message in err, f"{message!r} not in {err!r}"
        assert after == before, f"the file system changed: {sorted(set(after.items()) ^ set(before.items()))}"
        return err

    return check
