"""workflow.yml: the graph of nodes and edges, its checks against the manifest, the bound graph an executor walks."""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dataspace_assets.deltatwin.coercion import edge_rule, output_rule
from dataspace_assets.deltatwin.manifest import SECTIONS, Dependency, Element, Manifest, ManifestResult, Model
from dataspace_assets.deltatwin.problems import Path, Problem, Problems, describe, kind, quote, sort_problems

WORKFLOW_FILE = "workflow.yml"
DEFAULT_PORT = "data"  # the port of an edge end that names none, as in delta-core

NodeId = int | str

_NODE_KEYS = frozenset({"id", "ref"})
_EDGE_KEYS = frozenset({"from", "to"})
_END_KEYS = frozenset({"id", "port"})
_TOP_KEYS = frozenset({"nodes", "edges"})
_BARE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Ref:
    """What a node runs: `<section>.<key>` of the manifest, such as `models.detector`."""

    section: str
    key: str

    def __str__(self) -> str:
        return f"{self.section}.{self.key}"


@dataclass(frozen=True)
class Node:
    """One step of the workflow: an input, resource, model run, dependency run or output."""

    id: NodeId
    ref: Ref
    index: int  # position in `nodes`, for messages


@dataclass(frozen=True)
class Port:
    """One end of an edge: a node and the name of the value it gives or takes there."""

    node: NodeId
    name: str = DEFAULT_PORT
    explicit: bool = field(default=True, compare=False)  # False when `port` was left out (it is then `data`)


@dataclass(frozen=True)
class Edge:
    """A value travelling from an output port of one node to an input port of another."""

    source: Port
    target: Port
    index: int  # position in `edges`, for messages


@dataclass(frozen=True)
class Workflow:
    """A parsed workflow.yml: the nodes and edges that could be read."""

    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()

    def node(self, node_id: NodeId) -> Node | None:
        """The node with exactly this id (an integer 0 and a string "0" differ, as in delta-core)."""
        for node in self.nodes:
            if _same_id(node.id, node_id):
                return node
        return None


@dataclass(frozen=True)
class WorkflowResult:
    """The outcome of parsing workflow.yml: the graph read, and the problems found while reading it."""

    workflow: Workflow | None
    problems: tuple[Problem, ...]
    # ids of nodes left out because their ref was malformed: edges to them are not reported again
    unreadable: frozenset[NodeId] = frozenset()
    # the `to` ends of edges left out because their `from` end was malformed: those ports are meant to be fed
    half_edges: tuple[Port, ...] = ()
    # `nodes` missing or not a list: every edge would dangle, so only that root cause is reported
    nodes_unreadable: bool = False


@dataclass(frozen=True)
class BoundNode:
    """A node with the manifest element it runs and, for each of its input ports, the port feeding it."""

    node: Node
    element: Element
    inputs: Mapping[str, Port]  # to.port -> the source port; an unbound model input falls back to its default
    consumers: tuple[Edge, ...]  # the edges leaving this node

    @property
    def section(self) -> str:
        """The manifest section of the element: inputs, resources, models, outputs or dependencies."""
        return self.node.ref.section


@dataclass(frozen=True)
class TwinGraph:
    """A valid twin, ready to execute: the manifest, the workflow, each node bound, in dependency order."""

    manifest: Manifest
    workflow: Workflow
    nodes: Mapping[NodeId, BoundNode]
    order: tuple[NodeId, ...]  # every node after all the nodes feeding it


# A dependency resolver gives the manifest of a published twin (id, version), or None when not available.
DependencyResolver = Callable[[Dependency], Manifest | None]


def parse_workflow(data: Any, *, file: str = WORKFLOW_FILE) -> WorkflowResult:
    """Read `nodes[{id, ref}]` and `edges[{from: {id, port}, to: {id, port}}]`, keeping what is well formed."""
    out = Problems(file)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else kind(data)
        out.error((), "wrong-type", f"expected a mapping with nodes and edges, got {got}")
        return WorkflowResult(None, tuple(out))
    for key in data:
        if key not in _TOP_KEYS:
            out.warning((_part(key),), "unknown-key", "unknown key, ignored" + _did_you_mean(key, _TOP_KEYS))
    unreadable: set[NodeId] = set()
    half_edges: list[Port] = []
    nodes = tuple(_nodes(data, out, unreadable))
    edges = tuple(_edges(data, out, half_edges))
    return WorkflowResult(
        Workflow(nodes, edges),
        tuple(sort_problems(out, data)),
        frozenset(unreadable),
        tuple(half_edges),
        nodes_unreadable=not isinstance(data.get("nodes"), list),
    )


def _list(data: dict, key: str, out: Problems) -> list:
    if key not in data:
        out.error((key,), "missing-key", "missing required key")
        return []
    value = data[key]
    if not isinstance(value, list):
        out.error((key,), "wrong-type", f"expected a list, got {kind(value)}")
        return []
    return value


def _nodes(data: dict, out: Problems, unreadable: set[NodeId]) -> Iterable[Node]:
    seen: dict[tuple[type, NodeId], int] = {}
    for index, raw in enumerate(_list(data, "nodes", out)):
        where: Path = ("nodes", index)
        if not isinstance(raw, dict):
            out.error(where, "wrong-type", f"expected a node with id and ref, got {kind(raw)}")
            continue
        for key in raw:
            if key not in _NODE_KEYS:
                out.warning(
                    (*where, _part(key)), "unknown-key", "unknown key, ignored" + _did_you_mean(key, _NODE_KEYS)
                )
        node_id = _node_id((*where, "id"), raw, out)
        ref = _ref((*where, "ref"), raw, out)
        if node_id is None:
            continue
        identity = (type(node_id), node_id)
        if identity in seen:
            out.error(
                (*where, "id"), "duplicate-node", f"node id {_show(node_id)} is already used by nodes[{seen[identity]}]"
            )
            continue
        seen[identity] = index
        if ref is None:
            unreadable.add(node_id)
        else:
            yield Node(node_id, ref, index)


def _node_id(where: Path, raw: dict, out: Problems) -> NodeId | None:
    if "id" not in raw:
        out.error(where, "missing-key", "missing required key")
        return None
    value = raw["id"]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        out.error(where, "bad-node-id", f"a node id is a string or an integer, got {describe(value)}")
        return None
    return value


def _ref(where: Path, raw: dict, out: Problems) -> Ref | None:
    """A ref split on its first dot, looked up safely (delta-core evaluates it as Python)."""
    if "ref" not in raw:
        out.error(where, "missing-key", "missing required key")
        return None
    value = raw["ref"]
    if not isinstance(value, str):
        out.error(where, "wrong-type", f"expected a ref such as models.name, got {describe(value)}")
        return None
    section, dot, key = value.partition(".")
    if not dot or not key:
        out.error(where, "bad-ref", f"{quote(value)} is not <section>.<key> (sections: {', '.join(SECTIONS)})")
        return None
    if section not in SECTIONS:
        out.error(
            where,
            "bad-ref",
            f"unknown section {quote(section)} in {quote(value)} (sections: {', '.join(SECTIONS)})"
            + _did_you_mean(section, SECTIONS),
        )
        return None
    return Ref(section, key)


def _edges(data: dict, out: Problems, half_edges: list[Port]) -> Iterable[Edge]:
    for index, raw in enumerate(_list(data, "edges", out)):
        where: Path = ("edges", index)
        if not isinstance(raw, dict):
            out.error(where, "wrong-type", f"expected an edge with from and to, got {kind(raw)}")
            continue
        for key in raw:
            if key not in _EDGE_KEYS:
                out.warning(
                    (*where, _part(key)), "unknown-key", "unknown key, ignored" + _did_you_mean(key, _EDGE_KEYS)
                )
        source = _end((*where, "from"), raw, "from", out)
        target = _end((*where, "to"), raw, "to", out)
        if source is not None and target is not None:
            yield Edge(source, target, index)
        elif target is not None:
            half_edges.append(target)


def _end(where: Path, raw: dict, key: str, out: Problems) -> Port | None:
    if key not in raw:
        out.error(where, "missing-key", "missing required key")
        return None
    end = raw[key]
    if not isinstance(end, dict):
        out.error(where, "wrong-type", f"expected a mapping with id and port, got {kind(end)}")
        return None
    for inner in end:
        if inner not in _END_KEYS:
            out.warning((*where, _part(inner)), "unknown-key", "unknown key, ignored" + _did_you_mean(inner, _END_KEYS))
    node_id = _node_id((*where, "id"), end, out)
    port = end.get("port", DEFAULT_PORT)
    if port is None:
        port = DEFAULT_PORT  # `port:` with nothing after it
    if not isinstance(port, str):
        out.error((*where, "port"), "wrong-type", f"expected a port name, got {describe(port)}")
        return None
    if node_id is None:
        return None
    return Port(node_id, port, explicit=end.get("port") is not None)


# -- checks against the manifest ----------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """What an edge end resolves to: its node, and the element and port lists known for it."""

    node: Node
    element: Element | None
    inputs: frozenset[str] | None  # None: not known (unresolved dependency, unreadable manifest part)
    outputs: frozenset[str] | None
    required: frozenset[str] = frozenset()
    input_types: Mapping[str, str] = field(default_factory=dict)  # port -> declared type, where known
    output_types: Mapping[str, str] = field(default_factory=dict)


def check_workflow(
    parsed: WorkflowResult,
    manifest: ManifestResult | None,
    *,
    resolve: DependencyResolver | None = None,
    data: Any = None,
    file: str = WORKFLOW_FILE,
) -> tuple[TwinGraph | None, tuple[Problem, ...]]:
    """Check refs, ports, bindings and cycles before anything runs; the bound graph when nothing anywhere is wrong.

    Manifest parts that could not be read and nodes whose ref was malformed are already reported,
    so nothing is checked against them. `data` (the parsed YAML) only orders the problems.
    """
    out = Problems(file)
    workflow = parsed.workflow
    if workflow is None or parsed.nodes_unreadable:
        return None, ()  # without nodes every edge would be reported dangling: the missing section is the cause
    model = manifest.manifest if manifest is not None else None
    opaque = manifest.opaque if manifest is not None else frozenset()
    targets = _resolve_nodes(workflow, model, opaque, resolve, out)
    skipped = {_key(node_id) for node_id in parsed.unreadable}
    edges = _check_edges(workflow, targets, skipped, parsed.half_edges, out)
    bindings = _check_bindings(workflow, targets, edges, out)
    _check_types(edges.binding, targets, out)
    _check_glob_defaults(workflow, targets, bindings, out)
    order = _order(workflow, edges.graph, out)
    problems = tuple(sort_problems(out, data))
    upstream_ok = manifest is not None and manifest.ok and not any(p.severity == "error" for p in parsed.problems)
    if not upstream_ok or model is None or out.has_errors or order is None:
        return None, problems
    nodes = {
        node.id: BoundNode(
            node=node,
            element=targets[_key(node.id)].element,  # type: ignore[arg-type]  # every ref resolved: no error
            inputs=bindings.get(_key(node.id), {}),
            consumers=tuple(e for e in edges.binding if _same_id(e.source.node, node.id)),
        )
        for node in workflow.nodes
    }
    return TwinGraph(manifest=model, workflow=workflow, nodes=nodes, order=order), problems


def _resolve_nodes(
    workflow: Workflow,
    manifest: Manifest | None,
    opaque: frozenset[str],
    resolve: DependencyResolver | None,
    out: Problems,
) -> dict[tuple[type, NodeId], _Target]:
    """Resolve every node's ref to its manifest element and the ports it has."""
    targets: dict[tuple[type, NodeId], _Target] = {}
    announced: set[str] = set()
    for node in workflow.nodes:
        where: Path = ("nodes", node.index, "ref")
        section, key = node.ref.section, node.ref.key
        element = manifest.element(section, key) if manifest is not None else None
        if manifest is not None and element is None and section not in opaque and f"{section}.{key}" not in opaque:
            declared = sorted(manifest.section(section))
            listed = ", ".join(declared[:8]) + (", ..." if len(declared) > 8 else "") if declared else "none"
            out.error(
                where,
                "dangling-ref",
                f"{node.ref} is not declared in manifest.json (declared {section}: {listed})"
                + _did_you_mean(key, declared),
            )
        inputs = outputs = None
        required: frozenset[str] = frozenset()
        input_types: dict[str, str] = {}
        output_types: dict[str, str] = {}
        if isinstance(element, Model):
            if f"models.{key}.inputs" not in opaque:
                inputs = frozenset(element.inputs)
                required = frozenset(name for name, port in element.inputs.items() if port.required)
                input_types = {name: port.type for name, port in element.inputs.items()}
            if f"models.{key}.outputs" not in opaque:
                outputs = frozenset(element.outputs)
                output_types = {name: port.type for name, port in element.outputs.items()}
        elif isinstance(element, Dependency):
            dependency = resolve(element) if resolve is not None else None
            if dependency is None:
                if element.name not in announced:
                    announced.add(element.name)
                    how = "not found in the registry" if resolve is not None else "no registry was given"
                    out.info(
                        where,
                        "unresolved-dependency",
                        f"{element.id}=={element.version}: {how}, so its ports are not checked",
                    )
            else:
                inputs, outputs = frozenset(dependency.inputs), frozenset(dependency.outputs)
                required = frozenset(name for name, port in dependency.inputs.items() if port.required)
                input_types = {name: port.type for name, port in dependency.inputs.items()}
                output_types = {name: port.type for name, port in dependency.outputs.items()}
        elif element is not None and section in ("inputs", "resources"):
            output_types = {DEFAULT_PORT: element.type}  # type: ignore[union-attr]
        targets[_key(node.id)] = _Target(node, element, inputs, outputs, required, input_types, output_types)
    return targets


@dataclass(frozen=True)
class _CheckedEdges:
    """The edges sorted by what they can be trusted for."""

    graph: tuple[Edge, ...]  # both ends are nodes and the direction is right: used for cycles and order
    binding: tuple[Edge, ...]  # also both ports are right: used to bind ports
    intended: frozenset[tuple]  # (node, port) slots some edge means to feed, even one with a broken source


def _check_edges(
    workflow: Workflow,
    targets: dict[tuple[type, NodeId], _Target],
    skipped: set,
    half_edges: tuple[Port, ...],
    out: Problems,
) -> _CheckedEdges:
    """Edges whose two ends are nodes, with their directions and ports checked; duplicates reported and dropped."""
    graph: list[Edge] = []
    binding: list[Edge] = []
    intended: set[tuple] = set()
    for port in half_edges:  # already reported while reading: only their intent counts
        target = targets.get(_key(port.node))
        if target is not None:
            intended.add(_slot(port, target))
    first: dict[tuple, int] = {}
    for edge in workflow.edges:
        where: Path = ("edges", edge.index)
        source = _endpoint((*where, "from"), edge.source, workflow, targets, skipped, out)
        target = _endpoint((*where, "to"), edge.target, workflow, targets, skipped, out)
        if target is None:
            continue
        target_ok = _check_target(where, edge, target, out)
        if target_ok:
            # the port is meant to be fed: no "unbound" warning on top of this edge's own error
            intended.add(_slot(edge.target, target))
        if source is None:
            continue
        identity = (_key(edge.source.node), edge.source.name, _key(edge.target.node), edge.target.name)
        if identity in first:
            out.warning(where, "duplicate-edge", f"repeats edges[{first[identity]}]")
            continue
        first[identity] = edge.index
        source_ok = _check_source(where, edge, source, out)
        if source_ok is not None and target_ok is not None:
            graph.append(edge)
        if source_ok and target_ok:
            binding.append(edge)
    return _CheckedEdges(tuple(graph), tuple(binding), frozenset(intended))


def _slot(end: Port, target: _Target) -> tuple:
    """The (node, port) an edge's `to` end feeds; an output node has a single slot whatever the port says."""
    name = DEFAULT_PORT if target.node.ref.section == "outputs" else end.name
    return (_key(end.node), name)


def _endpoint(where: Path, end: Port, workflow: Workflow, targets: dict, skipped: set, out: Problems) -> _Target | None:
    """The node an edge end names; ids are compared with their type, as delta-core does."""
    target = targets.get(_key(end.node))
    if target is not None or _key(end.node) in skipped:
        return target
    out.error((*where, "id"), "dangling-edge", f"no node has id {_show(end.node)}")
    for node in workflow.nodes:
        if str(node.id) == str(end.node):
            out.warning(
                (*where, "id"),
                "id-type-mismatch",
                f"{_show(end.node)} is {kind(end.node)} but node {_show(node.id)} "
                f"(nodes[{node.index}]) is {kind(node.id)}: ids are compared with their type",
            )
    return None


def _check_source(where: Path, edge: Edge, source: _Target, out: Problems) -> bool | None:
    """The `from` end: an output port of a model or dependency; input and resource nodes have one value.

    True when right, False for an unknown port, None for an edge leaving an output node.
    """
    section = source.node.ref.section
    port = edge.source
    if section == "outputs":
        out.error(
            (*where, "from", "id"),
            "wrong-direction",
            f"node {_show(port.node)} is a twin output ({source.node.ref}): nothing leaves it",
        )
        return None
    if section in ("inputs", "resources"):
        if port.explicit and port.name != DEFAULT_PORT:
            out.warning((*where, "from", "port"), "ignored-port", f"ignored: {source.node.ref} has a single value")
    elif source.outputs is not None and port.name not in source.outputs:
        out.error(_port_path(where, "from", port), "unknown-port", _unknown_port(port, "output", source))
        return False
    return True


def _check_target(where: Path, edge: Edge, target: _Target, out: Problems) -> bool | None:
    """The `to` end: an input port of a model or dependency; an output node takes one value.

    True when right, False for an unknown port, None for an edge into an input or resource node.
    """
    section = target.node.ref.section
    port = edge.target
    if section in ("inputs", "resources"):
        out.error(
            (*where, "to", "id"),
            "wrong-direction",
            f"node {_show(port.node)} is {target.node.ref}: it takes no incoming value",
        )
        return None
    if section == "outputs":
        if port.explicit and port.name != DEFAULT_PORT:
            out.warning((*where, "to", "port"), "ignored-port", f"ignored: {target.node.ref} takes a single value")
    elif target.inputs is not None and port.name not in target.inputs:
        out.error(_port_path(where, "to", port), "unknown-port", _unknown_port(port, "input", target))
        return False
    return True


def _unknown_port(port: Port, direction: str, target: _Target) -> str:
    names = sorted(target.inputs if direction == "input" else target.outputs or ())
    listed = ", ".join(names) if names else "none"
    default = " (the default)" if not port.explicit else ""
    return (
        f"port {quote(port.name)}{default} is not an {direction} of {target.node.ref} ({direction}s: {listed})"
        + _did_you_mean(port.name, names)
    )


def _port_path(where: Path, end: str, port: Port) -> Path:
    return (*where, end, "port") if port.explicit else (*where, end)


def _check_bindings(
    workflow: Workflow, targets: dict[tuple[type, NodeId], _Target], edges: _CheckedEdges, out: Problems
) -> dict[tuple[type, NodeId], dict[str, Port]]:
    """Each input port fed at most once, each output node exactly once, each required model input fed."""
    bound: dict[tuple[type, NodeId], dict[str, Port]] = {}
    feeding: dict[tuple, Edge] = {}
    for edge in edges.binding:
        target = targets[_key(edge.target.node)]
        slot = _slot(edge.target, target)
        if slot in feeding:
            earlier = feeding[slot]
            if target.node.ref.section == "outputs":
                out.error(
                    ("edges", edge.index, "to"),
                    "ambiguous-output",
                    f"output node {_show(edge.target.node)} already receives "
                    f"edges[{earlier.index}]: an output takes exactly one value",
                )
            else:
                out.error(
                    ("edges", edge.index, "to"),
                    "ambiguous-port",
                    f"port {quote(slot[1])} of node {_show(edge.target.node)} is already fed by edges[{earlier.index}]",
                )
            continue
        feeding[slot] = edge
        bound.setdefault(slot[0], {})[slot[1]] = edge.source
    for node in workflow.nodes:
        target = targets[_key(node.id)]
        fed = {port for key, port in edges.intended if key == _key(node.id)}
        where: Path = ("nodes", node.index)
        if node.ref.section == "outputs" and target.element is not None and not fed:
            out.warning(
                where,
                "unwired-output",
                f"output node {_show(node.id)} ({node.ref}) has no incoming edge: the run will not produce it",
            )
        for name in sorted(target.required - fed):
            out.warning(
                where,
                "unbound-input",
                f"input {quote(name)} of {node.ref} has no default and no incoming edge: it renders empty",
            )
    return bound


def _check_types(edges: Iterable[Edge], targets: dict[tuple[type, NodeId], _Target], out: Problems) -> None:
    """Every edge's value type against its port's type, by the coercion table (delta-core crashes on mismatches).

    Only the edge that really feeds a port is checked: a second one into the same port is already an error.
    """
    fed: set[tuple] = set()
    for edge in edges:
        source, target = targets[_key(edge.source.node)], targets[_key(edge.target.node)]
        slot = _slot(edge.target, target)
        if slot in fed:
            continue
        fed.add(slot)
        port = DEFAULT_PORT if source.node.ref.section in ("inputs", "resources") else edge.source.name
        kind = source.output_types.get(port)
        if not kind:
            continue  # not known (an unresolved dependency) or already reported
        if target.node.ref.section == "outputs":
            rule, into = output_rule(kind), f"output node {_show(edge.target.node)}"
        else:
            declared = target.input_types.get(edge.target.name)
            if not declared:
                continue
            rule, into = edge_rule(kind, declared), f"the {declared} port {quote(edge.target.name)} of {target.node.ref}"
        where: Path = ("edges", edge.index)
        if rule.verdict == "error":
            out.error(where, "edge-type", f"{_a(kind)} value ({source.node.ref}) cannot reach {into}: {rule.receives}")
        elif rule.verdict == "reference-crash":
            out.warning(
                where,
                "edge-type",
                f"{_a(kind)} value ({source.node.ref}) into {into}: delta-core 1.2.7 crashes here "
                f"(run error, return code 0); dataspace gives the port {rule.receives}",
            )


_GLOB_INPUT = re.compile(r"\$\(inputs\.([A-Za-z][A-Za-z0-9_-]*)\)")


def _check_glob_defaults(
    workflow: Workflow, targets: dict[tuple[type, NodeId], _Target], bindings: Mapping, out: Problems
) -> None:
    """A glob naming an input no edge feeds: delta-core 1.2.7 reads edge values only (KeyError, return code 0)."""
    for node in workflow.nodes:
        element = targets[_key(node.id)].element
        if not isinstance(element, Model):
            continue
        fed = bindings.get(_key(node.id), {})
        for output in element.outputs.values():
            for name in _GLOB_INPUT.findall(output.glob or ""):
                if name in element.inputs and name not in fed:
                    out.warning(
                        ("nodes", node.index),
                        "reference-cannot-run",
                        f"delta-core 1.2.7 cannot run this: the glob of output {quote(output.name)} names "
                        f"$(inputs.{name}), which no edge feeds (it reads edge values only); dataspace uses the default",
                    )


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _order(workflow: Workflow, edges: tuple[Edge, ...], out: Problems) -> tuple[NodeId, ...] | None:
    """Nodes in an order where each comes after everything feeding it; every cycle reported, with its path."""
    keys = [_key(node.id) for node in workflow.nodes]
    successors: dict[tuple, list[tuple]] = {k: [] for k in keys}
    closing: dict[tuple[tuple, tuple], int] = {}
    for edge in edges:
        a, b = _key(edge.source.node), _key(edge.target.node)
        successors[a].append(b)
        closing.setdefault((a, b), edge.index)
    cyclic = False
    for component in _strongly_connected(keys, successors):
        if len(component) == 1 and component[0] not in successors[component[0]]:
            continue
        cyclic = True
        loop = _shortest_cycle(component, successors)
        text = " -> ".join(_show(k[1]) for k in loop)
        last = closing[(loop[-2], loop[-1])]
        extra = (
            f" (all of {', '.join(_show(k[1]) for k in component)} are in this loop)"
            if len(component) > len(loop) - 1
            else ""
        )
        out.error(("edges", last), "cycle", f"cycle: {text}{extra}: none of these nodes could ever start")
    if cyclic:
        return None
    # Kahn's algorithm, keeping the file's node order among ready nodes so the order is predictable
    indegree = {k: 0 for k in keys}
    for k in keys:
        for b in successors[k]:
            indegree[b] += 1
    ready = deque(k for k in keys if indegree[k] == 0)
    order: list[NodeId] = []
    while ready:
        k = ready.popleft()
        order.append(k[1])
        for b in successors[k]:
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    return tuple(order)


def _strongly_connected(keys: list[tuple], successors: dict[tuple, list[tuple]]) -> list[list[tuple]]:
    """Tarjan's strongly connected components, iterative so long chains cannot overflow the stack."""
    index: dict[tuple, int] = {}
    low: dict[tuple, int] = {}
    on_stack: set[tuple] = set()
    stack: list[tuple] = []
    components: list[list[tuple]] = []
    rank = {k: i for i, k in enumerate(keys)}
    counter = 0
    for root in keys:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for position in range(child, len(successors[node])):
                succ = successors[node][position]
                if succ not in index:
                    work.append((node, position + 1))
                    work.append((succ, 0))
                    recurse = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component, key=rank.__getitem__))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _shortest_cycle(component: list[tuple], successors: dict[tuple, list[tuple]]) -> list[tuple]:
    """The shortest loop through the component's first node (in file order), start repeated at the end."""
    start = component[0]
    members = set(component)
    parent: dict[tuple, tuple | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in successors[node]:
            if succ == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])  # type: ignore[arg-type]
                return [*reversed(path), start]
            if succ in members and succ not in parent:
                parent[succ] = node
                queue.append(succ)
    return [start, start]  # not reached: every component member lies on a loop


# -- small helpers ------------------------------------------------------------------------------


def _key(node_id: NodeId) -> tuple[type, NodeId]:
    """Node ids compared with their type: 0 and "0" are different nodes."""
    return (type(node_id), node_id)


def _same_id(a: NodeId, b: NodeId) -> bool:
    return type(a) is type(b) and a == b


def _show(node_id: NodeId) -> str:
    """A node id for messages: integers bare, strings bare when they read as names, else quoted (so "0" is not 0)."""
    if isinstance(node_id, str):
        return node_id if _BARE_ID.fullmatch(node_id) else quote(node_id)
    return str(node_id)


def _part(key: Any) -> str | int:
    return key if isinstance(key, (str, int)) and not isinstance(key, bool) else str(key)


def _did_you_mean(key: Any, allowed: Iterable[str]) -> str:
    if not isinstance(key, str):
        return ""
    match = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return f" (did you mean {quote(match[0])}?)" if match else ""
