"""Twin folders as Dagster assets: keys, groups, lineage from the data space, typed run config, the dagster CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from dataspace_assets.definitions import build_definitions
from dataspace_assets.deltatwin.assets import graph_name
from dataspace_assets.deltatwin.execute import run_twin
from dataspace_assets.deltatwin.plan import build_plan
from dataspace_assets.storage.store import DataStore
from dataspace_tests.deltatwin.test_execution import ECHO, edge, make_twin, model
from dataspace_tests.services import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "configs" / "deltatwins" / "example"
TWIN = "example-word-count"


def test_the_example_twin_is_one_graph_asset_fed_by_the_collector(project_settings) -> None:
    defs = build_definitions(project_settings)
    graph = defs.resolve_asset_graph()
    counts = dg.AssetKey(["deltatwin", TWIN, "counts"])
    summary = dg.AssetKey(["deltatwin", TWIN, "summary"])
    assert {counts, summary} <= graph.get_all_asset_keys()
    collector = dg.AssetKey(["dataspace", "example_air_quality"])
    assert collector in graph.get(summary).parent_keys  # lineage: collector -> twin outputs
    assert graph.get(counts).group_name == "example_word_count"
    assets_def = graph.get(counts).assets_def
    assert assets_def.keys == {counts, summary}  # one graph_multi_asset per twin
    op_names = [node.name for node in assets_def.node_def.nodes]
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", name) for name in op_names)
    assert {"n_count", "n_summarise", "n_text", "n_readings"} <= set(op_names)


def test_run_config_is_typed_from_the_manifest(project_settings) -> None:
    defs = build_definitions(project_settings)
    job = defs.resolve_implicit_global_asset_job_def()
    fields = job.graph.node_named(graph_name(TWIN)).definition.config_mapping.config_schema.config_type.fields
    assert set(fields) == {"text", "pollutant"}  # `readings` comes from the store, not from the config
    assert fields["text"].default_value == "a data space of digital twins" and not fields["text"].is_required


def test_required_and_secret_inputs_in_the_launchpad(tmp_path) -> None:
    folder = make_twin(
        tmp_path,
        "form",
        inputs={"n": {"type": "integer"}, "key": {"type": "secret"}, "doc": {"type": "Data", "value": "a.txt"}},
        outputs={"out": {"type": "Data"}},
        models={
            "m": model(
                "models/m",
                "python main.py $(inputs.n) $(inputs.key) $(inputs.doc)",
                inputs={"n": {"type": "integer"}, "key": {"type": "secret"}, "doc": {"type": "Data"}},
                outputs={"out": {"type": "Data", "glob": "argv.json"}},
            )
        },
        nodes=[
            {"id": "n", "ref": "inputs.n"},
            {"id": "key", "ref": "inputs.key"},
            {"id": "doc", "ref": "inputs.doc"},
            {"id": "m", "ref": "models.m"},
            {"id": "out", "ref": "outputs.out"},
        ],
        edges=[edge("n", "m", to_port="n"), edge("key", "m", to_port="key"), edge("doc", "m", to_port="doc"), edge("m", "out", "out")],
        code={"m": ECHO},
    )
    from dataspace_assets.deltatwin.assets import config_schema

    fields = config_schema(build_plan(folder))
    assert fields["n"].is_required
    assert fields["key"].is_required and set(fields["key"].config_type.fields) == {"env"}  # a variable, never a value
    assert fields["doc"].default_value == "a.txt"


def test_colliding_node_ids_get_distinct_op_names(tmp_path) -> None:
    folder = make_twin(
        tmp_path,
        "collide",
        resources={"a-b": {"type": "integer", "value": 1}, "a_b": {"type": "integer", "value": 2}},
        outputs={"out": {"type": "Data"}},
        models={
            "m": model(
                "models/m", "python main.py $(inputs.x) $(inputs.y)",
                inputs={"x": {"type": "integer"}, "y": {"type": "integer"}},
                outputs={"out": {"type": "Data", "glob": "argv.json"}},
            )
        },
        nodes=[{"id": "a-b", "ref": "resources.a-b"}, {"id": "a_b", "ref": "resources.a_b"},
               {"id": "m", "ref": "models.m"}, {"id": "out", "ref": "outputs.out"}],
        edges=[edge("a-b", "m", to_port="x"), edge("a_b", "m", to_port="y"), edge("m", "out", "out")],
        code={"m": ECHO},
    )
    names = build_plan(folder).op_names()
    assert names["a-b"] == "n_a_b"  # the first in file order keeps the plain name
    assert names["a_b"] != names["a-b"] and re.fullmatch(r"n_a_b_[0-9a-f]{6}", names["a_b"])


@pytest.mark.services
def test_the_dagster_cli_and_twin_run_give_the_same_outputs(tmp_settings, dagster_instance, tmp_path) -> None:
    env = {**os.environ, "DATASPACE_CONFIGS": str(PROJECT_ROOT / "configs")}
    tmp_settings.dagster_home.mkdir(parents=True)
    dagster = str(PROJECT_ROOT / ".venv" / "bin" / "dagster")
    collect = [dagster, "asset", "materialize", "-m", "dataspace_assets.definitions", "--select", "dataspace/example_air_quality"]
    done = subprocess.run(collect, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    config = {"ops": {graph_name(TWIN): {"config": {"text": "one two two three three three"}}}}
    twin = [
        dagster, "asset", "materialize", "-m", "dataspace_assets.definitions",
        "--select", f'key:"deltatwin/{TWIN}/*"', "--config-json", json.dumps(config),
    ]
    done = subprocess.run(twin, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    described = tmp_settings.home / "deltatwin" / "outputs" / "deltatwin" / TWIN
    from_cli = {p.stem: json.loads(p.read_text()) for p in described.glob("*.json")}
    assert set(from_cli) == {"counts", "summary"}
    assert json.loads(Path(from_cli["counts"]["path"]).read_text()) == {"one": 1, "three": 3, "two": 2}

    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"text": {"type": "string", "value": "one two two three three three"}}))
    result = run_twin(EXAMPLE, inputs, tmp_settings, instance=dagster_instance, progress=False)
    assert result.status == "success", result.message
    for key in ("counts", "summary"):  # the same collected item, the same text: the same files
        assert result.outputs[key]["checksum"] == from_cli[key]["checksum"]
    store = DataStore.from_settings(tmp_settings)
    try:
        item = store.latest("example_air_quality")
        summary = json.loads(Path(result.outputs["summary"]["path"]).read_text())
        assert summary["time"] == item.json()["time"] and summary["stations"] == len(item.json()["readings"])
    finally:
        store.close()
