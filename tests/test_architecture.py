"""The module graph points one way, and the web and map layers hold no analysis.

Each stage of the pipeline may import earlier stages only (ingest before geocode before
areas before hotspots ...). ``api/`` and ``maps/`` present results: a spatial join, a
statistical test or month arithmetic written there would be a second implementation of a
rule that belongs to a stage.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geo_ssgp"

#: Pipeline order: a module may import modules of its own rank or lower.
RANK = {
    "errors": 0,
    "config": 0,
    "schema": 0,
    "tables": 0,
    "filters": 1,
    "pack": 2,
    "incidents": 3,
    "geocode": 4,
    "store": 5,
    "store_postgis": 5,
    "pipeline": 6,
    "dask_engine": 6,
    "areas": 7,
    "streets": 7,
    "gazetteer": 7,
    "hotspots": 8,
    "focus": 9,
    "maps": 10,
    "reports": 11,
    "api": 12,
    "cli": 12,
}

#: Code that does analysis; none of it may appear in api/ or maps/.
ANALYSIS = re.compile(
    r"\bsjoin\b|STRtree|\besda\b|\bscipy\b|\bsklearn\b|binomtest|MonthBegin|pd\.Period\b"
    r"|\.intersects\(|\.within\(|to_period\("
)


def _stage(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geo_ssgp"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("geo_ssgp."):
                    found.add(alias.name.split(".")[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_stage_is_ranked():
    stages = {_stage(p) for p in MODULES}
    assert stages <= set(RANK), stages - set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_later_stage(path):
    stage = _stage(path)
    later = {m for m in _imports(path) if RANK.get(m, 0) > RANK[stage]}
    assert not later, f"{path.relative_to(PACKAGE)} ({stage}) imports later stages {later}"


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if _stage(p) in {"api", "maps"}],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_web_and_map_layers_hold_no_analysis(path):
    hits = [
        f"{i}: {line.strip()}"
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ANALYSIS.search(line) and not line.lstrip().startswith(("#", '"', "'"))
    ]
    assert not hits, "\n".join(hits)


def test_stage_modules_say_what_they_own():
    for path in MODULES:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{path.relative_to(PACKAGE)} has no module docstring"
