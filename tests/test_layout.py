"""layout: the package tree reads like the data flow, and imports point one way (down this list)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

from pipeline.core.config import REPO_ROOT

PACKAGE = REPO_ROOT / "pipeline"
# Lowest first. The warehouse is the store every stage reads or writes, so it sits low (a storage layer); the
# ingest cycle conducts fetch -> classify -> load, so it sits above classify and the warehouse.
LAYERS = ["core", "warehouse", "classify", "feeds", "ingest", "digest", "alerts", "ops", "cli"]


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def pipeline_imports(path: Path) -> set[str]:
    """Every pipeline module a file imports, at the top or inside a function (a lazy import still depends)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pipeline"))
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: pipeline_imports(path) for name, path in MODULES.items()}


def test_every_module_belongs_to_a_known_stage():
    stages = {stage_of(m) for m in MODULES} - {None}
    assert stages == set(LAYERS), stages ^ set(LAYERS)
    assert set(GRAPH["pipeline.core.config"]) == set()  # the bottom imports nothing of ours


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_never_point_up_the_stages(module):
    here = LAYERS.index(stage_of(module)) if stage_of(module) else -1
    upward = [imported for imported in GRAPH[module]
              if stage_of(imported) and LAYERS.index(stage_of(imported)) > here]
    assert upward == [], f"{module} imports a higher stage"


def test_no_import_circles_between_modules():
    graphlib.TopologicalSorter({m: {d for d in deps if d in MODULES} for m, deps in GRAPH.items()}).prepare()


def test_the_layer_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pipeline.digest.build import build_digest\n")
    assert pipeline_imports(bad) == {"pipeline.digest.build"}
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}}).prepare()


@pytest.mark.parametrize("stage", LAYERS[:-1])
def test_each_stage_says_what_it_does_takes_and_gives(stage):
    init = PACKAGE / stage / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc and 2 <= len(doc.splitlines()) <= 4, init
    assert [n for n in ast.parse(init.read_text()).body if not isinstance(n, ast.Expr)] == []  # light to import
