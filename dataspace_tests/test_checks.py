"""Checks before anything runs: every config of every pillar, secrets kept out of the output, bad environments named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataspace_assets.cli import main
from dataspace_tests.services import AZURITE_KEY, PROJECT_ROOT

PASSWORD = "Pa55-w0rd-kept-secret"


def _configs(tmp_path: Path) -> Path:
    """A copy of the example configs the test may break."""
    import shutil

    target = tmp_path / "broken-configs"
    shutil.copytree(PROJECT_ROOT / "configs", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def run(capsys: pytest.CaptureFixture):
    def call(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return call


# ------------------------------------------------------------------ secrets


def test_doctor_never_prints_a_secret(tmp_settings, pg_url, azurite, monkeypatch, run) -> None:
    monkeypatch.setenv("DATASPACE_CONFIGS", str(PROJECT_ROOT / "configs"))
    monkeypatch.setenv("DATASPACE_DATABASE_URL", pg_url.replace("postgres@", f"postgres:{PASSWORD}@"))
    monkeypatch.setenv("DATASPACE_AZURE_CONNECTION_STRING", azurite.connection_string)
    code, out, err = run("doctor")
    assert code == 0, out
    assert PASSWORD not in out + err and AZURITE_KEY not in out + err
    assert "from $DATASPACE_AZURE_CONNECTION_STRING" in out
    [database] = [line for line in out.splitlines() if line.startswith("ok    database:")]
    assert database.endswith(":***@127.0.0.1:" + pg_url.split(":")[-1].split("/")[0] + "/" + pg_url.rsplit("/", 1)[1]
                             + " (from $DATASPACE_DATABASE_URL)")

    # a failing database: the error names the server, never the password
    monkeypatch.setenv("DATASPACE_DATABASE_URL", f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/none")
    code, out, err = run("doctor")
    assert code == 1 and PASSWORD not in out + err
    assert "FAIL  database:" in out


def test_the_main_job_summary_masks_the_database_password(tmp_settings, monkeypatch) -> None:
    from dataspace_assets.main_job import MainJobReport, format_report
    from dataspace_assets.settings import load_settings

    monkeypatch.setenv("DATASPACE_DATABASE_URL", f"postgresql://harvest:{PASSWORD}@db.internal/dataspace")
    text = format_report(MainJobReport(), load_settings())
    assert PASSWORD not in text and "postgresql://harvest:***@db.internal/dataspace" in text


def test_redact_masks_keys_and_url_passwords(monkeypatch) -> None:
    from dataspace_assets.settings import redact

    monkeypatch.setenv("DATASPACE_AZURE_CONNECTION_STRING", f"AccountName=a;AccountKey={AZURITE_KEY}")
    assert redact(f"boom AccountName=a;AccountKey={AZURITE_KEY}") == "boom $DATASPACE_AZURE_CONNECTION_STRING"
    assert redact("redis://:hunter22@redis:6379/0") == "redis://:***@redis:6379/0"
    assert redact(f"DefaultEndpointsProtocol=https;AccountKey={AZURITE_KEY};x") == (
        "DefaultEndpointsProtocol=https;AccountKey=***;x"
    )


# ------------------------------------------------------------------ every config, before anything runs

BAD_SOURCE = """
[[sources]]
name = "Broken portal"
backend = "dcat"
url = "https://portal.example/catalog.ttl"
config = {{ {config} }}
"""


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("retries = 1000000", 'Config key "retries" must be between 0 and 10'),
        ('default_language = 3', 'Config key "default_language" of "dcat" backend must be str'),
        ("max_pages = 0", 'Config key "max_pages" must be between 1 and 100000'),
    ],
)
def test_a_bad_harvest_source_fails_validate_and_doctor(tmp_settings, tmp_path, monkeypatch, run, config, message) -> None:
    configs = _configs(tmp_path)
    bad = configs / "harvest" / "broken.toml"
    bad.write_text(BAD_SOURCE.format(config=config))
    monkeypatch.setenv("DATASPACE_CONFIGS", str(configs))
    code, out, _ = run("config", "validate")
    assert code == 1
    assert f"{bad}: sources[0].config: {message}" in out
    code, out, _ = run("doctor")
    assert code == 1
    [configs_line] = [line for line in out.splitlines() if "configs:" in line]
    assert configs_line.startswith("FAIL  configs: 1 problem(s):") and message in configs_line


def test_a_bad_harvest_url_fails_validate(tmp_settings, tmp_path, monkeypatch, run) -> None:
    configs = _configs(tmp_path)
    bad = configs / "harvest" / "broken.toml"
    bad.write_text('[[sources]]\nname = "X"\nbackend = "dcat"\nurl = "http://127.0.0.1:8080\\\\@example.com/x.ttl"\n')
    monkeypatch.setenv("DATASPACE_CONFIGS", str(configs))
    code, out, _ = run("config", "validate")
    assert code == 1 and f"{bad}: sources[0]: invalid url" in out and "backslash" in out


def test_a_broken_deltatwin_folder_fails_validate_and_doctor(tmp_settings, tmp_path, monkeypatch, run) -> None:
    configs = _configs(tmp_path)
    manifest = configs / "deltatwins" / "example" / "manifest.json"
    manifest.write_text('{"name": "example"')
    monkeypatch.setenv("DATASPACE_CONFIGS", str(configs))
    code, out, _ = run("config", "validate")
    assert code == 1 and "manifest.json" in out and "invalid JSON" in out
    code, out, _ = run("doctor")
    assert code == 1 and "FAIL  configs:" in out


def test_the_example_configs_validate(tmp_settings, monkeypatch, run) -> None:
    monkeypatch.setenv("DATASPACE_CONFIGS", str(PROJECT_ROOT / "configs"))
    code, out, _ = run("config", "validate")
    assert code == 0 and "harvest sources and DeltaTwin folders valid" in out


# ------------------------------------------------------------------ fuzzed inputs


@pytest.mark.parametrize("shape", ["array", "inline-table"])
def test_deeply_nested_toml_is_a_problem_not_a_crash(tmp_settings, tmp_path, monkeypatch, run, shape) -> None:
    configs = _configs(tmp_path)
    value = "[" * 500 + "]" * 500 if shape == "array" else "{a = " * 500 + "1" + "}" * 500
    (configs / "dataspace" / "deep.toml").write_text(f"[collectors.deep]\nPATH = 'x.Y'\nDEEP = {value}\n")
    (configs / "harvest" / "deep.toml").write_text(f'[[sources]]\nname = "d"\nbackend = "dcat"\nurl = "https://x.example/"\nconfig = {{ d = {value} }}\n')
    monkeypatch.setenv("DATASPACE_CONFIGS", str(configs))
    code, out, _ = run("config", "validate")
    assert code == 1
    assert "dataspace/deep.toml: invalid TOML: arrays or inline tables nested too deeply" in out
    assert "harvest" in out and "nested too deeply" in out.split("dataspace/deep.toml", 1)[1]


def test_a_fifo_named_as_a_config_is_never_read(tmp_settings, tmp_path, monkeypatch, run) -> None:
    configs = _configs(tmp_path)
    os.mkfifo(configs / "dataspace" / "pipe.toml")
    os.mkfifo(configs / "harvest" / "pipe.toml")
    monkeypatch.setenv("DATASPACE_CONFIGS", str(configs))
    code, out, _ = run("config", "validate")
    assert code == 1
    assert "dataspace/pipe.toml: not a regular file: not read" in out
    assert f"{configs / 'harvest' / 'pipe.toml'}: not a regular file: not read" in out


@pytest.mark.parametrize("name", ["manifest.json", "workflow.yml"])
def test_a_fifo_or_endless_twin_file_is_never_read(tmp_path, run, name: str) -> None:
    assert run("twin", "init", str(tmp_path / "t"))[0] == 0
    target = tmp_path / "t" / name
    target.unlink()
    os.mkfifo(target)
    code, out, _ = run("twin", "validate", str(tmp_path / "t"))
    assert code != 0 and "is not a regular file (a FIFO or a device is never read)" in out
    target.unlink()
    target.symlink_to("/dev/zero")  # a file that never ends
    code, out, _ = run("twin", "validate", str(tmp_path / "t"))
    assert code != 0 and "is not a regular file" in out


def test_a_huge_manifest_is_refused_unread(tmp_path, run) -> None:
    from dataspace_assets.deltatwin.files import MAX_FILE_BYTES

    assert run("twin", "init", str(tmp_path / "t"))[0] == 0
    with (tmp_path / "t" / "manifest.json").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk spent
    code, out, _ = run("twin", "validate", str(tmp_path / "t"))
    assert code != 0 and "is larger than 16 MiB: not read" in out


@pytest.mark.parametrize("command", ["validate", "init"])
def test_an_over_long_twin_path_is_a_clear_error(tmp_path, run, command: str) -> None:
    code, out, err = run("twin", command, str(tmp_path / ("x" * 5000)))
    assert code != 0
    assert "File name too long" in err and "(5" in err  # the path is shortened, its length given
    assert len(err) < 400


@pytest.mark.parametrize("command", ["validate", "init"])
def test_a_nul_in_a_twin_path_is_a_clear_error(tmp_path, run, command: str) -> None:
    code, _, err = run("twin", command, str(tmp_path / "a\x00b"))
    assert code != 0 and err.startswith("error: ")
    assert ("no such folder" if command == "validate" else "embedded null byte") in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/none", "Connection refused"),
        ("nosuchdialect://user@host/db", 'unknown or uninstalled database dialect "nosuchdialect"'),
    ],
)
def test_a_bad_database_url_is_one_clear_line(tmp_settings, monkeypatch, run, url: str, message: str) -> None:
    monkeypatch.setenv("DATASPACE_DATABASE_URL", url)
    code, out, err = run("harvest", "sources")
    assert code == 1 and err.startswith("error: ") and "(DATASPACE_DATABASE_URL)" in err and message in err
    assert PASSWORD not in err and len(err.splitlines()) == 1


def test_a_database_url_naming_a_text_file(tmp_settings, tmp_path, monkeypatch, run) -> None:
    text = tmp_path / "notes.db"
    text.write_text("these are notes, not a database\n" * 100)
    monkeypatch.setenv("DATASPACE_DATABASE_URL", f"sqlite:///{text}")
    code, _, err = run("harvest", "sources")
    assert code == 1 and err.strip() == f"error: database sqlite:///{text} (DATASPACE_DATABASE_URL): file is not a database"


@pytest.mark.parametrize("kind", ["a file", "unwritable"])
def test_a_bad_dataspace_home(tmp_settings, tmp_path, monkeypatch, run, kind: str) -> None:
    if kind == "a file":
        home = tmp_path / "home-file"
        home.write_text("x")
    else:
        home = Path("/proc/dataspace-home")  # nobody, not even root, creates folders there
    monkeypatch.setenv("DATASPACE_HOME", str(home))
    monkeypatch.delenv("DATASPACE_DATABASE_URL")
    monkeypatch.delenv("DAGSTER_HOME")
    code, _, err = run("harvest", "sources")
    assert code == 1 and err.startswith(f"error: {home}") and "check DATASPACE_HOME" in err


@pytest.mark.parametrize(("path", "reason"), [("a\x00b.ttl", "embedded null byte"), ("x" * 5000 + ".ttl", "File name too long")])
def test_an_unusable_harvest_path_names_the_key(tmp_settings, tmp_path, monkeypatch, run, path: str, reason: str) -> None:
    import json

    configs = _configs(tmp_path)
    bad = configs / "harvest" / "broken.toml"
    bad.write_text(f'[[sources]]\nname = "X"\nbackend = "dcat"\npath = {json.dumps(path)}\n')
    monkeypatch.setenv("DATASPACE_CONFIGS", str(configs))
    code, out, _ = run("config", "validate")
    assert code == 1 and f"{bad}: sources[0].path: unusable path ({reason})" in out
