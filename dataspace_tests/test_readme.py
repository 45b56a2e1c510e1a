"""The README's commands keep working: the Dagster CLI materialization it documents runs as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

from dataspace_assets.storage.store import DataStore
from dataspace_tests.services import PROJECT_ROOT


def _readme_command(prefix: str, containing: str = "") -> list[str]:
    """The one command line of the README that starts with `prefix` (and holds `containing`), split like a shell would."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    lines = [
        line.strip() for line in readme.splitlines() if line.strip().startswith(prefix) and containing in line
    ]
    assert len(lines) == 1, f"README should document exactly one `{prefix}` command, found {lines}"
    return shlex.split(lines[0])


def test_readme_dagster_materialize_command_runs_as_written(tmp_settings) -> None:
    argv = _readme_command(".venv/bin/dagster asset materialize", "dataspace/")
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


def test_readme_twin_commands_run_as_written_with_the_same_outputs(tmp_settings, tmp_path) -> None:
    import json
    from pathlib import Path

    tmp_settings.dagster_home.mkdir(parents=True)
    env = {**os.environ, "DATASPACE_CONFIGS": str(PROJECT_ROOT / "configs")}

    def run(argv: list[str]) -> subprocess.CompletedProcess:
        done = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    run(_readme_command(".venv/bin/dagster asset materialize", "dataspace/"))  # the twin reads the collector
    run(_readme_command(".venv/bin/dagster asset materialize", "deltatwin/"))
    described = tmp_settings.home / "deltatwin" / "outputs" / "deltatwin" / "example-word-count" / "counts.json"
    from_dagster = json.loads(described.read_text())
    echo = _readme_command("echo ", "inputs.json")
    inputs = tmp_path / "inputs.json"
    inputs.write_text(echo[1] + "\n")
    argv = _readme_command(".venv/bin/dataspace twin run")
    argv[argv.index("--inputs") + 1] = str(inputs)
    result = json.loads(run(argv).stdout)
    assert result["status"] == "success" and result["return_code"] == 0
    assert result["outputs"]["counts"]["checksum"] == from_dagster["checksum"]
    assert json.loads(Path(result["outputs"]["counts"]["path"]).read_text()) == {"one": 1, "two": 2}
    assert re.fullmatch(r"md5@[0-9a-f]{32}", result["outputs"]["summary"]["checksum"])
