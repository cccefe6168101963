"""A table made by a known process, so every metric's answer can be reasoned out.

``x`` is standard normal, ``y = x + noise`` (correlation about 0.9), ``z`` is
uniform and unrelated, and the class ``c`` is ``hi`` when ``x + y + noise > 0``.
Values are rounded to three decimals; repeated rows are vanishingly rare.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fuseprune.evaluation import RealRows

KINDS = {"x": "numerical", "y": "numerical", "z": "numerical", "c": "categorical"}


def process_rows(n: int, seed: int) -> pd.DataFrame:
    """``n`` fresh rows of the process, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = x + 0.5 * rng.normal(size=n)
    z = rng.uniform(size=n)
    c = np.where(x + y + 0.5 * rng.normal(size=n) > 0, "hi", "lo")
    return pd.DataFrame({"x": x.round(3), "y": y.round(3), "z": z.round(3), "c": c})


@pytest.fixture(scope="session")
def process_real() -> RealRows:
    """400 training rows and 200 holdout rows of the process, target ``c``."""
    return RealRows(process_rows(400, 0), process_rows(200, 1), KINDS, "c")


@pytest.fixture(scope="session")
def process():
    """The row-making function itself: ``process(n, seed)``."""
    return process_rows
