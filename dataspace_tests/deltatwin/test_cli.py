"""`dataspace twin validate` and `dataspace twin init`: output and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from dataspace_assets.cli import main
from dataspace_tests.deltatwin.helpers import minimal_manifest
from dataspace_tests.services import PROJECT_ROOT


def test_a_valid_folder_prints_its_warnings_and_exits_0(example_twin, capsys) -> None:
    folder = example_twin("mucilage")
    assert main(["twin", "validate", str(folder)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "warning manifest.json: models.mucilage_detector.parameters.pythonVersion: "
        '"3.11.7" is read as "3.11": images are built per minor version [python-version]',
        f"{folder}: valid (1 warning)",
    ]


def test_errors_are_printed_one_per_line_and_exit_1(example_twin, capsys) -> None:
    folder = example_twin("stac")
    assert main(["twin", "validate", str(folder)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"{folder}: invalid (1 error, 4 warnings)"
    assert [line.split()[0] for line in out[:-1]] == ["warning", "warning", "warning", "warning", "error"]
    assert out[-2].startswith(
        'error   workflow.yml: edges[4].to.port: port "max_cloud_covery" is not an input of models.stac_query'
    )


def test_json_output_is_a_list_of_problem_objects(example_twin, capsys) -> None:
    assert main(["twin", "validate", str(example_twin("end-to-end")), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)
    assert all(set(p) == {"severity", "code", "file", "path", "message"} for p in problems)
    assert {
        "severity": "error",
        "code": "unknown-key",
        "file": "manifest.json",
        "path": 'inputs.bbox."description:"',
        "message": 'unknown key (did you mean "description"?)',
    } in problems
    assert [p["path"] for p in problems if p["code"] == "dangling-ref"] == ["nodes[15].ref"]


def test_json_output_of_a_clean_folder_is_an_empty_list(twin_folder, capsys) -> None:
    folder = twin_folder(minimal_manifest(), {"nodes": [], "edges": []})
    assert main(["twin", "validate", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_missing_folder_exits_2_with_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["twin", "validate", str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {tmp_path / 'nope'}: no such folder\n"


def test_as_version_and_registry_options(twin_folder, tmp_path: Path, capsys) -> None:
    registry = tmp_path / "registry"
    (registry / "stac" / "1.0").mkdir(parents=True)
    (registry / "stac" / "1.0" / "manifest.json").write_text(
        json.dumps(minimal_manifest(outputs={"items": {"type": "Data"}}))
    )
    manifest = {
        "name": "n",
        "description": "d",
        "license": {"name": "l", "url": "u", "copyrights": []},
        "dependencies": ["stac==1.0"],
        "outputs": {"o": {"type": "Data"}},
    }
    workflow = {
        "nodes": [{"id": "s", "ref": "dependencies.stac"}, {"id": "o", "ref": "outputs.o"}],
        "edges": [{"from": {"id": "s", "port": "item"}, "to": {"id": "o"}}],
    }
    folder = twin_folder(manifest, workflow)
    assert main(["twin", "validate", str(folder), "--as-version", "1.1", "--registry", str(registry)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        'error   workflow.yml: edges[0].from.port: port "item" is not an output of '
        'dependencies.stac (outputs: items) (did you mean "items"?) [unknown-port]',
        f"{folder}: invalid (1 error)",
    ]


def test_init_creates_a_folder_that_validates(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "flood-detector"
    assert main(["twin", "init", str(folder), "--owner", "ESA"]) == 0
    assert capsys.readouterr().out == f"created {folder}/ with manifest.json, workflow.yml and models/\n"
    assert json.loads((folder / "manifest.json").read_text())["owner"] == "ESA"
    assert main(["twin", "validate", str(folder)]) == 0
    assert capsys.readouterr().out == f"{folder}: valid\n"


def test_init_prints_the_warnings_of_the_new_folder(tmp_path: Path, capsys) -> None:
    assert main(["twin", "init", str(tmp_path / "My_Twin")]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "warning manifest.json: name: DeltaTwin names should use "
        'lower-case letters, digits and "-" only [identifier-style]'
    ]


def test_init_refuses_an_existing_folder(tmp_path: Path, capsys) -> None:
    assert main(["twin", "init", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path} already exists: twin init only creates a new folder\n"


def test_a_broken_folder_never_gives_a_traceback_from_the_installed_command(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"name": [1, 2,')
    (tmp_path / "workflow.yml").write_bytes(b"nodes: [\xff\n")
    answer = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "dataspace"), "twin", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 1, answer.stderr
    assert answer.stderr == ""
    assert answer.stdout.splitlines() == [
        "error   manifest.json: invalid JSON at line 1 column 16: Expecting value [json-syntax]",
        "error   workflow.yml: not UTF-8 text (byte 8) [file-unreadable]",
        f"{tmp_path}: invalid (2 errors)",
    ]
