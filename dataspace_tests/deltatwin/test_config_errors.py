"""Every validated key of a twin folder, fed a bad value: the problem names the file and the key, never a traceback.

One case per (file, key, bad value) of the example twin (`configs/deltatwins/example`, copied at test time):
wrong types, bad enums and ranges, unknown keys where they are refused, missing required keys, and whole-file
failures (malformed, empty, a folder or a FIFO, nested too deeply, not UTF-8, a path beyond the file-name limit).
Each goes through `twin validate DIR --json`, `twin validate` (text), `config validate`, the definitions load
and, for the inputs file, `twin run --inputs`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from dataspace_assets.cli import main
from dataspace_assets.deltatwin.definitions import twin_definitions
from dataspace_assets.errors import DataspaceError

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "deltatwins" / "example"
class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()  # the key is removed instead of set
INPUTS = {"text": {"type": "string", "value": "one two"}}  # `readings` is bound to a data-space asset (bindings.toml)

# (path of the key changed, the bad value or DELETE, the key path the problem must name)
MANIFEST_CASES: list[tuple[tuple, Any, str]] = [
    *[((key,), 1, key) for key in ("name", "description", "owner", "short_description")],
    (("deltaVersion",), 1.4, "deltaVersion"), (("deltaVersion",), "9.9", "deltaVersion"),
    (("nme",), "x", "nme"),  # an unknown top-level key (the top level is closed)
    *[((key,), DELETE, key) for key in ("name", "description", "owner")],
    (("license",), "x", "license"), (("license", "name"), 1, "license.name"), (("license", "url"), DELETE, "license.url"),
    (("license", "copyrights"), "x", "license.copyrights"),
    (("license", "copyrights", 0, "years"), [1800], "license.copyrights[0].years[0]"),
    (("license", "copyrights", 0, "years"), [2025, 2025], "license.copyrights[0].years"),
    (("license", "copyrights", 0, "company"), 1, "license.copyrights[0].company"),
    (("inputs",), "x", "inputs"), (("inputs", "text"), "x", "inputs.text"),
    (("inputs", "text", "type"), 1, "inputs.text.type"), (("inputs", "text", "type"), "nope", "inputs.text.type"),
    (("inputs", "text", "type"), DELETE, "inputs.text.type"), (("inputs", "text", "value"), 1, "inputs.text.value"),
    (("inputs", "text", "description"), 1, "inputs.text.description"),
    (("inputs", "text", "descr"), "x", "inputs.text.descr"), (("inputs", "text", "name"), "other", "inputs.text.name"),
    (("inputs", "a b"), {"type": "string"}, 'inputs."a b"'),
    (("resources", "min_length", "value"), "x", "resources.min_length.value"),
    (("resources", "min_length", "value"), DELETE, "resources.min_length.value"),
    (("resources", "min_length", "type"), "nope", "resources.min_length.type"),
    (("resources", "min_length", "extra"), 1, "resources.min_length.extra"),
    (("outputs", "counts", "type"), 1, "outputs.counts.type"), (("outputs", "counts", "glob"), "x", "outputs.counts.glob"),
    (("models", "word-count", "path"), 1, "models.word-count.path"),
    (("models", "word-count", "path"), DELETE, "models.word-count.path"),
    (("models", "word-count", "type"), "docker", "models.word-count.type"),
    (("models", "word-count", "extra"), 1, "models.word-count.extra"),
    (("models", "word-count", "parameters"), "x", "models.word-count.parameters"),
    (("models", "word-count", "parameters", "command"), DELETE, "models.word-count.parameters.command"),
    (("models", "word-count", "parameters", "command"), 1, "models.word-count.parameters.command"),
    (("models", "word-count", "parameters", "command"), "python main.py $(inputs.nope)", "models.word-count.parameters.command"),
    (("models", "word-count", "parameters", "command"), "python main.py $(outputs.x)", "models.word-count.parameters.command"),
    (("models", "word-count", "parameters", "pythonVersion"), 3.11, "models.word-count.parameters.pythonVersion"),
    (("models", "word-count", "parameters", "pythonVersion"), "three", "models.word-count.parameters.pythonVersion"),
    (("models", "word-count", "parameters", "pipRequirements"), "x", "models.word-count.parameters.pipRequirements"),
    (("models", "word-count", "parameters", "pipRequirements"), [1], "models.word-count.parameters.pipRequirements[0]"),
    (("models", "word-count", "parameters", "pipRequirements"), [{"version": "1"}],
     "models.word-count.parameters.pipRequirements[0].name"),
    (("models", "word-count", "parameters", "pipRequirementFiles"), "x", "models.word-count.parameters.pipRequirementFiles"),
    (("models", "word-count", "parameters", "environment"), "x", "models.word-count.parameters.environment"),
    (("models", "word-count", "parameters", "environment"), {"A": [1]}, "models.word-count.parameters.environment.A"),
    (("models", "word-count", "inputs", "text", "prefix"), 1, "models.word-count.inputs.text.prefix"),
    (("models", "word-count", "inputs", "text", "extra"), 1, "models.word-count.inputs.text.extra"),
    (("models", "word-count", "outputs", "counts", "glob"), 1, "models.word-count.outputs.counts.glob"),
    (("models", "word-count", "outputs", "counts", "glob"), DELETE, "models.word-count.outputs.counts"),
    (("dependencies",), "x", "dependencies"), (("dependencies",), {"dep": {"id": "child"}}, "dependencies.dep.version"),
    (("dependencies",), {"dep": {"id": 1, "version": "1.0"}}, "dependencies.dep.id"),
    (("dependencies",), {"dep": {"id": "c", "version": "1.0", "extra": 1}}, "dependencies.dep.extra"),
]

WORKFLOW_CASES: list[tuple[tuple, Any, str]] = [
    (("nodes",), "x", "nodes"), (("nodes",), DELETE, "nodes"), (("edges",), DELETE, "edges"), (("edges",), "x", "edges"),
    (("nodes", 0), "x", "nodes[0]"), (("nodes", 0, "id"), [1], "nodes[0].id"), (("nodes", 0, "id"), DELETE, "nodes[0].id"),
    (("nodes", 0, "ref"), DELETE, "nodes[0].ref"), (("nodes", 0, "ref"), 1, "nodes[0].ref"),
    (("nodes", 0, "ref"), "nope", "nodes[0].ref"), (("nodes", 0, "ref"), "models.nope", "nodes[0].ref"),
    (("nodes", 1, "id"), "text", "nodes[1].id"),  # a duplicate node id
    (("edges", 0), "x", "edges[0]"), (("edges", 0, "from"), DELETE, "edges[0].from"), (("edges", 0, "from"), "x", "edges[0].from"),
    (("edges", 0, "from", "id"), "nope", "edges[0].from.id"), (("edges", 0, "from", "id"), DELETE, "edges[0].from.id"),
    (("edges", 0, "to", "port"), "nope", "edges[0].to.port"), (("edges", 0, "to", "port"), 1, "edges[0].to.port"),
]

# (key changed in the inputs file, bad value or DELETE, the key path the problem must name)
INPUT_CASES: list[tuple[tuple, Any, str]] = [
    (("text",), "x", "text"), (("text", "type"), 1, "text.type"), (("text", "type"), "integer", "text.type"),
    (("text", "type"), DELETE, "text.type"), (("text", "value"), 1, "text.value"), (("text", "value"), DELETE, "text.value"),
    (("nope",), {"type": "string", "value": "x"}, "nope"), (("readings",), {"type": "Data", "url": "https://h.test/r.json"}, "readings"),  # bound: not given by the file
    (("pollutant",), {"type": "Data", "url": "https://h.test/r.json"}, "pollutant.type"),
]

# (TOML of bindings.toml, the dotted key the problem must name)
BINDINGS_CASES: list[tuple[str, str]] = [
    ("[nope]\n", "nope"), ("run = 1\n", "run"), ("fetch = 1\n", "fetch"), ("inputs = 1\n", "inputs"),
    ("[run]\nmode = 'zsh'\n", "run.mode"), ("[run]\nmode = 1\n", "run.mode"), ("[run]\nnope = 1\n", "run.nope"),
    ("[run]\nregistry = 1\n", "run.registry"), ("[run]\nregistry = [1]\n", "run.registry"),
    *[(f"[fetch]\ntimeout = {bad}\n", "fetch.timeout") for bad in ("'x'", "0", "-1", "nan", "inf", "1e12", "true")],
    *[(f"[fetch]\nmax_bytes = {bad}\n", "fetch.max_bytes") for bad in ("0", "-1", "1.5", "'1'")],
    *[(f"[fetch]\nretries = {bad}\n", "fetch.retries") for bad in ("-1", "100", "true", "1.5")],
    ("[fetch]\nallow_private_addresses = 'yes'\n", "fetch.allow_private_addresses"), ("[fetch]\nnope = 1\n", "fetch.nope"),
    ("[inputs]\nreadings = 'x'\n", "inputs.readings"), ("[inputs.readings]\nasset = 1\n", "inputs.readings.asset"),
    ("[inputs.readings]\nasset = 'x'\n", "inputs.readings.asset"), ("[inputs.readings]\n", "inputs.readings.asset"),
    ("[inputs.readings]\nasset = 'dataspace/x'\nextra = 1\n", "inputs.readings.extra"),
    ("[inputs.nope]\nasset = 'dataspace/x'\n", "inputs.nope"), ("[inputs.text]\nasset = 'dataspace/x'\n", "inputs.text"),
]

DEEP_JSON = "[" * 100_000 + "]" * 100_000
# (file, what it holds: text, bytes, a "folder" or a "fifo")
FILE_CASES: list[tuple[str, Any]] = [
    *[("manifest.json", bad) for bad in ("{", "", "[1]", "null", DEEP_JSON, '{"name": NaN}', b"\xff\xfe{}", "folder", "fifo")],
    *[("workflow.yml", bad) for bad in ("nodes: [", "", "- 1", "a: !!python/object:os.system x", "[" * 5000, b"\xff", "folder", "fifo")],
    *[("bindings.toml", bad) for bad in ("[run", "x = ", "a = " + "[" * 1000 + "]" * 1000, b"\xff", "folder", "fifo")],
]
INPUT_FILE_CASES = ["{", "", "[]", DEEP_JSON, b"\xff", "folder", "fifo"]


def _changed(doc: Any, path: tuple, value: Any) -> Any:
    """A copy of a document with the key at `path` set to `value` (or removed)."""
    doc = copy.deepcopy(doc)
    node = doc
    for part in path[:-1]:
        node = node[part]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def _twin(root: Path) -> Path:
    """A copy of the example twin under `root/deltatwins/`, in a configs/ with no data space folder."""
    folder = root / "deltatwins" / "example"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _write(path: Path, content: Any) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if content == "folder":
        path.mkdir()
    elif content == "fifo":
        os.mkfifo(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _validate_json(folder: Path, capsys: pytest.CaptureFixture, *extra: str) -> list[dict]:
    code = main(["twin", "validate", str(folder), "--json", *extra])
    out, err = capsys.readouterr()
    assert code == 1, (code, out, err)
    assert "Traceback" not in out + err
    return json.loads(out)


def _assert_named(problems: list[dict], file: str, key: str) -> None:
    """Some problem of `file` names `key` (an error unless the file's unknown keys are only warnings)."""
    assert problems, "the bad value was accepted"
    named = [p for p in problems if p["file"] == file and (p["path"] == key or p["path"].startswith(f"{key}."))]
    assert named and any(p["severity"] == "error" for p in named), problems


def _assert_everywhere(folder: Path, capsys, settings, file: str, key: str, *extra: str) -> None:
    """`twin validate` (JSON, then text), `config validate`, the definitions load and `twin run` name the file and key."""
    _assert_named(_validate_json(folder, capsys, *extra), file, key)
    where = f"{file}: {key}" if key else f"{file}: "
    assert main(["twin", "validate", str(folder), *extra]) == 1
    out = capsys.readouterr().out
    assert where in out and "Traceback" not in out, out
    if extra:
        return  # the inputs file is a run's, not the folder's
    code = main(["config", "validate", "--configs", str(folder.parent.parent)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err, out + err
    assert any(str(folder) in line and where in line for line in out.splitlines()), out
    with pytest.raises(DataspaceError) as raised:
        twin_definitions([folder], settings)
    assert str(folder) in str(raised.value) and where in str(raised.value), raised.value
    code = main(["twin", "run", str(folder)])
    out, err = capsys.readouterr()
    assert code == 1 and where in out and "(not started)" in out and "Traceback" not in out + err, out + err


def test_the_example_twin_is_clean(tmp_path: Path, tmp_settings, capsys: pytest.CaptureFixture) -> None:
    """The base every case changes one key of: clean in every route, so each failure below is the bad value's."""
    folder = _twin(tmp_path)
    (tmp_path / "inputs.json").write_text(json.dumps(INPUTS), encoding="utf-8")
    assert main(["twin", "validate", str(folder), "--json", "--inputs", str(tmp_path / "inputs.json")]) == 0
    assert [p for p in json.loads(capsys.readouterr().out) if p["severity"] == "error"] == []
    twin_definitions([folder], tmp_settings)


@pytest.mark.parametrize(("path", "value", "key"), MANIFEST_CASES, ids=[k + "=" + repr(v)[:20] for _, v, k in MANIFEST_CASES])
def test_a_bad_manifest_key_is_named(tmp_path: Path, tmp_settings, capsys, path: tuple, value: Any, key: str) -> None:
    folder = _twin(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(json.dumps(_changed(manifest, path, value)), encoding="utf-8")
    _assert_everywhere(folder, capsys, tmp_settings, "manifest.json", key)


@pytest.mark.parametrize(("path", "value", "key"), WORKFLOW_CASES, ids=[k + "=" + repr(v)[:20] for _, v, k in WORKFLOW_CASES])
def test_a_bad_workflow_key_is_named(tmp_path: Path, tmp_settings, capsys, path: tuple, value: Any, key: str) -> None:
    folder = _twin(tmp_path)
    workflow = yaml.safe_load((folder / "workflow.yml").read_text(encoding="utf-8"))
    (folder / "workflow.yml").write_text(yaml.safe_dump(_changed(workflow, path, value)), encoding="utf-8")
    _assert_everywhere(folder, capsys, tmp_settings, "workflow.yml", key)


@pytest.mark.parametrize(("toml", "key"), BINDINGS_CASES, ids=[t.replace("\n", " ")[:40] for t, _ in BINDINGS_CASES])
def test_a_bad_bindings_key_is_named(tmp_path: Path, tmp_settings, capsys, toml: str, key: str) -> None:
    folder = _twin(tmp_path)
    (folder / "bindings.toml").write_text(toml, encoding="utf-8")
    _assert_everywhere(folder, capsys, tmp_settings, "bindings.toml", key)


@pytest.mark.parametrize(("file", "content"), FILE_CASES, ids=[f"{f}-{repr(c)[:20]}" for f, c in FILE_CASES])
def test_a_broken_file_is_named(tmp_path: Path, tmp_settings, capsys, file: str, content: Any) -> None:
    folder = _twin(tmp_path)
    _write(folder / file, content)
    _assert_everywhere(folder, capsys, tmp_settings, file, "")


@pytest.mark.parametrize(("path", "value", "key"), INPUT_CASES, ids=[k + "=" + repr(v)[:20] for _, v, k in INPUT_CASES])
def test_a_bad_inputs_key_is_named_by_validate_and_run(
    tmp_path: Path, tmp_settings, capsys, path: tuple, value: Any, key: str
) -> None:
    folder = _twin(tmp_path)
    inputs = tmp_path / "run.json"
    inputs.write_text(json.dumps(_changed(INPUTS, path, value)), encoding="utf-8")
    _assert_everywhere(folder, capsys, tmp_settings, "run.json", key, "--inputs", str(inputs))
    _assert_run_names(folder, inputs, capsys, f"run.json: {key}")


@pytest.mark.parametrize("content", INPUT_FILE_CASES, ids=[repr(c)[:20] for c in INPUT_FILE_CASES])
def test_a_broken_inputs_file_is_named_by_validate_and_run(tmp_path: Path, tmp_settings, capsys, content: Any) -> None:
    folder = _twin(tmp_path)
    inputs = tmp_path / "run.json"
    _write(inputs, content)
    _assert_everywhere(folder, capsys, tmp_settings, "run.json", "", "--inputs", str(inputs))
    _assert_run_names(folder, inputs, capsys, "run.json: ")


def _assert_run_names(folder: Path, inputs: Path, capsys, where: str) -> None:
    """`twin run --inputs` refuses the file before any run starts, naming the file and the key, exit 1."""
    code = main(["twin", "run", str(folder), "--inputs", str(inputs)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err, out + err
    assert where in out + err and "(not started)" in out, out + err


TOO_LONG = "x" * 300  # beyond the 255-byte file-name limit


@pytest.mark.parametrize(
    "argv",
    [
        ["twin", "validate", TOO_LONG], ["twin", "validate", TOO_LONG, "--json"], ["twin", "init", f"{{tmp}}/{TOO_LONG}"],
        ["twin", "run", TOO_LONG], ["twin", "validate", "{twin}", "--inputs", TOO_LONG],
        ["twin", "run", "{twin}", "--inputs", TOO_LONG],
    ],
    ids=lambda argv: " ".join(a[:12] for a in argv),
)
def test_a_path_beyond_the_file_name_limit_is_named(tmp_path: Path, tmp_settings, capsys, argv: list[str]) -> None:
    folder = _twin(tmp_path)
    argv = [a.replace("{twin}", str(folder)).replace("{tmp}", str(tmp_path)) for a in argv]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (1, 2) and "Traceback" not in out + err, out + err
    assert "xxxxxxxx" in out + err and "too long" in (out + err).lower(), out + err
