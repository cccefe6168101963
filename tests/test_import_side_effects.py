"""Importing fuseprune changes nothing outside it: no matplotlib backend is chosen, pyplot is not loaded."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys, matplotlib
before = dict.__getitem__(matplotlib.rcParams, "backend")
import fuseprune.compare.plots, fuseprune.compare.report
after = dict.__getitem__(matplotlib.rcParams, "backend")
print(before == after, "matplotlib.pyplot" in sys.modules)
"""


def test_importing_the_plots_picks_no_backend_and_loads_no_pyplot():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]
