"""`dg` works on the project: [tool.dg] names the code location, and no ./dagster.yaml sits in the root to be ignored."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


@pytest.mark.ui
@pytest.mark.services
def test_dg_dev_serves_the_code_location(tmp_path: Path) -> None:
    """`dg dev` (webserver, daemon, code server) loads the location without errors and stops by its group."""
    from dataspace_assets.definitions import defs
    from dataspace_tests.services import DgDev

    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())  # as `prepare_dagster_home`
    server = DgDev(home, env={"DATASPACE_HOME": str(tmp_path / "home")})
    try:
        server.start(timeout=180)
        data = server.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
            "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        )
        entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
        assert list(entries) == ["dataspace"]
        assert entries["dataspace"]["loadStatus"] == "LOADED"
        assert entries["dataspace"]["locationOrLoadError"]["__typename"] == "RepositoryLocation", entries
        nodes = server.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
        served = {"/".join(n["assetKey"]["path"]) for n in nodes}
        assert served == {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    finally:
        stopped = server.stop()  # TERM to the group (webserver, daemon, code server), KILL after a grace period
    assert stopped, "a process of the dg dev group outlived the TERM"
    log = server.log.read_text(errors="replace")
    served_part = log.split("Shutting down")[0]  # what it logged while serving, before the TERM
    assert "Traceback" not in served_part and "ERROR" not in served_part and "is ignored" not in log, log[-3000:]
