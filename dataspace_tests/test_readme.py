"""The README's commands keep working: the Dagster CLI materialization it documents runs as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

from dataspace_assets.storage.store import DataStore
from dataspace_tests.services import PROJECT_ROOT


def _readme_command(prefix: str) -> list[str]:
    """The one command line of the README that starts with `prefix`, split like a shell would."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line.strip() for line in readme.splitlines() if line.strip().startswith(prefix)]
    assert len(lines) == 1, f"README should document exactly one `{prefix}` command, found {lines}"
    return shlex.split(lines[0])


def test_readme_dagster_materialize_command_runs_as_written(tmp_settings) -> None:
    argv = _readme_command(".venv/bin/dagster asset materialize")
    assert re.search(r"dataspace/", " ".join(argv))
    tmp_settings.dagster_home.mkdir(parents=True)
    env = {**os.environ, "DATASPACE_CONFIGS": str(PROJECT_ROOT / "configs")}
    answer = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert "RUN_SUCCESS" in answer.stderr + answer.stdout
    store = DataStore.from_settings(tmp_settings)
    try:
        assert store.count("example_air_quality") == 24 * 6 + 1  # a day of history, then the reading
        assert store.count("example_air_quality_peaks") == 24  # the harvesters ran in the same command
    finally:
        store.close()
