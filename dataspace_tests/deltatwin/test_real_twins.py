"""The real twins of the corpus as Dagster assets and command lines (their models need the network to install)."""

from __future__ import annotations

import json
import re

import pytest

from dataspace_assets.deltatwin.assets import RunPaths, config_schema, twin_asset
from dataspace_assets.deltatwin.plan import build_plan
from dataspace_assets.deltatwin.render import render_argv, render_command
from dataspace_tests.deltatwin.helpers import PREFIX

# Twins whose folder validates without a registry (the others have dependency nodes or are broken on purpose).
RUNNABLE = ["mucilage", "flood", "generate_plots", "ai-sen2cor"]


@pytest.mark.parametrize("short", RUNNABLE)
def test_a_real_twin_becomes_one_graph_asset(short, example_twin, tmp_settings) -> None:
    plan = build_plan(example_twin(short))
    asset = twin_asset(plan, RunPaths.from_settings(tmp_settings))
    manifest = plan.twin.manifest
    wired = {s.element.name for s in plan.outputs()}
    assert {k.path[-1] for k in asset.keys} == wired and wired <= set(manifest.outputs)
    assert all(k.path[:2] == ["deltatwin", manifest.name] for k in asset.keys)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", node.name) for node in asset.node_def.nodes)
    required = {name for name, field in config_schema(plan).items() if field.is_required}
    assert required == {name for name, declared in manifest.inputs.items() if declared.required}


def test_mucilage_renders_its_bbox_as_four_words_without_a_shell(example_twin, deltatwin_examples_dir) -> None:
    plan = build_plan(example_twin("mucilage"))
    model = next(iter(plan.twin.manifest.models.values()))
    entries = json.loads((deltatwin_examples_dir / f"{PREFIX['mucilage']}__inputs_file.json").read_text())
    values = {name: entry["value"] for name, entry in entries.items()}
    argv = render_argv(model.command, model.inputs, values, where="mucilage").argv
    start = argv.index("--bbox")
    assert argv[start : start + 5] == ("--bbox", "12.5", "44.9", "12.8", "44.5")
    # the faithful string is what delta-core hands to bash -c; argv splits it the same way here
    assert tuple(render_command(model.command, model.inputs, values)[0].split()) == argv
