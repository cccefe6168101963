"""The engine imports no app: arrows point from the apps (tabular, compare, cli) to the engine, never back."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fuseprune

ROOT = Path(fuseprune.__file__).resolve().parents[1]
ENGINE = ("models", "scoring", "pruning", "fusion", "compress", "distill", "evaluation", "training")
APPS = ("fuseprune.tabular", "fuseprune.compare", "fuseprune.explore")
#: What the engine must not import even lazily: the apps, and what only they use (data sets, presets, the run).
NOT_ENGINE = (*APPS, "fuseprune.cli", "fuseprune.pipeline", "fuseprune.presets", "fuseprune.data")


@pytest.mark.parametrize("package", ENGINE)
def test_importing_an_engine_package_loads_no_app_module(package):
    code = (f"import fuseprune.{package}; import sys; "
            f"print(sorted(m for m in sys.modules if m.startswith({APPS!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` anywhere in ``path`` names (inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", ENGINE)
def test_no_engine_module_imports_an_app_even_inside_a_function(package):
    offending = {
        str(path.relative_to(ROOT)): sorted(n for n in _imported_modules(path) if n.startswith(NOT_ENGINE))
        for path in sorted((ROOT / "fuseprune" / package).rglob("*.py"))
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_import_check_sees_a_lazy_import(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from fuseprune.tabular.model import TabularGPT\n    import fuseprune.compare\n")
    assert {"fuseprune.tabular.model", "fuseprune.compare"} <= _imported_modules(module)
