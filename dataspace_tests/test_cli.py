"""The `dataspace` command: help, version, doctor."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dataspace_assets import __version__
from dataspace_assets.cli import main
from dataspace_tests.services import PROJECT_ROOT


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"dataspace {__version__}"

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "dev", "doctor", "config", "twin", "harvest"):
        assert command in out


def test_console_script_is_installed() -> None:
    answer = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "dataspace"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == f"dataspace {__version__}"


def test_doctor_reports_a_healthy_embedded_default(tmp_settings, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DATASPACE_CONFIGS", str(PROJECT_ROOT / "configs"))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"dataspace {__version__}"
    assert [line.split()[0] for line in lines[1:]] == ["ok"] * 4
    assert str(tmp_settings.dagster_home) in out
    assert "SqlRunStorage" in out or "SqliteRunStorage" in out
    assert str(tmp_settings.blobs_dir) in out


def test_doctor_names_what_is_unreachable(tmp_settings, capsys, monkeypatch, postgres_cluster) -> None:
    # A PostgreSQL URL on a port where nothing listens, and a configs folder that does not exist.
    dead = postgres_cluster.url("nope").replace(str(postgres_cluster.port), "1")
    monkeypatch.setenv("DATASPACE_DATABASE_URL", dead)
    monkeypatch.setenv("DATASPACE_CONFIGS", str(tmp_settings.home / "missing-configs"))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert [line.split(":")[0] for line in failed] == ["FAIL  configs", "FAIL  database"]
    assert "missing-configs is not a folder" in failed[0]
    assert "Traceback" not in out


def test_unknown_command_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_module_runs_as_script() -> None:
    answer = subprocess.run([sys.executable, "-m", "dataspace_assets.cli", "--version"], capture_output=True, text=True)
    assert answer.returncode == 0 and __version__ in answer.stdout


def test_output_piped_into_a_reader_that_stops_early_gives_no_traceback(tmp_path) -> None:
    # A manifest with thousands of problems: far more output than a pipe buffer holds.
    twin = tmp_path / "noisy"
    twin.mkdir()
    inputs = {f"in{i}": {"type": "string", f"bogus{i}": 1} for i in range(3000)}
    (twin / "manifest.json").write_text(
        '{"name": "noisy", "description": "", "owner": "me", "inputs": ' + json.dumps(inputs) + "}"
    )
    process = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "dataspace"), "twin", "validate", str(twin)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout.readline()  # like `| head -1`
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
