"""docs/deltatwin.md lists exactly the problem codes the validator can report, with their severities."""

from __future__ import annotations

import ast
import re
from collections import defaultdict

from dataspace_tests.services import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "dataspace_assets" / "deltatwin"
GUIDE = PROJECT_ROOT / "docs" / "deltatwin.md"


def emitted_codes() -> dict[str, set[str]]:
    """code -> severities, from every `out.error/warning/info(path, "code", message)` call in the package."""
    found: dict[str, set[str]] = defaultdict(set)
    for source in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("error", "warning", "info")
            ):
                if (
                    len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str)
                ):
                    found[node.args[1].value].add(node.func.attr)
    return found


def documented_codes() -> dict[str, set[str]]:
    """code -> severities, from the table of the guide's "Problem codes" section."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("\n## Problem codes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| ([a-z /]+) \|", section, flags=re.M)
    return {code: {s.strip() for s in severities.split("/")} for code, severities in rows}


def test_every_code_is_documented_with_its_severities() -> None:
    emitted = emitted_codes()
    assert len(emitted) > 40  # the scan found the calls
    assert documented_codes() == dict(emitted)
