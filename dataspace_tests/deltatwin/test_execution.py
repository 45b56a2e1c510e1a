"""Twins run for real: subprocess models through Dagster (`run_twin`), one small twin per behaviour."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dataspace_assets.deltatwin.assets import TAG_MESSAGE, TAG_RETURN_CODE, TAG_STATUS
from dataspace_assets.deltatwin.environments import READY_MARK, choose_interpreter, installed_interpreters
from dataspace_assets.deltatwin.execute import run_twin
from dataspace_assets.deltatwin.plan import build_plan
from dataspace_assets.errors import DataspaceError

# A model that records the argv it received, the environment variable names and declared values it saw.
ECHO = """
import json, os, sys
json.dump({"argv": sys.argv[1:], "env": sorted(os.environ), "declared": os.environ.get("DECLARED")},
          open("argv.json", "w"))
"""
COPY = """
import shutil, sys
shutil.copyfile(sys.argv[1], "copy.json")
"""
FAIL = """
import sys
print("about to fail", file=sys.stderr)
sys.exit(3)
"""


def model(path: str, command: str, inputs: dict | None = None, outputs: dict | None = None, **params: Any) -> dict:
    return {
        "path": path,
        "type": "python",
        "parameters": {"pythonVersion": "3.11", "command": command, **params},
        "inputs": inputs or {},
        "outputs": outputs or {},
    }


def make_twin(
    root: Path,
    name: str,
    *,
    inputs: dict | None = None,
    resources: dict | None = None,
    outputs: dict,
    models: dict,
    nodes: list,
    edges: list,
    code: dict[str, str],
    dependencies: dict | None = None,
    bindings: str | None = None,
) -> Path:
    """A twin folder: manifest.json, workflow.yml, models/<dir>/main.py and an optional bindings.toml."""
    folder = root / name
    folder.mkdir(parents=True)
    manifest = {
        "name": name,
        "description": "a test twin",
        "owner": "tests",
        "inputs": inputs or {},
        "resources": resources or {},
        "outputs": outputs,
        "models": models,
    }
    if dependencies:
        manifest["dependencies"] = dependencies
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "workflow.yml").write_text(yaml.safe_dump({"nodes": nodes, "edges": edges}), encoding="utf-8")
    for directory, source in code.items():
        (folder / "models" / directory).mkdir(parents=True)
        (folder / "models" / directory / "main.py").write_text(source, encoding="utf-8")
    if bindings is not None:
        (folder / "bindings.toml").write_text(bindings, encoding="utf-8")
    return folder


def edge(a: str, b: str, from_port: str | None = None, to_port: str | None = None) -> dict:
    source = {"id": a} | ({"port": from_port} if from_port else {})
    target = {"id": b} | ({"port": to_port} if to_port else {})
    return {"from": source, "to": target}


def inputs_file(tmp_path: Path, entries: dict) -> Path:
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def read(result, key: str) -> Any:
    return json.loads(Path(result.outputs[key]["path"]).read_text(encoding="utf-8"))


def typed_twin(tmp_path: Path) -> Path:
    """Numbers, booleans, defaults, a string with spaces and a chain of two models."""
    return make_twin(
        tmp_path,
        "typed",
        inputs={
            "n": {"type": "integer"},
            "x": {"type": "number", "value": 2.5},
            "flag": {"type": "boolean", "value": True},
            "words": {"type": "string"},
        },
        resources={"widened": {"type": "number", "value": 20}},
        outputs={"echoed": {"type": "Data"}, "copied": {"type": "Data"}},
        models={
            "echo": model(
                "models/echo",
                "python main.py $(inputs.n) $(inputs.x) $(inputs.flag) $(inputs.words) $(inputs.dflt) $(inputs.w)",
                inputs={
                    "n": {"type": "integer", "prefix": "-n"},
                    "x": {"type": "number", "prefix": "-x"},
                    "flag": {"type": "boolean", "prefix": "--flag"},
                    "words": {"type": "string"},
                    "dflt": {"type": "integer", "value": 4, "prefix": "--dflt"},
                    "w": {"type": "number", "prefix": "-w"},
                },
                outputs={"out": {"type": "Data", "glob": "argv.json"}},
                environment={"DECLARED": "yes"},
            ),
            "copy": model(
                "models/copy",
                "python main.py $(inputs.src)",
                inputs={"src": {"type": "Data"}},
                outputs={"out": {"type": "Data", "glob": "copy.json"}},
            ),
        },
        nodes=[
            {"id": k, "ref": f"inputs.{k}"} for k in ("n", "x", "flag", "words")
        ]
        + [
            {"id": "widened", "ref": "resources.widened"},
            {"id": "echo", "ref": "models.echo"},
            {"id": "copy", "ref": "models.copy"},
            {"id": "echoed", "ref": "outputs.echoed"},
            {"id": "copied", "ref": "outputs.copied"},
        ],
        edges=[edge(k, "echo", to_port=k) for k in ("n", "x", "flag", "words")]
        + [
            edge("widened", "echo", to_port="w"),
            edge("echo", "copy", "out", "src"),
            edge("echo", "echoed", "out"),
            edge("copy", "copied", "out"),
        ],
        code={"echo": ECHO, "copy": COPY},
    )


def test_a_chain_with_typed_values_runs_as_real_subprocesses(tmp_path, tmp_settings, dagster_instance, monkeypatch) -> None:
    monkeypatch.setenv("DATASPACE_DATABASE_URL", "postgresql://user:pw@db/secret-db")  # the code location's own
    folder = typed_twin(tmp_path)
    entries = {"n": {"type": "integer", "value": 3}, "words": {"type": "string", "value": "a b;echo INJ"}}
    result = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert result.status == "success", result.message
    echoed = read(result, "echoed")
    assert echoed["argv"] == ["-n", "3", "-x", "2.5", "--flag", "a", "b;echo", "INJ", "--dflt", "4", "-w", "20.0"]
    # only what the twin declares (plus PATH, HOME, ...): never the code location's variables
    assert echoed["declared"] == "yes"
    assert not [name for name in echoed["env"] if name.startswith(("DATASPACE", "DAGSTER", "AZURE"))]
    assert read(result, "copied") == echoed
    for output in result.outputs.values():
        digest = hashlib.md5(Path(output["path"]).read_bytes()).hexdigest()
        assert output["checksum"] == f"md5@{digest}" and output["size"] == Path(output["path"]).stat().st_size
    run = dagster_instance.get_run_by_id(result.run_id)
    assert run.tags[TAG_STATUS] == "success" and run.tags[TAG_RETURN_CODE] == "0"


def test_type_errors_win_over_missing_inputs_before_anything_runs(tmp_path, tmp_settings, dagster_instance) -> None:
    folder = typed_twin(tmp_path)
    entries = {"x": {"type": "number", "value": 2}}  # an integer for a number, and n/words missing
    result = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert (result.status, result.return_code, result.run_id) == ("error", 110, None)
    assert "Input x must be of type number but is of type integer." in result.message
    assert dagster_instance.get_runs() == []


def fan_out_twin(tmp_path: Path, *, source: dict, bindings: str | None = None) -> Path:
    """A Data input feeding two models: one copies it, one fails; plus an independent echo branch."""
    return make_twin(
        tmp_path,
        "fan",
        inputs={"doc": source, "word": {"type": "string", "value": "w"}},
        outputs={"copied": {"type": "Data"}, "failed": {"type": "Data"}, "echoed": {"type": "Data"}},
        models={
            "copy": model(
                "models/copy", "python main.py $(inputs.src)", inputs={"src": {"type": "Data"}},
                outputs={"out": {"type": "Data", "glob": "copy.json"}},
            ),
            "fail": model(
                "models/fail", "python main.py $(inputs.src)", inputs={"src": {"type": "Data"}},
                outputs={"out": {"type": "Data", "glob": "never.json"}},
            ),
            "echo": model(
                "models/echo", "python main.py $(inputs.w)", inputs={"w": {"type": "string"}},
                outputs={"out": {"type": "Data", "glob": "argv.json"}},
            ),
        },
        nodes=[
            {"id": "doc", "ref": "inputs.doc"},
            {"id": "word", "ref": "inputs.word"},
            {"id": "copy", "ref": "models.copy"},
            {"id": "fail", "ref": "models.fail"},
            {"id": "echo", "ref": "models.echo"},
            {"id": "copied", "ref": "outputs.copied"},
            {"id": "failed", "ref": "outputs.failed"},
            {"id": "echoed", "ref": "outputs.echoed"},
        ],
        edges=[
            edge("doc", "copy", to_port="src"),
            edge("doc", "fail", to_port="src"),
            edge("word", "echo", to_port="w"),
            edge("copy", "copied", "out"),
            edge("fail", "failed", "out"),
            edge("echo", "echoed", "out"),
        ],
        code={"copy": COPY, "fail": FAIL, "echo": ECHO},
        bindings=bindings,
    )


def test_a_failing_model_stops_only_what_depends_on_it(tmp_path, tmp_settings, dagster_instance, fixtures_dir) -> None:
    local = next(fixtures_dir.rglob("*.json"))
    folder = fan_out_twin(tmp_path, source={"type": "Data", "value": str(local)})
    result = run_twin(folder, None, tmp_settings, instance=dagster_instance, progress=False)
    assert (result.status, result.return_code) == ("error", 221)
    assert "model fail: it exited with code 3" in result.message and "about to fail" in result.message
    assert set(result.outputs) == {"copied", "echoed"}
    assert Path(result.outputs["copied"]["path"]).read_bytes() == local.read_bytes()  # a local file used in place
    run = dagster_instance.get_run_by_id(result.run_id)
    assert run.tags[TAG_STATUS] == "error" and run.tags[TAG_RETURN_CODE] == "221"
    assert "exited with code 3" in run.tags[TAG_MESSAGE]


def test_data_is_fetched_over_http_with_its_checksum(tmp_path, tmp_settings, dagster_instance, http_server, fixtures_dir) -> None:
    local = next(fixtures_dir.rglob("*.json"))
    relative = local.relative_to(fixtures_dir).as_posix()
    http_server.route(relative, headers={"Content-Disposition": 'attachment; filename="../../escaped/evil.json"'})
    folder = fan_out_twin(
        tmp_path,
        source={"type": "Data"},
        bindings="[fetch]\nallow_private_addresses = true\ntimeout = 10\n",
    )
    entries = {"doc": {"type": "Data", "url": http_server.url(relative)}}
    result = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert result.return_code == 221  # only the failing model
    copied = Path(result.outputs["copied"]["path"])
    assert copied.read_bytes() == local.read_bytes()
    fetched = list((tmp_settings.home / "deltatwin" / "runs" / result.run_id / "doc").iterdir())
    assert [f.name for f in fetched] == ["evil.json"]  # the server's name, reduced to a base name
    assert result.outputs["copied"]["checksum"] == "md5@" + hashlib.md5(local.read_bytes()).hexdigest()


def test_a_failed_fetch_fails_its_own_branch_only(tmp_path, tmp_settings, dagster_instance, http_server) -> None:
    folder = fan_out_twin(tmp_path, source={"type": "Data"}, bindings="[fetch]\nallow_private_addresses = true\n")
    entries = {"doc": {"type": "Data", "url": http_server.url("missing/nothing.json")}}
    result = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert (result.status, result.return_code) == ("error", 211)
    assert "404" in result.message
    assert set(result.outputs) == {"echoed"}  # the independent branch still ran


def test_private_addresses_are_refused_before_connecting(tmp_path, tmp_settings, dagster_instance, http_server) -> None:
    folder = fan_out_twin(tmp_path, source={"type": "Data"})
    entries = {"doc": {"type": "Data", "url": http_server.url("anything.json")}}
    result = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert result.return_code == 211 and "private address" in result.message
    assert http_server.requests == []


def test_secrets_reach_the_model_and_nothing_else(tmp_path, tmp_settings, dagster_instance) -> None:
    secret = "s3cr3t-value"
    folder = make_twin(
        tmp_path,
        "secret",
        inputs={"key": {"type": "secret"}},
        outputs={"printed": {"type": "Data"}},
        models={
            "m": model(
                "models/m", "python main.py $(inputs.key)", inputs={"key": {"type": "secret", "prefix": "--key"}},
                outputs={"printed": {"type": "stdout"}},
            )
        },
        nodes=[{"id": "key", "ref": "inputs.key"}, {"id": "m", "ref": "models.m"}, {"id": "printed", "ref": "outputs.printed"}],
        edges=[edge("key", "m", to_port="key"), edge("m", "printed", "printed")],
        code={"m": "import sys\nprint('got', sys.argv[2])\nprint('leak', sys.argv[2], file=sys.stderr)\n"},
    )
    entries = {"key": {"type": "secret", "secret_value": secret}}
    result = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert result.status == "success", result.message
    assert Path(result.outputs["printed"]["path"]).read_text() == f"got {secret}\n"  # stdout captured as Data
    run = dagster_instance.get_run_by_id(result.run_id)
    seen = json.dumps(run.tags) + json.dumps(run.run_config)
    for record in dagster_instance.all_logs(result.run_id):
        seen += record.message or ""
        if record.dagster_event and record.dagster_event.event_specific_data is not None:
            seen += repr(record.dagster_event.event_specific_data)
    assert secret not in seen
    assert "--key ***" in seen and "leak ***" in seen


def test_bash_mode_is_faithful_and_opt_in(tmp_path, tmp_settings, dagster_instance) -> None:
    folder = make_twin(
        tmp_path,
        "shell",
        inputs={"s": {"type": "string", "value": "x; echo INJ > injected.txt"}},
        outputs={"out": {"type": "Data"}},
        models={
            "m": model(
                "models/m", "python main.py $(inputs.s)", inputs={"s": {"type": "string"}},
                outputs={"out": {"type": "Data", "glob": "argv.json"}},
            )
        },
        nodes=[{"id": "s", "ref": "inputs.s"}, {"id": "m", "ref": "models.m"}, {"id": "out", "ref": "outputs.out"}],
        edges=[edge("s", "m", to_port="s"), edge("m", "out", "out")],
        code={"m": ECHO},
        bindings='[run]\nmode = "bash"\n',
    )
    result = run_twin(folder, None, tmp_settings, instance=dagster_instance, progress=False)
    assert result.status == "success", result.message
    assert read(result, "out")["argv"] == ["x"]  # bash split the value at ";" and ran the rest, as delta-core does
    work = tmp_settings.home / "deltatwin" / "runs" / result.run_id / "m" / "work"
    assert (work / "injected.txt").read_text() == "INJ\n"


def test_glob_must_match_exactly_one_file(tmp_path, tmp_settings, dagster_instance) -> None:
    folder = make_twin(
        tmp_path,
        "glob",
        outputs={"out": {"type": "Data"}},
        models={"m": model("models/m", "python main.py", outputs={"out": {"type": "Data", "glob": "*.txt"}})},
        nodes=[{"id": "m", "ref": "models.m"}, {"id": "out", "ref": "outputs.out"}],
        edges=[edge("m", "out", "out")],
        code={"m": "open('a.txt', 'w').write('a')\nopen('b.txt', 'w').write('b')\n"},
    )
    result = run_twin(folder, None, tmp_settings, instance=dagster_instance, progress=False)
    assert result.return_code == 221
    assert "glob '*.txt' must match exactly one file, found a.txt, b.txt" in result.message


def nested(tmp_path: Path, *, child_depends_on_itself: bool = False) -> Path:
    registry = tmp_path / "registry"
    make_twin(
        registry / "child",
        "1.0",
        inputs={"n": {"type": "integer"}},
        outputs={"result": {"type": "Data"}},
        models={
            "m": model(
                "models/m", "python main.py $(inputs.n)", inputs={"n": {"type": "integer", "prefix": "-n"}},
                outputs={"out": {"type": "Data", "glob": "argv.json"}},
            )
        },
        dependencies={"again": {"id": "child", "version": "1.0"}} if child_depends_on_itself else None,
        nodes=[{"id": "n", "ref": "inputs.n"}, {"id": "m", "ref": "models.m"}, {"id": "result", "ref": "outputs.result"}]
        + ([{"id": "again", "ref": "dependencies.again"}] if child_depends_on_itself else []),
        edges=[edge("n", "m", to_port="n"), edge("m", "result", "out")]
        + ([edge("n", "again", to_port="n")] if child_depends_on_itself else []),
        code={"m": ECHO},
    )
    manifest = json.loads((registry / "child" / "1.0" / "manifest.json").read_text())
    manifest["name"] = "child"
    (registry / "child" / "1.0" / "manifest.json").write_text(json.dumps(manifest))
    return make_twin(
        tmp_path,
        "parent",
        resources={"count": {"type": "integer", "value": 7}},
        outputs={"final": {"type": "Data"}},
        models={
            "copy": model(
                "models/copy", "python main.py $(inputs.src)", inputs={"src": {"type": "Data"}},
                outputs={"out": {"type": "Data", "glob": "copy.json"}},
            )
        },
        dependencies={"sub": {"id": "child", "version": "1.0"}},
        nodes=[
            {"id": "count", "ref": "resources.count"},
            {"id": "sub", "ref": "dependencies.sub"},
            {"id": "copy", "ref": "models.copy"},
            {"id": "final", "ref": "outputs.final"},
        ],
        edges=[edge("count", "sub", to_port="n"), edge("sub", "copy", "result", "src"), edge("copy", "final", "out")],
        code={"copy": COPY},
        bindings='[run]\nregistry = ["../registry"]\n',
    )


def test_a_nested_twin_runs_in_the_same_run(tmp_path, tmp_settings, dagster_instance) -> None:
    folder = nested(tmp_path)
    result = run_twin(folder, None, tmp_settings, instance=dagster_instance, progress=False)
    assert result.status == "success", result.message
    assert read(result, "final")["argv"] == ["-n", "7"]  # the parent's value copied under the child's input name
    assert len(dagster_instance.get_runs()) == 1
    assert (tmp_settings.home / "deltatwin" / "runs" / result.run_id / "sub" / "m" / "argv.json").is_file()


def test_dependency_cycles_are_refused_before_running(tmp_path) -> None:
    folder = nested(tmp_path, child_depends_on_itself=True)
    with pytest.raises(DataspaceError, match=r"dependencies.sub: dependency cycle: child==1.0 -> child==1.0: a run would nest"):
        build_plan(folder)


def test_validate_resolves_dependencies_through_the_registry_of_bindings_toml(tmp_path) -> None:
    from dataspace_assets.deltatwin.validate import validate_folder

    assert validate_folder(nested(tmp_path / "ok")).ok
    report = validate_folder(nested(tmp_path / "loop", child_depends_on_itself=True))  # no --registry given
    assert [p.code for p in report.errors] == ["dependency-cycle"]


def test_edge_type_mismatches_are_refused_before_running(tmp_path) -> None:
    folder = make_twin(
        tmp_path,
        "mismatch",
        inputs={"key": {"type": "secret", "value": "x"}},
        outputs={"out": {"type": "Data"}},
        models={
            "m": model(
                "models/m", "python main.py $(inputs.s)", inputs={"s": {"type": "string"}},
                outputs={"out": {"type": "Data", "glob": "argv.json"}},
            )
        },
        nodes=[{"id": "key", "ref": "inputs.key"}, {"id": "m", "ref": "models.m"}, {"id": "out", "ref": "outputs.out"}],
        edges=[edge("key", "m", to_port="s"), edge("m", "out", "out")],
        code={"m": ECHO},
    )
    with pytest.raises(DataspaceError, match=r'a secret value \(inputs.key\) cannot reach the string port "s"'):
        build_plan(folder)


def test_the_nearest_installed_interpreter_is_used_with_a_warning() -> None:
    chosen, warnings = choose_interpreter("3.19")
    assert chosen in installed_interpreters()
    assert len(warnings) == 1 and "Python 3.19 is not installed" in warnings[0] and chosen.text in warnings[0]
    exact, none = choose_interpreter(installed_interpreters()[0].text)
    assert none == [] and exact == installed_interpreters()[0]


def test_environments_are_cached_by_content(tmp_path, tmp_settings, dagster_instance) -> None:
    folder = typed_twin(tmp_path)
    entries = {"n": {"type": "integer", "value": 1}, "words": {"type": "string", "value": "w"}}
    first = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert first.status == "success", first.message
    envs = tmp_settings.home / "deltatwin" / "environments"
    marks = sorted(envs.glob(f"*/{READY_MARK}"))
    assert len(marks) == 1  # both models declare the same Python and no requirements: one environment
    stamp = marks[0].stat().st_mtime_ns
    second = run_twin(folder, inputs_file(tmp_path, entries), tmp_settings, instance=dagster_instance, progress=False)
    assert second.status == "success"
    assert sorted(envs.glob(f"*/{READY_MARK}")) == marks and marks[0].stat().st_mtime_ns == stamp


def test_parallel_models_are_detected_for_the_multiprocess_executor(tmp_path) -> None:
    from dataspace_assets.deltatwin.execute import has_parallel_models

    assert has_parallel_models(build_plan(fan_out_twin(tmp_path / "a", source={"type": "Data", "value": "x.json"})))
    assert not has_parallel_models(build_plan(typed_twin(tmp_path / "b")))  # a chain: one model at a time


def test_requirement_files_are_part_of_the_environment_key(tmp_path) -> None:
    from dataspace_assets.deltatwin.environments import prepare_environment
    from dataspace_assets.deltatwin.manifest import check_manifest

    body = model("models/m", "python main.py", pipRequirementFiles=["requirements.txt"], aptRequirements=[{"name": "gdal-bin"}])
    parsed = check_manifest({"name": "r", "description": "d", "owner": "o", "models": {"m": body}})
    assert parsed.ok, parsed.problems
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "requirements.txt").write_text("# nothing to install: the file is read offline\n")
    cache = tmp_path / "envs"
    first = prepare_environment(parsed.manifest.models["m"], folder, cache)
    assert (first.path / READY_MARK).is_file() and (first.bin / "python").exists()
    assert any("aptRequirements (gdal-bin) cannot be installed by a local run" in w for w in first.warnings)
    assert prepare_environment(parsed.manifest.models["m"], folder, cache).path == first.path  # cached
    (folder / "requirements.txt").write_text("# another content, another environment\n")
    assert prepare_environment(parsed.manifest.models["m"], folder, cache).path != first.path
