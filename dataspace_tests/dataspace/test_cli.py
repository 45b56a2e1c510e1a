"""`dataspace config validate`: exit codes and output."""

from __future__ import annotations

import subprocess

from dataspace_assets.cli import main
from dataspace_tests.dataspace.test_config import collector
from dataspace_tests.services import PROJECT_ROOT


def test_valid_configs_print_a_summary(configs, capsys) -> None:
    configs.toml("meteo.toml", collector("wind", SCHEDULE='"04:20"') + collector("rain", SCHEDULE='"5m"', SCHEDULE_ENABLED="false"))
    assert main(["config", "validate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{configs.folder}: 1 file(s), 2 collector(s), 0 harvester(s), 0 handler(s)"
    assert out[1].split() == ["collector", "meteo_wind", "daily", "at", "04:20", "(04:20,", "UTC)", "tests.Echo"]
    assert out[2].split() == ["collector", "meteo_rain", "every", "5m", "(5m,", "UTC),", "schedule", "off", "tests.Echo"]


def test_problems_are_printed_one_per_line_with_exit_1(configs, capsys) -> None:
    configs.toml("a.toml", collector(SCHEDUEL='"5m"') + collector("b", RETRIES='"x"'))
    assert main(["config", "validate", "--configs", str(configs.root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "dataspace/a.toml: [collectors.feed] SCHEDUEL: unknown key (did you mean SCHEDULE?)",
        "dataspace/a.toml: [collectors.b] RETRIES: expected an integer, got string 'x'",
        f"2 problem(s) in {configs.folder}",
    ]


def test_configs_may_name_the_toml_folder_itself(configs, capsys) -> None:
    configs.toml("a.toml", collector())
    assert main(["config", "validate", "--configs", str(configs.folder)]) == 0
    assert "1 collector(s)" in capsys.readouterr().out


def test_missing_folder(tmp_path, capsys) -> None:
    assert main(["config", "validate", "--configs", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().out == f"{tmp_path / 'nope'}: no such folder\n"


def test_project_configs_validate_with_the_installed_command() -> None:
    answer = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "dataspace"), "config", "validate", "--configs", str(PROJECT_ROOT / "configs")],
        capture_output=True, text=True, timeout=120,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "example_air_quality" in answer.stdout
