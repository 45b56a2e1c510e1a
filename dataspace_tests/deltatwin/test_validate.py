"""validate_folder: broken files become problems with a file and a path, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataspace_assets.deltatwin.validate import TwinFolderError, ValidationReport, validate_files, validate_folder
from dataspace_assets.deltatwin.workflow import Port
from dataspace_assets.errors import DataspaceError
from dataspace_tests.deltatwin.helpers import minimal_manifest, model, triples
from dataspace_tests.services import PROJECT_ROOT

WORKFLOW = {"nodes": [{"id": "a", "ref": "inputs.a"}, {"id": "o", "ref": "outputs.o"}], "edges": []}
MANIFEST = minimal_manifest(inputs={"a": {"type": "string"}}, outputs={"o": {"type": "Data"}})


def located(report: ValidationReport) -> list[tuple[str, str, str, str]]:
    return [(p.severity, p.code, p.location, p.message) for p in report.problems]


def test_a_missing_folder_is_a_usage_error_with_exit_code_2(tmp_path: Path) -> None:
    with pytest.raises(TwinFolderError, match="nope: no such folder") as raised:
        validate_folder(tmp_path / "nope")
    assert isinstance(raised.value, DataspaceError) and raised.value.exit_code == 2
    (tmp_path / "file").write_text("x")
    with pytest.raises(TwinFolderError, match="not a folder"):
        validate_folder(tmp_path / "file")


def test_missing_files_are_errors(tmp_path: Path) -> None:
    report = validate_folder(tmp_path)
    assert located(report) == [
        ("error", "file-missing", "manifest.json", f"not found in {tmp_path}"),
        ("error", "file-missing", "workflow.yml", f"not found in {tmp_path}"),
    ]
    assert report.manifest is None and report.workflow is None and report.twin is None


def test_a_workflow_under_another_name_gets_a_hint(twin_folder) -> None:
    folder = twin_folder(MANIFEST)
    (folder / "workflow.yaml").write_text("nodes: []\nedges: []\n")
    assert triples(validate_folder(folder).problems) == [
        ("error", "file-missing", "workflow.yml"),
        ("info", "workflow-name", "workflow.yml"),
    ]
    assert (
        validate_folder(folder).problems[1].message
        == "found workflow.yaml: the runtime only reads workflow.yml, rename it"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "x",\n  "description": }', "invalid JSON at line 2 column 18: Expecting value"),
        ("", "invalid JSON at line 1 column 1: Expecting value"),
        ('{"name": NaN}', "invalid JSON: NaN is not valid JSON"),
        (
            '{"n": 1' + "0" * 5000 + "}",
            "invalid JSON: Exceeds the limit (4300 digits) for integer string conversion: "
            "value has 5001 digits; use sys.set_int_max_str_digits() to increase the limit",
        ),
        ("[" * 100000 + "]" * 100000, "invalid JSON: nested too deeply"),
    ],
)
def test_invalid_json_is_reported_with_its_position(twin_folder, text, message) -> None:
    report = validate_folder(twin_folder(text, WORKFLOW))
    assert [(p.code, p.location, p.message) for p in report.problems if p.file == "manifest.json"] == [
        ("json-syntax", "manifest.json", message)
    ]


def test_a_repeated_json_key_is_a_warning(twin_folder) -> None:
    text = json.dumps(MANIFEST)[:-1] + ', "owner": "again"}'
    report = validate_folder(twin_folder(text, {"nodes": [], "edges": []}))
    assert [(p.severity, p.code, p.message) for p in report.problems] == [
        ("warning", "duplicate-key", 'key "owner" appears twice in one object: the last value is used')
    ]
    assert report.manifest.owner == "again"


def test_unreadable_files(twin_folder) -> None:
    folder = twin_folder(workflow=WORKFLOW)
    (folder / "manifest.json").write_bytes(b'{"name": "\xff"}')
    assert [(p.code, p.message) for p in validate_folder(folder).problems] == [
        ("file-unreadable", "not UTF-8 text (byte 10)")
    ]
    (folder / "manifest.json").unlink()
    (folder / "manifest.json").mkdir()
    assert [(p.code, p.message) for p in validate_folder(folder).problems] == [
        ("file-unreadable", "is a folder, not a file")
    ]


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (
            "nodes: [\nedges: []",
            "yaml-syntax",
            "invalid YAML at line 2 column 10: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "nodes:\n  - id: a\n   ref: b\n",
            "yaml-syntax",
            "invalid YAML at line 3 column 4: expected <block end>, but found '<block mapping start>'",
        ),
        (
            "nodes: !!python/object/apply:os.system ['true']\nedges: []",
            "yaml-syntax",
            "invalid YAML at line 1 column 8: could not determine a constructor "
            "for the tag 'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
        ("nodes: []\nedges: []\nwhen: 2025-13-45\n", "yaml-syntax", "invalid YAML: ValueError: month must be in 1..12"),
        ("nodes: " + "[" * 100000 + "]" * 100000 + "\nedges: []", "yaml-syntax", "invalid YAML: nested too deeply"),
        ("nodes: " + "{a: " * 5000 + "1" + "}" * 5000, "yaml-syntax", "invalid YAML: nested too deeply"),
        ("", "wrong-type", "expected a mapping with nodes and edges, got an empty file"),
        ("- a\n- b\n", "wrong-type", "expected a mapping with nodes and edges, got an array"),
    ],
)
def test_invalid_yaml_is_reported_with_its_position(twin_folder, text, code, message) -> None:
    report = validate_folder(twin_folder(MANIFEST, text))
    assert [(p.code, p.location, p.message) for p in report.problems] == [(code, "workflow.yml", message)]


def test_the_workflow_is_checked_even_when_the_manifest_is_unusable(twin_folder) -> None:
    workflow = {"nodes": [{"id": "a", "ref": "inputs.a"}], "edges": [{"from": {"id": "a"}, "to": {"id": "ghost"}}]}
    report = validate_folder(twin_folder(minimal_manifest(deltaVersion="7"), workflow))
    assert triples(report.problems) == [
        ("error", "unsupported-version", "manifest.json: deltaVersion"),
        ("error", "dangling-edge", "workflow.yml: edges[0].to.id"),
    ]


def test_unreadable_manifest_parts_do_not_pile_up_workflow_errors(twin_folder) -> None:
    manifest = minimal_manifest(inputs=["a"], outputs={"o": "Data"}, models={"m": model(inputs=[])})
    workflow = {
        "nodes": [{"id": "a", "ref": "inputs.a"}, {"id": "m", "ref": "models.m"}, {"id": "o", "ref": "outputs.o"}],
        "edges": [{"from": {"id": "a"}, "to": {"id": "m", "port": "x"}}],
    }
    report = validate_folder(twin_folder(manifest, workflow))
    assert triples(report.problems) == [
        ("error", "wrong-type", "manifest.json: inputs"),
        ("error", "wrong-type", "manifest.json: outputs.o"),
        ("error", "wrong-type", "manifest.json: models.m.inputs"),
    ]


def test_a_valid_folder_gives_the_typed_twin_and_warnings_do_not_fail_it(twin_folder) -> None:
    workflow = {**WORKFLOW, "edges": []}
    report = validate_folder(twin_folder(MANIFEST, workflow))
    assert report.ok and report.errors == ()
    assert [p.code for p in report.warnings] == ["unwired-output"]
    assert (
        report.twin is not None and report.twin.manifest is report.manifest and report.twin.workflow is report.workflow
    )
    assert report.summary("twin") == "twin: valid (1 warning)"


def test_a_report_with_errors_has_no_twin_and_says_invalid(twin_folder) -> None:
    report = validate_folder(twin_folder({**MANIFEST, "owner": 3}, WORKFLOW))
    assert not report.ok and report.twin is None and report.manifest is not None
    assert report.summary("twin") == "twin: invalid (1 error, 1 warning)"
    assert report.lines()[0] == "error   manifest.json: owner: expected a string, got integer 3 [wrong-type]"


def test_the_json_form_lists_every_problem(twin_folder) -> None:
    report = validate_folder(
        twin_folder(
            minimal_manifest(inputs={"bbox": {"type": "string", "description:": "x"}}), {"nodes": [], "edges": []}
        )
    )
    assert json.loads(report.to_json()) == [
        {
            "severity": "error",
            "code": "unknown-key",
            "file": "manifest.json",
            "path": 'inputs.bbox."description:"',
            "message": 'unknown key (did you mean "description"?)',
        }
    ]


def test_as_version_validates_the_manifest_as_another_version(twin_folder) -> None:
    folder = twin_folder(
        {"name": "n", "description": "d", "license": {"name": "l", "url": "u", "copyrights": []}},
        {"nodes": [], "edges": []},
    )
    assert not validate_folder(folder).ok  # as 1.4: owner is required
    report = validate_folder(folder, version="1.1")
    assert report.ok and report.manifest.delta_version == "1.1"


def test_a_manifest_alone_can_be_validated(twin_folder) -> None:
    folder = twin_folder(MANIFEST)
    report = validate_files(folder / "manifest.json", None)
    assert report.ok and report.problems == () and report.workflow is None


def test_the_project_example_twin_validates_cleanly() -> None:
    report = validate_folder(PROJECT_ROOT / "configs" / "deltatwins" / "example")
    assert report.problems == ()
    assert report.twin.order == ("text", "min_length", "readings", "pollutant", "count", "summarise", "counts", "summary")
    assert report.twin.nodes["count"].inputs == {"text": Port("text"), "min_length": Port("min_length")}


def test_workflow_problems_from_reading_and_from_the_checks_print_in_file_order(twin_folder) -> None:
    workflow = {
        "nodes": [{"id": "a", "ref": "inputs.a"}, {"id": "o", "ref": "outputs.o"}],
        "edges": [{"from": {"id": "ghost"}, "to": {"id": "o"}}, {"from": {"id": 1.5}, "to": {"id": "o"}}],
    }
    report = validate_folder(twin_folder(MANIFEST, workflow))
    assert triples(report.problems) == [
        ("error", "dangling-edge", "workflow.yml: edges[0].from.id"),  # found by the checks
        ("error", "bad-node-id", "workflow.yml: edges[1].from.id"),  # found while reading
    ]


def test_dependency_cycles_through_the_registry_are_errors(tmp_path) -> None:
    # the reference nests a run per dependency node with no check: a self-dependency never ends
    import json as _json

    entry = tmp_path / "registry" / "loop" / "1.0"
    entry.mkdir(parents=True)
    loop = minimal_manifest(name="loop", dependencies={"again": {"id": "loop", "version": "1.0"}})
    (entry / "manifest.json").write_text(_json.dumps(loop))
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "manifest.json").write_text(_json.dumps(minimal_manifest(dependencies={"dep": {"id": "loop", "version": "1.0"}})))
    (twin / "workflow.yml").write_text("nodes: []\nedges: []\n")
    assert validate_folder(twin).ok  # without a registry the loop cannot be seen
    report = validate_folder(twin, registries=[tmp_path / "registry"])
    assert [(p.severity, p.code, p.location, p.message) for p in report.errors] == [
        (
            "error",
            "dependency-cycle",
            "manifest.json: dependencies.dep",
            "dependency cycle: loop==1.0 -> loop==1.0: a run would nest forever",
        )
    ]
