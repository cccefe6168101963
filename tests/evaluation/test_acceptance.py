"""Three hand-checkable "generators" against every metric (issue 14's acceptance).

- ``copies`` returns training rows: fidelity looks perfect, privacy must flag it;
- ``marginals`` samples every column on its own from the training rows: column
  shapes stay right, the relations between columns are gone;
- ``fresh`` returns new rows of the same process: real rows the model never
  saw, so every figure must sit at its reference (real training rows, or other
  real rows, in the generator's place).
"""

from __future__ import annotations

import pandas as pd
import pytest

from fuseprune.evaluation import RealRows, score_samples, select_metrics

pytestmark = pytest.mark.slow  # every metric, SDMetrics' privacy ones included: about half a minute
ROWS, SEEDS = 300, (0, 1)


def copies(real: RealRows, seed: int) -> pd.DataFrame:
    return real.train.sample(n=ROWS, replace=True, random_state=seed).reset_index(drop=True)


def marginals(real: RealRows, seed: int) -> pd.DataFrame:
    return pd.DataFrame({c: real.train[c].sample(n=ROWS, replace=True, random_state=10 * seed + i).to_numpy()
                         for i, c in enumerate(real.train.columns)})


@pytest.fixture(scope="module")
def scored(process_real, process):
    metrics = select_metrics(["all"], process_real)
    makers = {"copies": lambda s: copies(process_real, s), "marginals": lambda s: marginals(process_real, s),
              "fresh": lambda s: process(ROWS, 100 + s)}
    return {name: score_samples(process_real, {s: make(s) for s in SEEDS}, metrics) for name, make in makers.items()}


def test_copies_of_training_rows_are_flagged_by_privacy(scored):
    figures = scored["copies"]
    assert figures["dcr_share"].mean == 1.0 and figures["dcr_share"].reference == pytest.approx(0.5, abs=0.15)
    assert figures["new_row_synthesis"].mean == 0.0 and figures["new_row_synthesis"].reference == 1.0
    assert figures["copy_share"].mean == 1.0 and figures["copy_share"].reference == 0.0
    assert figures["dcr_p5"].mean == 0.0 < figures["dcr_p5"].reference
    assert figures["dcr_baseline_protection"].mean == 0.0 < figures["dcr_baseline_protection"].reference
    # ...while fidelity cannot tell them from real rows
    assert figures["quality"].mean == pytest.approx(figures["quality"].reference, abs=0.05)


def test_independent_columns_keep_shapes_but_lose_relations(scored):
    figures = scored["marginals"]
    assert figures["column_shapes"].mean == pytest.approx(figures["column_shapes"].reference, abs=0.05)
    assert figures["corr_mae"].mean > figures["corr_mae"].reference + 0.2  # x and y correlate about 0.9
    assert figures["corr_frobenius"].mean > 3 * figures["corr_frobenius"].reference
    assert figures["column_pair_trends"].mean < figures["column_pair_trends"].reference - 0.15
    assert figures["gbdt_detection"].mean < figures["gbdt_detection"].reference - 0.4
    assert figures["utility_ratio"].mean < 0.8  # c no longer follows x + y
    # the linear detector barely sees it: the same column means, only the joint shape differs
    assert figures["logistic_detection"].mean > figures["logistic_detection"].reference - 0.15


TOLERANCE = {"corr_frobenius": 0.2, "dcr_p5": 0.01}  # absolute; 0.1 for every other figure


def test_fresh_real_rows_score_at_the_reference_on_every_figure(scored):
    figures = scored["fresh"]
    assert len(figures) == 19  # every figure of every metric (classification target: no R2 or RMSE)
    for name, figure in figures.items():
        assert figure.mean == pytest.approx(figure.reference, abs=TOLERANCE.get(name, 0.1)), name


def test_copies_are_flagged_on_a_real_table_whose_rows_repeat(wisconsin):
    # In the biopsy data 37 % of holdout rows also occur among the training rows: the reference shows it
    train, holdout = wisconsin.split()
    real = RealRows(train, holdout, wisconsin.kinds, "class")
    metrics = select_metrics(["privacy", "privacy-sdmetrics"], real)
    figures = score_samples(real, {0: copies(real, 0).head(200)}, metrics)
    assert figures["copy_share"].mean == 1.0 and figures["copy_share"].reference == pytest.approx(0.371, abs=0.01)
    assert figures["new_row_synthesis"].mean == 0.0 < figures["new_row_synthesis"].reference
    # ties with repeated holdout rows share the credit, so copies stay below 100 %, but well above the reference
    assert figures["dcr_share"].mean > figures["dcr_share"].reference + 0.1
