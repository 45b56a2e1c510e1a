"""The layout rule of docs/architecture.md: a pillar imports shared modules and Dagster, never another pillar."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dataspace_tests.services import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "dataspace_assets"
PILLARS = ("dataspace", "deltatwin", "harvest")
SHARED = {"storage", "settings", "errors", "instance", "runs", "net", "executors"}


def _imported_modules(path: Path) -> set[str]:
    """The second component of every `dataspace_assets.X...` a file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "dataspace_assets" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("pillar", [*PILLARS, "storage"])
def test_package_imports_only_itself_and_shared_modules(pillar: str) -> None:
    allowed = {pillar} | SHARED if pillar != "storage" else {"storage", "settings", "errors"}
    offenders = {
        f"{path.relative_to(PROJECT_ROOT)} imports dataspace_assets.{module}"
        for path in (PACKAGE / pillar).rglob("*.py")
        for module in _imported_modules(path) - allowed
    }
    assert sorted(offenders) == []
