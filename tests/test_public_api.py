"""The public API: the top level is the engine, typed and lazy; the apps are namespaces of their own."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fuseprune
import fuseprune.compare
import fuseprune.tabular

ROOT = Path(fuseprune.__file__).resolve().parents[1]
ENGINE_NAMES = {"score_layers", "ScoreTable", "make_plan", "PrunePlan", "apply_plan", "DistillationLoss",
                "distill_model", "distill_step", "Signal", "register_signal", "Strategy", "register_strategy"}
APP_NAMES = {"load_table", "train_on_table", "sample_rows", "TabularGPT", "evaluate", "make_tabular_plan",
             "prune_tabular", "distill_tabular", "score_tabular", "GridConfig", "run_grid", "write_report"}


def test_every_public_name_resolves_and_all_is_sorted():
    assert fuseprune.__all__ == sorted(fuseprune.__all__)
    for name in fuseprune.__all__:
        assert getattr(fuseprune, name) is not None, name
    with pytest.raises(AttributeError, match="module 'fuseprune' has no attribute 'nope'"):
        fuseprune.nope  # noqa: B018


def test_the_top_level_is_the_engine_and_the_apps_are_their_own_namespaces():
    assert ENGINE_NAMES <= set(fuseprune.__all__)
    assert not APP_NAMES & set(fuseprune.__all__)
    for name in fuseprune.__all__:
        module = getattr(getattr(fuseprune, name), "__module__", "") or ""
        assert not module.startswith(("fuseprune.tabular", "fuseprune.compare")), name
    for name in ("make_tabular_plan", "prune_tabular", "distill_tabular", "score_tabular", "evaluate"):
        assert callable(getattr(fuseprune.tabular, name)), name


def _type_checking_imports(path: Path) -> dict[str, str]:
    """``name -> module`` of the ``from module import name as name`` lines under ``if TYPE_CHECKING:``."""
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                for alias in statement.names:
                    assert alias.asname == alias.name, f"{alias.name} must be re-exported as itself"
                    found[alias.name] = statement.module
    return found


@pytest.mark.parametrize("package", [fuseprune, fuseprune.tabular, fuseprune.compare])
def test_every_lazy_export_is_declared_for_type_checkers_and_listed(package):
    assert _type_checking_imports(Path(package.__file__)) == package._EXPORTS
    assert set(package._EXPORTS) <= set(package.__all__) == set(dir(package))
    for name in package.__all__:
        assert getattr(package, name) is not None, name


def test_py_typed_is_shipped():
    assert (ROOT / "fuseprune" / "py.typed").is_file()
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["fuseprune"]


def test_importing_the_package_stays_cheap():
    code = "import fuseprune, sys; print(sorted(m for m in ('torch', 'transformers', 'pandas') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "[]"


def test_fusion_strategies_are_known_to_the_planner():
    from fuseprune.pruning import list_strategies

    assert {"fusion-lr", "fusion-rf", "random", "ablation", "block_influence"} <= set(list_strategies())
