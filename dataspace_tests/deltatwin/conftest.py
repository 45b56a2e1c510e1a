"""Fixtures of the deltatwin tests: the shared example corpus, and twin folders assembled in tmp_path."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dataspace_tests.deltatwin.helpers import PREFIX


@pytest.fixture(scope="session")
def example_manifest(deltatwin_examples_dir: Path) -> Callable[[str], dict[str, Any]]:
    """A real project's manifest.json as parsed JSON, by short name (`stac`, `all_models`, ...)."""

    def load(short: str) -> dict[str, Any]:
        return json.loads((deltatwin_examples_dir / f"{PREFIX[short]}__manifest.json").read_text(encoding="utf-8"))

    return load


@pytest.fixture(scope="session")
def example_workflow(deltatwin_examples_dir: Path) -> Callable[[str], Any]:
    """A real project's workflow.yml as parsed YAML, by short name."""

    def load(short: str) -> Any:
        return yaml.safe_load((deltatwin_examples_dir / f"{PREFIX[short]}__workflow.yml").read_text(encoding="utf-8"))

    return load


@pytest.fixture
def example_twin(deltatwin_examples_dir: Path, tmp_path: Path) -> Callable[[str], Path]:
    """A twin folder in tmp_path holding a real project's manifest.json and workflow.yml (copied at test time)."""

    def make(short: str) -> Path:
        folder = tmp_path / short
        folder.mkdir()
        shutil.copyfile(deltatwin_examples_dir / f"{PREFIX[short]}__manifest.json", folder / "manifest.json")
        shutil.copyfile(deltatwin_examples_dir / f"{PREFIX[short]}__workflow.yml", folder / "workflow.yml")
        return folder

    return make


@pytest.fixture
def twin_folder(tmp_path: Path) -> Callable[..., Path]:
    """Write a twin folder from a manifest (dict or raw text) and a workflow (dict or raw text)."""

    def make(manifest: Any = None, workflow: Any = None, name: str = "twin") -> Path:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        if manifest is not None:
            text = manifest if isinstance(manifest, str) else json.dumps(manifest, indent=2)
            (folder / "manifest.json").write_text(text, encoding="utf-8")
        if workflow is not None:
            text = workflow if isinstance(workflow, str) else yaml.safe_dump(workflow, sort_keys=False)
            (folder / "workflow.yml").write_text(text, encoding="utf-8")
        return folder

    return make
