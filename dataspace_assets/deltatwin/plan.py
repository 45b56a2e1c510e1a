"""The run plan of a twin: every node a step (dependency twins inlined), every edge type-checked, names mangled."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dataspace_assets.deltatwin.bindings import TwinSettings, load_twin_settings
from dataspace_assets.deltatwin.coercion import edge_rule, output_rule
from dataspace_assets.deltatwin.manifest import Dependency, Input, Model, Output, Resource
from dataspace_assets.deltatwin.render import SHELL_MODE, template_words
from dataspace_assets.deltatwin.validate import validate_folder
from dataspace_assets.deltatwin.workflow import BoundNode, Port, TwinGraph
from dataspace_assets.errors import DataspaceError

VALUE = "value"  # the single output of input, resource and pass-through steps
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")

Source = tuple[str, str]  # (step key, output name)


def mangle(text: str) -> str:
    """A name Dagster accepts (`^[A-Za-z0-9_]+$`): every other character becomes `_`."""
    return _UNSAFE.sub("_", text) or "_"


@dataclass(frozen=True)
class Step:
    """One op of the twin's graph: what it runs, where its values come from, what it gives."""

    key: str  # the node ids from the top twin down, joined by "/": "count", "stac/query"
    kind: str  # input, resource, model, output, pass (a value copied into or out of a dependency twin)
    node: BoundNode
    twin: TwinGraph
    folder: Path
    sources: Mapping[str, Source]  # port -> the step output feeding it
    outs: tuple[str, ...]  # output names (model outputs keep their keys; mangled in the Dagster layer)
    dependency: str | None = None  # "node (id==version)" of the outermost dependency node this step runs in
    port_type: str | None = None  # pass steps: the type the value is copied as

    @property
    def element(self):
        return self.node.element

    @property
    def top_level(self) -> bool:
        return "/" not in self.key


@dataclass
class TwinPlan:
    """A twin ready to become a Dagster graph."""

    twin: TwinGraph
    folder: Path
    settings: TwinSettings
    steps: dict[str, Step] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.twin.manifest.name

    def op_names(self) -> dict[str, str]:
        """Step key -> op name: mangled, and made unique with a short hash where two keys mangle alike."""
        names: dict[str, str] = {}
        taken: dict[str, str] = {}
        for key in self.steps:
            name = "n_" + "__".join(mangle(part) for part in key.split("/"))
            if name in taken:
                name = f"{name}_{hashlib.sha1(key.encode()).hexdigest()[:6]}"
            if name in taken:
                raise DataspaceError(f"twin {self.name}: nodes {taken[name]!r} and {key!r} get the same op name")
            taken[name] = key
            names[key] = name
        return names

    def prune(self) -> None:
        """Drop value steps nothing consumes (an unwired input, an unused dependency output): no op is needed."""
        while True:
            used = {source for step in self.steps.values() for source, _ in step.sources.values()}
            idle = [k for k, s in self.steps.items() if s.kind in ("input", "resource", "pass") and k not in used]
            if not idle:
                return
            for key in idle:
                self.warnings.append(f"node {key}: its value reaches nothing, so it is not computed")
                del self.steps[key]

    def dangling_models(self) -> list[Step]:
        """Model steps whose outputs reach no twin output: they still run, and every output waits for them."""
        used = {source for step in self.steps.values() for source, _ in step.sources.values()}
        return [s for k, s in self.steps.items() if s.kind == "model" and k not in used]

    def outputs(self) -> list[Step]:
        """The steps publishing a twin output (top level only)."""
        return [s for s in self.steps.values() if s.kind == "output"]


def load_twin(folder: Path, *, registries: tuple[Path, ...] = ()) -> TwinGraph:
    """A twin folder validated into its graph; any error fails with every error line."""
    report = validate_folder(folder, registries=registries)  # bindings.toml too: a bound input must be declared Data
    if report.twin is None:
        errors = "\n".join(f"  {p.render()}" for p in report.errors) or "  (no graph)"
        raise DataspaceError(f"{folder}: the twin is not valid:\n{errors}")
    return report.twin


def build_plan(folder: Path, *, registries: tuple[Path, ...] = ()) -> TwinPlan:
    """Validate a twin folder and flatten it (dependencies inlined) into type-checked steps."""
    folder = folder.resolve()
    settings = load_twin_settings(folder, extra_registries=registries)
    twin = load_twin(folder, registries=settings.registries)
    plan = TwinPlan(twin, folder, settings)
    _Expander(plan).expand(twin, folder, prefix=(), entry={}, dependency=None, stack=((twin.manifest.name, "dev"),))
    plan.prune()
    if not plan.outputs():
        raise DataspaceError(f"{folder}: twin {plan.name} has no output node: there is nothing to materialize")
    for step in plan.dangling_models():
        plan.warnings.append(f"node {step.key}: no output of this model reaches a twin output; every output waits for it")
    return plan


class _Expander:
    def __init__(self, plan: TwinPlan) -> None:
        self.plan = plan
        # (namespace, dependency node id, output key) -> the pass step giving that dependency output
        self.dependency_outputs: dict[tuple[tuple[str, ...], str, str], Source] = {}

    def expand(
        self,
        twin: TwinGraph,
        folder: Path,
        *,
        prefix: tuple[str, ...],
        entry: Mapping[str, Source],
        dependency: str | None,
        stack: tuple[tuple[str, str], ...],
    ) -> None:
        """Add the steps of `twin` (nested under `prefix`); `entry` feeds a dependency twin's inputs by name."""
        self._check_commands(twin, prefix)
        for node_id in twin.order:
            node = twin.nodes[node_id]
            key = "/".join((*prefix, str(node_id)))
            where = f"twin {twin.manifest.name}, node {node_id}"
            section = node.section
            if section == "inputs":
                element: Input = node.element  # type: ignore[assignment]
                if prefix:
                    source = entry.get(element.name)
                    if source is None and element.required:
                        raise DataspaceError(f"{where}: the parent gives no value for required input {element.name!r}")
                    self._check(self._type(source), element.type, f"{where} (input {element.name})")
                    sources = {VALUE: source} if source else {}
                    self._add(Step(key, "pass", node, twin, folder, sources, (VALUE,), dependency, element.type))
                else:
                    self._add(Step(key, "input", node, twin, folder, {}, (VALUE,)))
            elif section == "resources":
                self._add(Step(key, "resource", node, twin, folder, {}, (VALUE,), dependency))
            elif section == "models":
                model: Model = node.element  # type: ignore[assignment]
                sources = {}
                for port, feeder in node.inputs.items():
                    source = self._source(prefix, twin, feeder, where)
                    self._check(self._type(source), model.inputs[port].type, f"{where}, port {port}")
                    sources[port] = source
                outs = tuple(k for k, o in model.outputs.items() if o.type in ("Data", "stdout"))
                self._add(Step(key, "model", node, twin, folder, sources, outs, dependency))
            elif section == "outputs":
                feeder = node.inputs.get("data")
                source = self._source(prefix, twin, feeder, where) if feeder is not None else None
                if source is not None:
                    rule = output_rule(self._type(source))
                    if rule.verdict == "error":
                        raise DataspaceError(f"{where}: {rule.receives}")
                sources = {VALUE: source} if source else {}
                if prefix:
                    step = Step(key, "pass", node, twin, folder, sources, (VALUE,), dependency, "Data")
                    self._add(step)
                    output: Output = node.element  # type: ignore[assignment]
                    self.dependency_outputs.setdefault((prefix[:-1], prefix[-1], output.name), (key, VALUE))
                else:
                    if feeder is None:
                        self.plan.warnings.append(f"{where}: output node has no incoming edge: it is never produced")
                    self._add(Step(key, "output", node, twin, folder, sources, (VALUE,)))
            elif section == "dependencies":
                self._dependency(twin, node, key, prefix, dependency, stack, where)

    def _dependency(self, twin, node: BoundNode, key, prefix, dependency, stack, where) -> None:
        element: Dependency = node.element  # type: ignore[assignment]
        pair = (element.id, element.version)
        if pair in stack:
            loop = " -> ".join(f"{i}=={v}" for i, v in (*stack, pair))
            raise DataspaceError(f"{where}: dependency cycle: {loop}")
        folder = self._find(element, where)
        sub = load_twin(folder, registries=self.plan.settings.registries)
        entry = {port: self._source(prefix, twin, feeder, where) for port, feeder in node.inputs.items()}
        label = dependency or f"{node.node.id} ({element.id}=={element.version})"
        self.expand(sub, folder, prefix=(*prefix, str(node.node.id)), entry=entry, dependency=label, stack=(*stack, pair))

    def _find(self, dependency: Dependency, where: str) -> Path:
        for root in self.plan.settings.registries:
            candidate = root / dependency.id / dependency.version
            if (candidate / "manifest.json").is_file():
                return candidate.resolve()
        roots = ", ".join(str(r) for r in self.plan.settings.registries) or "none (set run.registry in bindings.toml)"
        raise DataspaceError(
            f"{where}: dependency {dependency.id}=={dependency.version} is not in a registry "
            f"(<registry>/<id>/<version>/ with manifest.json, workflow.yml and models/; registries: {roots})"
        )

    def _source(self, prefix: tuple[str, ...], twin: TwinGraph, feeder: Port, where: str) -> Source:
        node = twin.nodes[feeder.node]
        key = "/".join((*prefix, str(feeder.node)))
        if node.section in ("inputs", "resources"):
            return (key, VALUE)
        if node.section == "models":
            return (key, feeder.name)
        found = self.dependency_outputs.get((prefix, str(feeder.node), feeder.name))
        if found is None:
            raise DataspaceError(f"{where}: dependency node {feeder.node} produces no output {feeder.name!r}")
        return found

    def _type(self, source: Source | None) -> str | None:
        """The type of the value a step output carries."""
        if source is None:
            return None
        step = self.plan.steps[source[0]]
        element = step.element
        if step.kind == "pass":
            return step.port_type
        if isinstance(element, Model):
            return element.outputs[source[1]].type
        if isinstance(element, (Input, Resource)):
            return element.type
        return None

    @staticmethod
    def _check(source: str | None, target: str, where: str) -> None:
        if source is None:
            return
        rule = edge_rule(source, target)
        if rule.verdict == "error":
            raise DataspaceError(f"{where}: a {source} value cannot reach a {target} port: {rule.receives}")

    def _check_commands(self, twin: TwinGraph, prefix: tuple[str, ...]) -> None:
        if self.plan.settings.mode == SHELL_MODE:
            return
        for model in twin.manifest.models.values():
            template_words(model.command, where=f"twin {twin.manifest.name}, model {model.name}")

    def _add(self, step: Step) -> None:
        if step.key in self.plan.steps:
            raise DataspaceError(f"twin {self.plan.name}: two nodes have the key {step.key!r}")
        self.plan.steps[step.key] = step
