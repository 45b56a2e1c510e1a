"""`dg` works on the project: [tool.dg] names the code location, and no ./dagster.yaml sits in the root to be ignored."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from dataspace_assets.instance import INSTANCE_TEMPLATE
from dataspace_tests.services import PROJECT_ROOT


def test_tool_dg_names_the_same_code_location() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    project = pyproject["tool"]["dg"]["project"]
    assert pyproject["tool"]["dg"]["directory_type"] == "project"
    assert project["code_location_target_module"] == pyproject["tool"]["dagster"]["module_name"]
    assert project["code_location_name"] == pyproject["tool"]["dagster"]["code_location_name"]


def test_the_instance_template_is_package_data_not_a_root_dagster_yaml() -> None:
    # Dagster warns that ./dagster.yaml is ignored whenever DAGSTER_HOME points elsewhere.
    assert not (PROJECT_ROOT / "dagster.yaml").exists()
    assert INSTANCE_TEMPLATE.is_file() and INSTANCE_TEMPLATE.parent.name == "dataspace_assets"


def test_dg_check_defs(tmp_path: Path) -> None:
    dg = Path(sys.executable).parent / "dg"
    env = {**os.environ, "DATASPACE_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())  # as `prepare_dagster_home`
    done = subprocess.run(
        [str(dg), "check", "defs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "All definitions loaded successfully." in output
    assert "dagster.yaml" not in output and "ignored" not in output and "Traceback" not in output
