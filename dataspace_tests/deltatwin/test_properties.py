"""Property-based: random and mutated manifests, workflows and files never crash the validator; errors have paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataspace_assets.deltatwin.manifest import check_manifest
from dataspace_assets.deltatwin.problems import SEVERITIES, format_path
from dataspace_assets.deltatwin.validate import validate_folder
from dataspace_assets.deltatwin.workflow import check_workflow, parse_workflow
from dataspace_tests.deltatwin.helpers import PROJECTS, VERSIONS, mutated

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Problems that are about a whole file, so their key path is empty.
WHOLE_FILE = {
    "wrong-type",
    "json-syntax",
    "yaml-syntax",
    "file-missing",
    "file-unreadable",
    "duplicate-key",
    "unsupported-version",
}

_KEYS = st.sampled_from(
    [
        "type",
        "value",
        "name",
        "glob",
        "prefix",
        "id",
        "ref",
        "port",
        "from",
        "to",
        "nodes",
        "edges",
        "inputs",
        "models",
        "description:",
        "Data",
        "0",
    ]
) | st.text(max_size=6)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["Data", "data", "python", "inputs.a", "$(inputs.a)", "models.m", "1.1", "==", "a==1"]),
)
JSON = st.recursive(
    _SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=12
)


def edited(base: Any) -> st.SearchStrategy:
    """A real document with 1 to 4 random edits."""
    return mutated(base, values=JSON, keys=_KEYS)


def assert_well_formed(problems, files: set[str]) -> None:
    """Each problem is complete, and each one about a part of a file says which part."""
    for problem in problems:
        assert problem.severity in SEVERITIES
        assert problem.code and problem.message and problem.file in files
        assert all(isinstance(part, (str, int)) and not isinstance(part, bool) for part in problem.path)
        if problem.severity == "error" and problem.code not in WHOLE_FILE:
            assert problem.path, problem
        assert problem.location.startswith(problem.file)
        format_path(problem.path)  # never raises
        json.dumps(problem.to_dict())


@BOUNDED
@given(data=JSON, version=st.none() | st.sampled_from(VERSIONS))
def test_random_json_never_crashes_the_manifest_check(data, version) -> None:
    result = check_manifest(data, version=version)
    assert_well_formed(result.problems, {"manifest.json"})
    assert result.ok == (not any(p.severity == "error" for p in result.problems))
    if isinstance(data, dict):  # an object: every error points inside it
        assert all(p.path for p in result.problems if p.severity == "error"), result.problems


@BOUNDED
@given(st.data())
def test_mutated_real_manifests_never_crash_and_errors_have_paths(example_manifest, data) -> None:
    base = example_manifest(data.draw(st.sampled_from(sorted(PROJECTS.values()))))
    doc = data.draw(edited(base))
    result = check_manifest(doc, version=data.draw(st.none() | st.sampled_from(VERSIONS)))
    assert_well_formed(result.problems, {"manifest.json"})
    if isinstance(doc, dict) and result.manifest is not None:
        for error in (p for p in result.problems if p.severity == "error"):
            assert error.path, error  # an object manifest: every error points inside it


@BOUNDED
@given(data=JSON)
def test_random_workflows_never_crash(data) -> None:
    parsed = parse_workflow(data)
    problems = list(parsed.problems)
    if parsed.workflow is not None:
        graph, checked = check_workflow(parsed, None, data=data)
        problems += checked
        assert graph is None  # never executable without a manifest
    assert_well_formed(problems, {"workflow.yml"})


@BOUNDED
@given(st.data())
def test_mutated_real_workflows_never_crash_and_errors_have_paths(example_manifest, example_workflow, data) -> None:
    short = data.draw(st.sampled_from(sorted(PROJECTS.values())))
    manifest = check_manifest(example_manifest(short))
    workflow = data.draw(edited(example_workflow(short)))
    parsed = parse_workflow(workflow)
    problems = list(parsed.problems)
    if parsed.workflow is not None:
        graph, checked = check_workflow(parsed, manifest, data=workflow)
        problems += checked
        if graph is not None:
            assert not any(p.severity == "error" for p in problems) and manifest.ok
            position = {node_id: i for i, node_id in enumerate(graph.order)}
            assert all(position[e.source.node] < position[e.target.node] for e in graph.workflow.edges)
    assert_well_formed(problems, {"workflow.yml"})
    if isinstance(workflow, dict):  # a mapping: every error points inside it
        assert all(p.path for p in problems if p.severity == "error"), problems


_BYTES = st.binary(max_size=200) | st.text(max_size=200).map(str.encode) | JSON.map(lambda v: json.dumps(v).encode())


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=_BYTES, workflow=_BYTES)
def test_any_bytes_in_a_folder_never_crash_validation(tmp_path_factory, manifest, workflow) -> None:
    folder: Path = tmp_path_factory.mktemp("twin")
    (folder / "manifest.json").write_bytes(manifest)
    (folder / "workflow.yml").write_bytes(workflow)
    report = validate_folder(folder)
    assert_well_formed(report.problems, {"manifest.json", "workflow.yml"})
    assert report.ok == (not report.errors)


# -- graphs: acyclic ones are ordered, any back edge is reported as a cycle ------------------------------------

MANIFEST = {
    "name": "loop",
    "description": "d",
    "owner": "o",
    "models": {
        "m": {
            "path": "p",
            "type": "python",
            "parameters": {"pythonVersion": "3.12", "command": "run"},
            "inputs": {f"i{k}": {"type": "Data", "value": "x"} for k in range(8)},
            "outputs": {"o": {"type": "Data", "glob": "*"}},
        }
    },
}


@st.composite
def dags(draw) -> tuple[int, list[tuple[int, int]]]:
    """A random acyclic graph: n nodes, edges only from a lower to a higher number, each target port used once."""
    n = draw(st.integers(1, 9))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1]),
            max_size=8,
            unique_by=lambda p: p[1],
        )
    )
    return n, pairs


def _graph_doc(n: int, pairs: list[tuple[int, int]], shuffle: list[int]) -> dict:
    return {
        "nodes": [{"id": i, "ref": "models.m"} for i in shuffle],
        "edges": [{"from": {"id": a, "port": "o"}, "to": {"id": b, "port": f"i{k}"}} for k, (a, b) in enumerate(pairs)],
    }


@BOUNDED
@given(st.data())
def test_acyclic_graphs_are_ordered_and_back_edges_are_cycles(data) -> None:
    n, pairs = data.draw(dags())
    shuffle = data.draw(st.permutations(list(range(n))))
    manifest = check_manifest(MANIFEST)
    doc = _graph_doc(n, pairs, shuffle)
    graph, problems = check_workflow(parse_workflow(doc), manifest, data=doc)
    assert problems == ()
    position = {node_id: i for i, node_id in enumerate(graph.order)}
    assert sorted(position) == list(range(n))
    assert all(position[a] < position[b] for a, b in pairs)
    if pairs:
        a, b = data.draw(st.sampled_from(pairs))
        looped = _graph_doc(n, [*pairs, (b, a)], shuffle)
        graph, problems = check_workflow(parse_workflow(looped), manifest, data=looped)
        cycles = [p for p in problems if p.code == "cycle"]
        assert graph is None and len(cycles) >= 1
        assert any(f"{b} -> {a}" in p.message or f"{a} -> {b}" in p.message for p in cycles)
