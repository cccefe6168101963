"""Importing fuseprune changes nothing outside it: no matplotlib backend is chosen, no figure is made."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys, matplotlib
before = dict.__getitem__(matplotlib.rcParams, "backend")
import fuseprune.compare.plots, fuseprune.compare.report
after = dict.__getitem__(matplotlib.rcParams, "backend")
figures = sys.modules["matplotlib.pyplot"].get_fignums() if "matplotlib.pyplot" in sys.modules else []
print(before == after, len(figures))
"""


def test_importing_the_plots_picks_no_backend():
    # (captum loads pyplot when the signals are imported; loading it picks no backend, matplotlib.use would)
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "0"]
