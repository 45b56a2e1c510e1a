"""workflow.yml: reading nodes and edges, and every check made against the manifest before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dataspace_assets.deltatwin.manifest import check_manifest
from dataspace_assets.deltatwin.registry import FolderRegistry
from dataspace_assets.deltatwin.workflow import Edge, Node, Port, Ref, check_workflow, parse_workflow
from dataspace_tests.deltatwin.helpers import TEMPLATE_WORKFLOW, minimal_manifest, model, triples

MANIFEST = minimal_manifest(
    inputs={"bbox": {"type": "string"}, "level": {"type": "integer", "value": 2}},
    resources={"url": {"type": "Data", "value": "https://x/p.zip"}},
    outputs={"masks": {"type": "Data"}, "report": {"type": "Data"}},
    models={
        "detector": model(
            inputs={"bbox": {"type": "string"}, "level": {"type": "integer", "value": 1}, "product": {"type": "Data"}},
            outputs={
                "masks_zip": {"type": "Data", "glob": "masks.zip"},
                "report_json": {"type": "Data", "glob": "report.json"},
            },
            command="python main.py $(inputs.bbox) $(inputs.level) $(inputs.product)",
        )
    },
    dependencies={"stac": {"id": "stac_query", "version": "0.4"}},
)


def node(id_, ref):
    return {"id": id_, "ref": ref}


def edge(source, target, from_port=None, to_port=None):
    start = {"id": source} if from_port is None else {"id": source, "port": from_port}
    end = {"id": target} if to_port is None else {"id": target, "port": to_port}
    return {"from": start, "to": end}


NODES = [
    node("bbox", "inputs.bbox"),
    node("level", "inputs.level"),
    node("url", "resources.url"),
    node("detector", "models.detector"),
    node("masks", "outputs.masks"),
    node("report", "outputs.report"),
]
EDGES = [
    edge("bbox", "detector", to_port="bbox"),
    edge("url", "detector", to_port="product"),
    edge("detector", "masks", from_port="masks_zip"),
    edge("detector", "report", from_port="report_json"),
]


def check(data, manifest=MANIFEST, resolve=None):
    """(graph, problems) for a workflow document against a manifest document."""
    parsed = parse_workflow(data)
    checked = check_manifest(manifest) if manifest is not None else None
    assert checked is None or checked.ok, checked.problems
    graph, problems = check_workflow(parsed, checked, resolve=resolve, data=data)
    return graph, list(parsed.problems) + list(problems)


def workflow(nodes=None, edges=None):
    return {"nodes": NODES if nodes is None else nodes, "edges": EDGES if edges is None else edges}


# -- reading --------------------------------------------------------------------------------------------


def test_a_valid_workflow_gives_a_bound_graph_in_dependency_order() -> None:
    graph, problems = check(workflow())
    assert problems == []
    assert graph is not None
    assert graph.order == ("bbox", "level", "url", "detector", "masks", "report")
    detector = graph.nodes["detector"]
    assert detector.section == "models" and detector.element is graph.manifest.models["detector"]
    assert detector.inputs == {"bbox": Port("bbox"), "product": Port("url")}  # level is unbound: its default applies
    assert [e.target.node for e in detector.consumers] == ["masks", "report"]
    assert graph.nodes["masks"].inputs == {"data": Port("detector", "masks_zip")}
    assert graph.workflow.node("bbox") == Node("bbox", Ref("inputs", "bbox"), 0)


def test_ports_default_to_data() -> None:
    parsed = parse_workflow(workflow())
    first = parsed.workflow.edges[0]
    assert first == Edge(Port("bbox", "data"), Port("detector", "bbox"), 0)
    assert first.source.explicit is False and first.target.explicit is True


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, [("error", "wrong-type", "workflow.yml")]),
        ([], [("error", "wrong-type", "workflow.yml")]),
        ({"nodes": []}, [("error", "missing-key", "workflow.yml: edges")]),
        ({"edges": []}, [("error", "missing-key", "workflow.yml: nodes")]),
        (
            {"nodes": {}, "edges": None},
            [("error", "wrong-type", "workflow.yml: nodes"), ("error", "wrong-type", "workflow.yml: edges")],
        ),
        ({"nodes": [], "edges": [], "name": "x"}, [("warning", "unknown-key", "workflow.yml: name")]),
        (
            {"nodes": ["a"], "edges": [3]},
            [("error", "wrong-type", "workflow.yml: nodes[0]"), ("error", "wrong-type", "workflow.yml: edges[0]")],
        ),
        ({"nodes": [{"ref": "inputs.bbox"}], "edges": []}, [("error", "missing-key", "workflow.yml: nodes[0].id")]),
        ({"nodes": [{"id": "a"}], "edges": []}, [("error", "missing-key", "workflow.yml: nodes[0].ref")]),
        (
            {"nodes": [{"id": "a", "ref": "inputs.bbox", "name": "x"}], "edges": []},
            [("warning", "unknown-key", "workflow.yml: nodes[0].name")],
        ),
        ({"nodes": [], "edges": [{"from": {"id": "a"}}]}, [("error", "missing-key", "workflow.yml: edges[0].to")]),
        (
            {"nodes": [], "edges": [{"from": "a", "to": {"port": "p"}}]},
            [
                ("error", "wrong-type", "workflow.yml: edges[0].from"),
                ("error", "missing-key", "workflow.yml: edges[0].to.id"),
            ],
        ),
        (
            {"nodes": [], "edges": [{"from": {"id": "a", "port": 3}, "to": {"id": "b", "prot": "x"}}]},
            [
                ("error", "wrong-type", "workflow.yml: edges[0].from.port"),
                ("warning", "unknown-key", "workflow.yml: edges[0].to.prot"),
            ],
        ),
    ],
)
def test_malformed_workflows_become_problems_with_a_path(data, expected) -> None:
    assert triples(parse_workflow(data).problems) == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "boolean true"), (None, "null"), (1.5, "number 1.5"), ([1], "an array"), ({"a": 1}, "an object")],
)
def test_node_ids_are_strings_or_integers(value, shown) -> None:
    result = parse_workflow({"nodes": [{"id": value, "ref": "inputs.bbox"}], "edges": []})
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        ("bad-node-id", "workflow.yml: nodes[0].id", f"a node id is a string or an integer, got {shown}")
    ]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("inputs", '"inputs" is not <section>.<key> (sections: inputs, resources, models, outputs, dependencies)'),
        ("inputs.", '"inputs." is not <section>.<key> (sections: inputs, resources, models, outputs, dependencies)'),
        (
            "model.detector",
            'unknown section "model" in "model.detector" (sections: inputs, '
            'resources, models, outputs, dependencies) (did you mean "models"?)',
        ),
        (
            "__import__('os').system('x')",
            "unknown section \"__import__('os')\" in \"__import__('os').system('x')\" "
            "(sections: inputs, resources, models, outputs, dependencies)",
        ),
    ],
)
def test_refs_are_section_dot_key_and_never_evaluated(ref, message) -> None:
    result = parse_workflow({"nodes": [{"id": "n", "ref": ref}], "edges": []})
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        ("bad-ref", "workflow.yml: nodes[0].ref", message)
    ]


def test_a_ref_splits_on_the_first_dot() -> None:
    result = parse_workflow({"nodes": [{"id": 1, "ref": "models.a.b"}], "edges": []})
    assert result.workflow.nodes == (Node(1, Ref("models", "a.b"), 0),)


def test_duplicate_node_ids_are_errors_but_0_and_zero_string_differ() -> None:
    result = parse_workflow(
        {"nodes": [node(0, "inputs.bbox"), node("0", "inputs.bbox"), node(0, "inputs.level")], "edges": []}
    )
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        ("duplicate-node", "workflow.yml: nodes[2].id", "node id 0 is already used by nodes[0]")
    ]
    assert [n.id for n in result.workflow.nodes] == [0, "0"]


# -- refs, ports and directions --------------------------------------------------------------------------


def test_a_dangling_ref_names_what_the_manifest_declares() -> None:
    _, problems = check(workflow(nodes=[*NODES, node("extra", "models.detectr")]))
    assert [(p.code, p.location, p.message) for p in problems] == [
        (
            "dangling-ref",
            "workflow.yml: nodes[6].ref",
            'models.detectr is not declared in manifest.json (declared models: detector) (did you mean "detector"?)',
        )
    ]


def test_edges_to_unknown_nodes_are_errors_and_id_type_mismatches_warned() -> None:
    nodes = [
        node(0, "inputs.bbox"),
        node("url", "resources.url"),
        node("detector", "models.detector"),
        node("masks", "outputs.masks"),
    ]
    edges = [
        edge("0", "detector", to_port="bbox"),  # meant to feed bbox: no "unbound" warning on top of the error
        edge("url", "detector", to_port="product"),
        edge("detector", "masks", from_port="masks_zip"),
        edge("nobody", "masks"),
    ]
    graph, problems = check(workflow(nodes, edges))
    assert graph is None
    assert [(p.severity, p.code, p.location, p.message) for p in problems] == [
        ("error", "dangling-edge", "workflow.yml: edges[0].from.id", 'no node has id "0"'),
        (
            "warning",
            "id-type-mismatch",
            "workflow.yml: edges[0].from.id",
            '"0" is a string but node 0 (nodes[0]) is an integer: ids are compared with their type',
        ),
        ("error", "dangling-edge", "workflow.yml: edges[3].from.id", "no node has id nobody"),
    ]


def test_unknown_model_ports_are_errors_with_the_declared_ones() -> None:
    edges = [
        *EDGES[:2],
        edge("level", "detector", to_port="levl"),
        edge("detector", "masks", from_port="mask"),
        EDGES[3],
    ]
    _, problems = check(workflow(edges=edges))
    assert [(p.code, p.location, p.message) for p in problems] == [
        (
            "unknown-port",
            "workflow.yml: edges[2].to.port",
            'port "levl" is not an input of models.detector (inputs: bbox, level, product) (did you mean "level"?)',
        ),
        (
            "unknown-port",
            "workflow.yml: edges[3].from.port",
            'port "mask" is not an output of models.detector (outputs: '
            'masks_zip, report_json) (did you mean "masks_zip"?)',
        ),
    ]  # and masks is not reported unwired: edges[3] means to feed it


def test_an_edge_with_a_bad_port_does_not_make_a_second_feed() -> None:
    _, problems = check(workflow(edges=[*EDGES, edge("detector", "masks", from_port="mask")]))
    assert [p.code for p in problems] == ["unknown-port"]


def test_a_defaulted_port_is_named_as_the_default() -> None:
    _, problems = check(workflow(edges=[*EDGES, edge("level", "detector")]))
    assert [(p.code, p.location, p.message) for p in problems] == [
        (
            "unknown-port",
            "workflow.yml: edges[4].to",
            'port "data" (the default) is not an input of models.detector (inputs: bbox, level, product)',
        )
    ]


def test_values_flow_from_inputs_to_outputs_only() -> None:
    edges = [*EDGES, edge("detector", "bbox", from_port="masks_zip"), edge("masks", "detector", to_port="level")]
    _, problems = check(workflow(edges=edges))
    assert [(p.code, p.location, p.message) for p in problems] == [
        ("wrong-direction", "workflow.yml: edges[4].to.id", "node bbox is inputs.bbox: it takes no incoming value"),
        (
            "wrong-direction",
            "workflow.yml: edges[5].from.id",
            "node masks is a twin output (outputs.masks): nothing leaves it",
        ),
    ]  # and no cycle: wrong-way edges are not part of the graph


def test_ports_on_single_value_nodes_are_ignored_with_a_warning() -> None:
    edges = [
        edge("bbox", "detector", from_port="value", to_port="bbox"),
        *EDGES[1:3],
        edge("detector", "report", "report_json", "x"),
    ]
    graph, problems = check(workflow(edges=edges))
    assert [(p.severity, p.code, p.location) for p in problems] == [
        ("warning", "ignored-port", "workflow.yml: edges[0].from.port"),
        ("warning", "ignored-port", "workflow.yml: edges[3].to.port"),
    ]
    assert graph is not None


# -- bindings ---------------------------------------------------------------------------------------------


def test_output_nodes_need_exactly_one_incoming_edge() -> None:
    _, unwired = check(workflow(edges=EDGES[:3]))
    assert [(p.severity, p.code, p.location, p.message) for p in unwired] == [
        (
            "warning",
            "unwired-output",
            "workflow.yml: nodes[5]",
            "output node report (outputs.report) has no incoming edge: the run will not produce it",
        )
    ]
    _, doubled = check(workflow(edges=[*EDGES, edge("detector", "report", from_port="masks_zip")]))
    assert [(p.severity, p.code, p.location, p.message) for p in doubled] == [
        (
            "error",
            "ambiguous-output",
            "workflow.yml: edges[4].to",
            "output node report already receives edges[3]: an output takes exactly one value",
        )
    ]


def test_an_input_port_is_fed_at_most_once_and_duplicate_edges_are_warned() -> None:
    edges = [*EDGES, edge("bbox", "detector", to_port="bbox"), edge("level", "detector", to_port="bbox")]
    _, problems = check(workflow(edges=edges))
    assert [(p.severity, p.code, p.location, p.message) for p in problems] == [
        ("warning", "duplicate-edge", "workflow.yml: edges[4]", "repeats edges[0]"),
        (
            "error",
            "ambiguous-port",
            "workflow.yml: edges[5].to",
            'port "bbox" of node detector is already fed by edges[0]',
        ),
    ]


def test_required_model_inputs_left_unbound_are_warned() -> None:
    _, problems = check(workflow(edges=[EDGES[0], *EDGES[2:]]))
    assert [(p.severity, p.code, p.location, p.message) for p in problems] == [
        (
            "warning",
            "unbound-input",
            "workflow.yml: nodes[3]",
            'input "product" of models.detector has no default and no incoming edge: it renders empty',
        )
    ]


def test_the_same_model_may_run_in_several_nodes() -> None:
    nodes = [*NODES, node("detector2", "models.detector")]
    edges = [*EDGES, edge("bbox", "detector2", to_port="bbox"), edge("detector", "detector2", "masks_zip", "product")]
    graph, problems = check(workflow(nodes, edges))
    assert problems == []
    assert graph.nodes["detector2"].element is graph.nodes["detector"].element
    assert graph.order.index("detector2") > graph.order.index("detector")


# -- cycles -----------------------------------------------------------------------------------------------

LOOP_MANIFEST = minimal_manifest(
    models={
        "m": model(
            inputs={"i": {"type": "Data"}}, outputs={"o": {"type": "Data", "glob": "*.out"}}, command="run $(inputs.i)"
        )
    }
)


def loop_workflow(pairs, names="abcd"):
    return {"nodes": [node(n, "models.m") for n in names], "edges": [edge(a, b, "o", "i") for a, b in pairs]}


def test_cycles_are_errors_listing_their_nodes() -> None:
    graph, problems = check(loop_workflow(["ab", "bc", "ca", "cd"]), LOOP_MANIFEST)
    assert graph is None
    assert [(p.code, p.location, p.message) for p in problems] == [
        ("cycle", "workflow.yml: edges[2]", "cycle: a -> b -> c -> a: none of these nodes could ever start")
    ]


def test_every_separate_cycle_and_self_loop_is_reported() -> None:
    _, problems = check(loop_workflow(["ab", "ba", "cc"]), LOOP_MANIFEST)
    assert [(p.location, p.message) for p in problems if p.code == "cycle"] == [
        ("workflow.yml: edges[1]", "cycle: a -> b -> a: none of these nodes could ever start"),
        ("workflow.yml: edges[2]", "cycle: c -> c: none of these nodes could ever start"),
    ]


def test_a_loop_larger_than_its_shortest_cycle_names_every_member() -> None:
    _, problems = check(loop_workflow(["ab", "ba", "bc", "cd", "da"]), LOOP_MANIFEST)
    assert [p.message for p in problems if p.code == "cycle"] == [
        "cycle: a -> b -> a (all of a, b, c, d are in this loop): none of these nodes could ever start"
    ]


def test_a_long_chain_is_ordered_without_recursion_limits() -> None:
    names = [f"n{i}" for i in range(3000)]
    data = {
        "nodes": [node(n, "models.m") for n in reversed(names)],
        "edges": [edge(a, b, "o", "i") for a, b in zip(names, names[1:], strict=False)],
    }
    graph, problems = check(data, LOOP_MANIFEST)
    assert [p.code for p in problems] == ["unbound-input"]  # n0 has nothing feeding it
    assert graph.order == tuple(names)


# -- dependencies -------------------------------------------------------------------------------------------


def publish(root: Path, id_: str, version: str, doc: dict) -> None:
    folder = root / id_ / version
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(doc))


STAC = minimal_manifest(
    name="stac-query",
    inputs={"bbox": {"type": "string"}, "cloud": {"type": "integer", "value": 20}},
    outputs={"items": {"type": "Data"}},
)
DEP_NODES = [
    node("bbox", "inputs.bbox"),
    node("stac", "dependencies.stac"),
    node("detector", "models.detector"),
    node("masks", "outputs.masks"),
]


def test_dependency_ports_are_checked_against_a_registry(tmp_path: Path) -> None:
    publish(tmp_path, "stac_query", "0.4", STAC)
    edges = [
        edge("bbox", "stac", to_port="bbox"),
        edge("bbox", "stac", to_port="clouds"),
        edge("stac", "detector", "item", "product"),
        edge("bbox", "detector", to_port="bbox"),
        edge("detector", "masks", "masks_zip"),
    ]
    _, problems = check(workflow(DEP_NODES, edges), resolve=FolderRegistry([tmp_path]))
    assert [(p.code, p.location, p.message) for p in problems] == [
        (
            "unknown-port",
            "workflow.yml: edges[1].to.port",
            'port "clouds" is not an input of dependencies.stac (inputs: bbox, cloud) (did you mean "cloud"?)',
        ),
        (
            "unknown-port",
            "workflow.yml: edges[2].from.port",
            'port "item" is not an output of dependencies.stac (outputs: items) (did you mean "items"?)',
        ),
    ]


def test_unbound_required_dependency_inputs_are_warned(tmp_path: Path) -> None:
    publish(tmp_path, "stac_query", "0.4", STAC)
    edges = [
        edge("stac", "detector", "items", "product"),
        edge("bbox", "detector", to_port="bbox"),
        edge("detector", "masks", "masks_zip"),
    ]
    graph, problems = check(workflow(DEP_NODES, edges), resolve=FolderRegistry([tmp_path]))
    assert [(p.severity, p.code, p.location) for p in problems] == [
        ("warning", "unbound-input", "workflow.yml: nodes[1]")
    ]
    assert graph.nodes["stac"].element.id == "stac_query"


def test_unresolved_dependencies_are_a_note_once_per_dependency(tmp_path: Path) -> None:
    nodes = [*DEP_NODES, node("stac2", "dependencies.stac")]
    edges = [
        edge("stac", "detector", "whatever", "product"),
        edge("bbox", "detector", to_port="bbox"),
        edge("detector", "masks", "masks_zip"),
    ]
    for resolve, how in [(None, "no registry was given"), (FolderRegistry([tmp_path]), "not found in the registry")]:
        graph, problems = check(workflow(nodes, edges), resolve=resolve)
        assert [(p.severity, p.code, p.location, p.message) for p in problems] == [
            (
                "info",
                "unresolved-dependency",
                "workflow.yml: nodes[1].ref",
                f"stac_query==0.4: {how}, so its ports are not checked",
            )
        ]
        assert graph is not None


def test_a_broken_or_unsafe_registry_entry_counts_as_not_found(tmp_path: Path) -> None:
    publish(tmp_path, "stac_query", "0.4", {"name": "no owner"})
    registry = FolderRegistry([tmp_path])
    checked = check_manifest(
        minimal_manifest(
            dependencies={"stac": {"id": "stac_query", "version": "0.4"}, "up": {"id": "..", "version": "x"}}
        )
    )
    assert registry(checked.manifest.dependencies["stac"]) is None
    assert registry(checked.manifest.dependencies["up"]) is None


# -- without a usable manifest ---------------------------------------------------------------------------------


def test_graph_checks_still_run_without_a_manifest() -> None:
    _, problems = check(
        loop_workflow(["ab", "ba"]) | {"edges": [edge("a", "b"), edge("b", "a"), edge("a", "zz")]}, manifest=None
    )
    assert [(p.code, p.location) for p in problems] == [
        ("cycle", "workflow.yml: edges[1]"),
        ("dangling-edge", "workflow.yml: edges[2].to.id"),
    ]


def test_no_graph_when_reading_the_workflow_dropped_something() -> None:
    broken = workflow(edges=[{"to": {"id": "detector", "port": "bbox"}}, *EDGES[1:]])
    graph, problems = check(broken)
    assert graph is None
    assert [(p.code, p.location) for p in problems] == [("missing-key", "workflow.yml: edges[0].from")]


def test_no_graph_when_the_manifest_has_errors() -> None:
    parsed = parse_workflow(workflow())
    broken = check_manifest({**MANIFEST, "owner": 3})
    graph, problems = check_workflow(parsed, broken)
    assert graph is None and problems == ()


def test_the_cli_template_workflow_resolves_to_nothing(deltatwin_examples_dir: Path) -> None:
    data = yaml.safe_load((deltatwin_examples_dir / TEMPLATE_WORKFLOW).read_text())
    graph, problems = check(data, manifest=minimal_manifest())
    assert graph is None
    assert triples(problems) == [
        ("error", "bad-ref", "workflow.yml: nodes[0].ref"),
        ("error", "bad-ref", "workflow.yml: nodes[1].ref"),
        ("error", "duplicate-node", "workflow.yml: nodes[2].id"),
        ("error", "bad-ref", "workflow.yml: nodes[2].ref"),
        ("error", "dangling-edge", "workflow.yml: edges[0].from.id"),
        ("error", "dangling-edge", "workflow.yml: edges[0].to.id"),
    ]


def test_a_missing_nodes_section_is_the_only_problem_reported() -> None:
    # every edge would otherwise be reported dangling before the root cause
    graph, problems = check({"edges": EDGES})
    assert graph is None
    assert [(p.severity, p.code, p.location) for p in problems] == [("error", "missing-key", "workflow.yml: nodes")]


def test_a_glob_placeholder_on_a_default_only_port_is_warned() -> None:
    manifest = minimal_manifest(
        outputs={"raw": {"type": "Data"}},
        models={
            "m": model(
                inputs={"level": {"type": "string", "value": "L1C"}},
                outputs={"raw": {"type": "Data", "glob": "S2_$(inputs.level)_raw.npz"}},
            )
        },
    )
    data = {"nodes": [{"id": "m", "ref": "models.m"}, {"id": "raw", "ref": "outputs.raw"}],
            "edges": [{"from": {"id": "m", "port": "raw"}, "to": {"id": "raw"}}]}
    graph, problems = check(data, manifest)
    assert graph is not None
    assert [(p.severity, p.code, p.location) for p in problems] == [
        ("warning", "reference-cannot-run", "workflow.yml: nodes[0]")
    ]
    assert "$(inputs.level), which no edge feeds" in problems[0].message
