"""docs/deltatwin.md matches the code: the problem codes with their severities, and the runs it shows."""

from __future__ import annotations

import ast
import re
import shutil
from collections import defaultdict

from dataspace_assets.cli import main
from dataspace_assets.deltatwin.validate import validate_folder
from dataspace_tests.deltatwin.helpers import PREFIX
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


def _shown_runs() -> list[tuple[str, list[str]]]:
    """Each `$ dataspace twin validate FOLDER` block of the guide: the folder and the lines shown after it."""
    text = GUIDE.read_text(encoding="utf-8")
    return [
        (folder, output.splitlines())
        for folder, output in re.findall(r"^\$ dataspace twin validate (\S+)\n(.*?)^```", text, flags=re.M | re.S)
    ]


def test_the_guide_shows_real_output(deltatwin_examples_dir, tmp_path, capsys, monkeypatch) -> None:
    runs = _shown_runs()
    assert [folder for folder, _ in runs] == ["configs/deltatwins/example", "STAC_data_query"]
    stac = tmp_path / "STAC_data_query"
    stac.mkdir()
    for name in ("manifest.json", "workflow.yml"):
        shutil.copyfile(deltatwin_examples_dir / f"{PREFIX['stac']}__{name}", stac / name)
    for folder, shown in runs:
        monkeypatch.chdir(PROJECT_ROOT if folder.startswith("configs/") else tmp_path)
        main(["twin", "validate", folder])
        assert capsys.readouterr().out.splitlines() == shown, folder


def test_the_guide_python_example_names_a_folder_that_validates() -> None:
    folders = re.findall(r'validate_folder\("([^"]+)"', GUIDE.read_text(encoding="utf-8"))
    assert folders == ["configs/deltatwins/example"]
    assert validate_folder(PROJECT_ROOT / folders[0]).twin is not None
