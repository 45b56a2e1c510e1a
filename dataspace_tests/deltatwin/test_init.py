"""init_twin: the scaffold of a new twin folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dataspace_assets.deltatwin.init import WORKFLOW_TEMPLATE, init_twin
from dataspace_assets.deltatwin.validate import validate_folder
from dataspace_assets.errors import DataspaceError


def test_init_writes_models_a_minimal_manifest_and_a_commented_workflow(tmp_path: Path) -> None:
    folder = init_twin(tmp_path / "od-flood")
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "models", "workflow.yml"]
    assert (folder / "models").is_dir() and list((folder / "models").iterdir()) == []
    assert json.loads((folder / "manifest.json").read_text()) == {
        "name": "od-flood",
        "description": "",
        "license": {"name": "LGPLv3", "url": "https://www.gnu.org/licenses/gpl-3.0.txt", "copyrights": []},
        "owner": "John Doe",
    }
    text = (folder / "workflow.yml").read_text()
    assert text == WORKFLOW_TEMPLATE
    assert yaml.safe_load(text) == {"nodes": [], "edges": []}
    assert sum(line.startswith("#") for line in text.splitlines()) >= 20  # a commented template, not just two lists


def test_the_template_examples_are_a_valid_workflow_once_uncommented() -> None:
    example = "\n".join(
        line[2:]
        for line in WORKFLOW_TEMPLATE.splitlines()
        if line.startswith("#   ") or line.startswith("# nodes:") or line.startswith("# edges:")
    )
    parsed = yaml.safe_load(example)
    assert [n["ref"] for n in parsed["nodes"]] == ["inputs.bbox", "models.detector", "outputs.masks"]
    assert parsed["edges"][0] == {"from": {"id": "bbox"}, "to": {"id": "detector", "port": "bbox"}}


def test_a_new_folder_validates_without_any_problem(tmp_path: Path) -> None:
    report = validate_folder(init_twin(tmp_path / "twin"))
    assert report.ok and report.problems == ()
    assert report.manifest.name == "twin" and report.manifest.delta_version == "1.4"


def test_the_name_comes_from_the_folder_and_parents_are_created(tmp_path: Path) -> None:
    folder = init_twin(tmp_path / "a" / "b" / "stac-query/", owner="ESA")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["name"], manifest["owner"]) == ("stac-query", "ESA")


@pytest.mark.parametrize("existing", ["folder", "file"])
def test_an_existing_path_is_refused_and_left_untouched(tmp_path: Path, existing) -> None:
    target = tmp_path / "twin"
    if existing == "folder":
        target.mkdir()
        (target / "keep.txt").write_text("mine")
    else:
        target.write_text("mine")
    with pytest.raises(DataspaceError, match="already exists: twin init only creates a new folder"):
        init_twin(target)
    assert (target / "keep.txt").read_text() == "mine" if existing == "folder" else target.read_text() == "mine"
    if existing == "folder":
        assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
