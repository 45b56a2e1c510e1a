"""`dataspace twin validate` and `dataspace twin init`: output and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dataspace_assets.cli import main
from dataspace_tests.deltatwin.helpers import PREFIX, minimal_manifest
from dataspace_tests.services import PROJECT_ROOT

EMPTY = {"nodes": [], "edges": []}


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


# -- --inputs and --publish ----------------------------------------------------------------------

_SECRET = "cli-secret-7Qx2-never-shown"


def _all_models_inputs(deltatwin_examples_dir: Path, tmp_path: Path, **changes: dict) -> Path:
    """The real all_models inputs file with its empty secrets filled in (and entries changed), written to tmp_path."""
    data = json.loads(
        (deltatwin_examples_dir / f"{PREFIX['all_models']}__inputs_file.json").read_text(encoding="utf-8")
    )
    for name in ("cdse_key", "cdse_secret"):
        data[name]["secret_value"] = _SECRET
    data.update(changes)
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_inputs_are_checked_and_secrets_never_printed(example_twin, deltatwin_examples_dir, tmp_path, capsys) -> None:
    folder = example_twin("all_models")
    inputs = _all_models_inputs(deltatwin_examples_dir, tmp_path)
    assert main(["twin", "validate", str(folder), "--inputs", str(inputs)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"{folder}: valid (7 warnings, 3 notes)"
    assert _SECRET not in out


def test_input_errors_exit_1_in_text_and_json_without_the_secret(
    example_twin, deltatwin_examples_dir, tmp_path, capsys
) -> None:
    folder = example_twin("all_models")
    inputs = _all_models_inputs(
        deltatwin_examples_dir,
        tmp_path,
        cdse_key={"type": "secret", "value": _SECRET},  # the secret under the wrong key
        max_cloud_cover={"type": "integer", "value": 20.0},
    )
    assert main(["twin", "validate", str(folder), "--inputs", str(inputs)]) == 1
    text = capsys.readouterr().out
    assert [line for line in text.splitlines() if line.startswith("error")] == [
        "error   inputs.json: cdse_key.value: "
        "Input cdse_key must be of type secret but is of type string. [input-type]",
        "error   inputs.json: max_cloud_cover.value: "
        "Input max_cloud_cover must be of type integer but is of type number. [input-type]",
    ]
    assert main(["twin", "validate", str(folder), "--inputs", str(inputs), "--json"]) == 1
    as_json = capsys.readouterr().out
    assert [(p["code"], p["path"]) for p in json.loads(as_json) if p["file"] == "inputs.json"] == [
        ("input-type", "cdse_key.value"),
        ("input-type", "max_cloud_cover.value"),
    ]
    assert _SECRET not in text and _SECRET not in as_json


def test_missing_inputs_are_listed(twin_folder, tmp_path, capsys) -> None:
    folder = twin_folder(minimal_manifest(inputs={"b": {"type": "string"}, "a": {"type": "Data"}}), EMPTY)
    (tmp_path / "in.json").write_text("{}", encoding="utf-8")
    assert main(["twin", "validate", str(folder), "--inputs", str(tmp_path / "in.json")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "error   in.json: Inputs ['a', 'b'] required. [missing-inputs]",
        f"{folder}: invalid (1 error)",
    ]


def test_a_broken_inputs_file_is_a_problem(twin_folder, tmp_path, capsys) -> None:
    folder = twin_folder(minimal_manifest(), EMPTY)
    assert main(["twin", "validate", str(folder), "--inputs", str(tmp_path / "none.json"), "--json"]) == 1
    assert [(p["code"], p["file"]) for p in json.loads(capsys.readouterr().out)] == [("file-missing", "none.json")]


def test_publish_checks_the_version_and_the_1_4_schema(twin_folder, capsys) -> None:
    folder = twin_folder(minimal_manifest(), EMPTY)
    assert main(["twin", "validate", str(folder), "--publish", "1.0.0"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{folder}: valid"]
    assert main(["twin", "validate", str(folder), "--publish", "one", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == [
        {
            "severity": "error",
            "code": "publish-version",
            "file": "VERSION",
            "path": "",
            "message": '"one" is not a PEP 440 version (for example 1.0.0 or 1.2rc1)',
        }
    ]


def test_publish_and_as_version_are_exclusive(twin_folder, capsys) -> None:
    folder = twin_folder(minimal_manifest(), EMPTY)
    with pytest.raises(SystemExit) as exit_:
        main(["twin", "validate", str(folder), "--publish", "1.0", "--as-version", "1.2"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
