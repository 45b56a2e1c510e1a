"""The asset factory: one `graph_multi_asset` per twin, one op per workflow node, one asset per twin output."""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from dataspace_assets.deltatwin.bindings import with_bound_defaults
from dataspace_assets.deltatwin.coercion import coerce
from dataspace_assets.deltatwin.fetch import FetchError, fetch
from dataspace_assets.deltatwin.inputs import MASK, Secret, check_inputs
from dataspace_assets.deltatwin.manifest import DataRef, Input, Manifest, Model, Output, Resource
from dataspace_assets.deltatwin.plan import VALUE, Step, TwinPlan, mangle
from dataspace_assets.deltatwin.runner import NodeFailed, run_model
from dataspace_assets.deltatwin.values import DataFile, Masker, SecretRef, TwinValue, is_secret, masked
from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import Settings

STORE_RESOURCE = "deltatwin_store"
IO_MANAGER = "deltatwin_files"
INPUTS_OP = "twin_inputs"
READY = "ready"
TAG_STATUS = "deltatwin/status"
TAG_RETURN_CODE = "deltatwin/return_code"
TAG_MESSAGE = "deltatwin/message"
TAG_INPUTS = "deltatwin/inputs"
TAG_TWIN = "deltatwin/twin"
NEEDS_INPUTS = "deltatwin/needs_inputs"
PROGRESS = "[deltatwin]"  # the prefix of the warning and error log lines `twin run` also shows
PROGRESS_ENV = "DATASPACE_TWIN_PROGRESS"  # set by `twin run`: each node prints its progress on stderr
_TAG_LIMIT = 2000


def asset_key(twin_name: str, output_key: str) -> dg.AssetKey:
    """The asset of one twin output: `deltatwin/<twin name>/<output key>` (original names, not mangled)."""
    return dg.AssetKey(["deltatwin", twin_name, output_key])


def graph_name(twin_name: str) -> str:
    return f"deltatwin__{mangle(twin_name)}"


@dataclass(frozen=True)
class RunPaths:
    """Where a deployment keeps twin runs (`runs/<run id>/<node>/`) and the model environments."""

    runs: str
    environments: str

    @classmethod
    def from_settings(cls, settings: Settings) -> RunPaths:
        base = settings.home / "deltatwin"
        return cls(str(base / "runs"), str(base / "environments"))

    @property
    def outputs(self) -> str:
        """Where the latest materialization of each twin output is described (the IO manager's folder)."""
        return str(Path(self.runs).parent / "outputs")

    def node_dir(self, run_id: str, step: Step) -> Path:
        return Path(self.runs, run_id, *(mangle(part) for part in step.key.split("/")))


# -- run config --------------------------------------------------------------------------------


def config_inputs(plan: TwinPlan) -> dict[str, Input]:
    """The twin inputs the run config gives (those bound to a data-space asset are read from the store)."""
    return {k: i for k, i in plan.twin.manifest.inputs.items() if k not in plan.settings.bindings}


def config_schema(plan: TwinPlan) -> dict[str, dg.Field]:
    """One typed field per input: required without a default, defaults shown, Data a URL or path, secrets by env var."""
    fields: dict[str, dg.Field] = {}
    for name, declared in config_inputs(plan).items():
        description = declared.description or declared.type
        default = declared.default
        if declared.type == "secret":
            fields[name] = dg.Field(
                dg.Shape({"env": dg.Field(str, description="the environment variable holding the secret")}),
                is_required=default is None,
                description=f"{description} (secret: give {{env: VARIABLE}}, never the value)",
            )
            continue
        kind: Any = {"boolean": bool, "integer": int, "number": float, "Data": str}.get(declared.type, dg.Any)
        if declared.type == "string":
            kind = str
        if declared.type == "Data":
            description = f"{description} (Data: an http(s) URL or a file path)"
            default = default.url if isinstance(default, DataRef) else default
        if default is None:
            fields[name] = dg.Field(kind, is_required=True, description=description)
        else:
            fields[name] = dg.Field(kind, default_value=default, is_required=False, description=description)
    return fields


def needs_inputs(plan: TwinPlan) -> bool:
    """True when a run cannot start without run config (a required input that is not bound)."""
    return any(i.required for i in config_inputs(plan).values())


def unbound_manifest(plan: TwinPlan) -> Manifest:
    """The manifest as the run's inputs are checked against it: inputs fed by a data-space asset need no value."""
    return with_bound_defaults(plan.twin.manifest, plan.settings.bindings)


def inputs_file_form(plan: TwinPlan, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, TwinValue]]:
    """Run config as a deltatwin-cli inputs file (for the same checks, same words) and the values it gives."""
    data: dict[str, Any] = {}
    values: dict[str, TwinValue] = {}
    manifest = plan.twin.manifest
    for name, declared in manifest.inputs.items():
        if name in plan.settings.bindings:
            continue  # filled from the store by its node
        raw = config.get(name)
        if raw is None:
            continue
        if declared.type == "secret":
            data[name] = {"type": "secret", "secret_value": MASK}
            values[name] = SecretRef(raw["env"])
            continue
        default = declared.default.url if isinstance(declared.default, DataRef) else declared.default
        if raw == default and type(raw) is type(default):
            continue  # the manifest's default, filled in by Dagster: a default is never type-checked
        data[name] = {"type": "Data", "url": raw} if declared.type == "Data" else {"type": declared.type, "value": raw}
        values[name] = raw
    return data, values


# -- recording ---------------------------------------------------------------------------------


def _shown(result, values: Mapping[str, TwinValue]) -> str:
    """The run's inputs as they may be shown (secrets ***), for the run's tags."""
    if result.inputs is None:
        return "{}"
    shown = {}
    for name, bound in result.inputs.inputs.items():
        value = values.get(name, bound.value)
        shown[name] = MASK if bound.type == "secret" else value.url if isinstance(value, DataRef) else masked(value)
    return json.dumps(shown, default=str)


def _progress(text: str) -> None:
    """A progress line for `twin run` (stderr, not the event log: every stored event costs a database write)."""
    if os.environ.get(PROGRESS_ENV) == "1":
        print(text, file=sys.stderr, flush=True)


def _record(context: dg.OpExecutionContext, tags: Mapping[str, str]) -> None:
    context.instance.add_run_tags(context.run_id, {k: v[:_TAG_LIMIT] for k, v in tags.items()})


def _record_failure(context: dg.OpExecutionContext, return_code: int, message: str) -> None:
    """The first failure of a run sets its status, return code and message (later ones only log)."""
    run = context.instance.get_run_by_id(context.run_id)
    if run is not None and run.tags.get(TAG_STATUS) == "error":
        return
    _record(context, {TAG_STATUS: "error", TAG_RETURN_CODE: str(return_code), TAG_MESSAGE: message})


def _guarded(step_label: str, dependency: str | None, body):
    """Run an op body; any failure is recorded (status, delta-core return code, a message) and raised as dg.Failure."""

    def compute(context, inputs: Mapping[str, Any]) -> Iterator[dg.Output]:
        masker = Masker()  # per execution: the secrets this step reveals
        try:
            yield from body(context, inputs, masker)
        except dg.Failure:
            raise
        except Exception as exc:  # every failure gets a code and a message, never "error, 0, empty"
            if isinstance(exc, NodeFailed):
                code, message = exc.return_code, str(exc)
            elif isinstance(exc, DataspaceError):
                code, message = (211 if isinstance(exc, FetchError) else 221), str(exc)
            else:
                code, message = 221, f"node {step_label}: unexpected {type(exc).__name__}: {exc}"
            if dependency is not None:
                code, message = 230, f"Error while running dependency {dependency}: {message}"
            message = masker(message)
            _record_failure(context, code, message)
            context.log.error(f"{PROGRESS} {step_label}: failed (return code {code})")
            raise dg.Failure(
                description=message, metadata={"return_code": code, "node": step_label}
            ) from None

    return compute


# -- the factory -------------------------------------------------------------------------------


class _Factory:
    def __init__(self, plan: TwinPlan, paths: RunPaths) -> None:
        self.plan = plan
        self.paths = paths
        self.ops = plan.op_names()
        self.inputs = config_inputs(plan)
        used = {s.element.name for s in plan.steps.values() if s.kind == "input"} - set(plan.settings.bindings)
        self.input_outs = _unique({name: f"i_{mangle(name)}" for name in plan.twin.manifest.inputs if name in used})
        self.asset_outs = _unique({s.key: f"o_{mangle(s.element.name)}" for s in plan.outputs()})
        self.binding_ins = {name: f"b_{mangle(name)}" for name in plan.settings.bindings}
        self.dangling = [s.key for s in plan.dangling_models()]
        self.wired = [asset_key(plan.name, s.element.name) for s in plan.outputs() if s.sources]

    # -- op definitions

    def inputs_op(self) -> dg.OpDefinition:
        plan = self.plan

        def body(context, _inputs, _masker):
            data, values = inputs_file_form(plan, context.op_config or {})
            result = check_inputs(data, unbound_manifest(plan), file="run config")
            _record(context, {TAG_STATUS: "running", TAG_TWIN: plan.name, TAG_INPUTS: _shown(result, values)})
            if not result.ok:
                message = " ".join(p.message for p in result.problems if p.severity == "error")
                raise NodeFailed(message, result.return_code or 110)
            for ref in values.values():
                if isinstance(ref, SecretRef):
                    ref.reveal()  # fail now, before any model runs, if the variable is missing
            assert result.inputs is not None
            for name, bound in result.inputs.inputs.items():
                value: TwinValue = values.get(name, bound.value)
                if isinstance(value, DataRef):
                    value = value.url
                if name in self.input_outs:
                    yield dg.Output(value, output_name=self.input_outs[name])
            _progress(f"inputs checked: {_shown(result, values)}")
            yield dg.Output(True, output_name=READY)

        outs = {out: dg.Out(is_required=True) for out in self.input_outs.values()}
        outs[READY] = dg.Out(bool)
        return dg.OpDefinition(
            name=INPUTS_OP,
            compute_fn=_guarded("inputs", None, body),
            outs=outs,
            config_schema=config_schema(plan),
            description=f"Check the run's inputs of twin {plan.name} (return codes 110 and 120).",
        )

    def step_op(self, step: Step) -> dg.OpDefinition:
        ins: dict[str, dg.In] = {READY: dg.In(dg.Nothing)}
        outs: dict[str, dg.Out] = {}
        resources: set[str] = set()
        if step.kind == "input":
            if step.element.name in self.binding_ins:
                resources.add(STORE_RESOURCE)
                ins["upstream"] = dg.In(dg.Nothing)
            else:
                ins["bound"] = dg.In()
        for port in step.sources:
            ins[f"p_{mangle(port)}"] = dg.In()
        if step.kind == "output":
            for index, _ in enumerate(self.dangling):
                ins[f"after_{index}"] = dg.In(dg.Nothing)
            outs[self.asset_outs[step.key]] = dg.Out(is_required=False, io_manager_key=IO_MANAGER)
        elif step.kind == "model":
            outs = {f"o_{mangle(key)}": dg.Out(is_required=False) for key in step.outs}
        else:
            outs[VALUE] = dg.Out(is_required=False)
        body = getattr(self, f"_{step.kind}")(step)
        return dg.OpDefinition(
            name=self.ops[step.key],
            compute_fn=_guarded(step.key, step.dependency, body),
            ins=ins,
            outs=outs,
            required_resource_keys=resources,
            description=f"{step.node.node.ref} (node {step.key})",
            tags={"deltatwin/node": step.key, "deltatwin/kind": step.kind},
        )

    # -- op bodies by node kind

    def _node_dir(self, context, step: Step) -> Path:
        return self.paths.node_dir(context.run_id, step)

    def _fetched(self, context, step: Step, value: TwinValue) -> TwinValue:
        if isinstance(value, DataRef):
            value = value.url
        declared = step.element.type
        if declared not in ("Data", "stdout") or isinstance(value, DataFile) or value is None:
            return value
        _progress(f"{step.key}: fetching {value}")
        return fetch(str(value), self._node_dir(context, step), twin_folder=step.folder, options=self.plan.settings.fetch)

    def _input(self, step: Step):
        element: Input = step.element  # type: ignore[assignment]
        binding = self.plan.settings.bindings.get(element.name)

        def body(context, inputs, masker):
            if binding is not None:
                value: TwinValue = self._stored(context, step, binding.store_name)
            else:
                value = self._fetched(context, step, inputs["bound"])
            yield self._value_output(context, step, value)

        return body

    def _stored(self, context, step: Step, name: str) -> DataFile:
        """The latest item the data space stored under `name`, written as the input's file."""
        store = getattr(context.resources, STORE_RESOURCE).get_store()
        item = store.latest(name)
        if item is None:
            raise NodeFailed(f"node {step.key}: dataspace/{name} has no stored item yet (materialize it first)", 211)
        folder = self._node_dir(context, step)
        folder.mkdir(parents=True, exist_ok=True)
        base = (item.content_type or "").split(";")[0].strip()
        suffix = {"application/json": ".json", "text/plain": ".txt"}.get(base, ".bin")
        target = folder / f"{name}-{item.id}{suffix}"
        target.write_bytes(item.content)
        return DataFile.of(target, url=f"dataspace/{name}#{item.id}")

    def _resource(self, step: Step):
        element: Resource = step.element  # type: ignore[assignment]

        def body(context, inputs, masker):
            value: TwinValue = element.value  # type: ignore[assignment]
            if element.type == "secret" and isinstance(value, str):
                value = Secret(value)
            yield self._value_output(context, step, self._fetched(context, step, value))

        return body

    def _pass(self, step: Step):
        element = step.element
        port = next(iter(step.sources), None)

        def body(context, inputs, masker):
            if port is not None:
                value = inputs[f"p_{mangle(port)}"]
            else:
                value = element.default if isinstance(element, Input) else None
                value = self._fetched(context, step, value)
            if value is None:
                return
            # copied under the dependency's own input name and type: the parent's value is never renamed
            value = coerce(value, step.port_type or "json", where=f"node {step.key}")
            yield self._value_output(context, step, value)

        return body

    def _model(self, step: Step):
        model: Model = step.element  # type: ignore[assignment]
        plan = self.plan

        def body(context, inputs, masker):
            values: dict[str, TwinValue] = {}
            for port in step.sources:
                values[port] = coerce(inputs[f"p_{mangle(port)}"], model.inputs[port].type, where=f"node {step.key}, port {port}")
            for port, declared in model.inputs.items():
                if port not in values and isinstance(declared.default, DataRef):
                    values[port] = fetch(
                        declared.default.url,
                        self._node_dir(context, step) / "inputs",
                        twin_folder=step.folder,
                        options=plan.settings.fetch,
                    )
            for value in values.values():
                if is_secret(value):
                    masker.add([value.reveal()])  # type: ignore[union-attr]
            _progress(f"{step.key}: running model {model.name}")
            result = run_model(
                model,
                (step.folder / model.path).resolve(),
                self._node_dir(context, step),
                values,
                mode=plan.settings.mode,
                env_cache=Path(self.paths.environments),
                masker=masker,
                label=step.key,
            )
            for warning in result.warnings:
                context.log.warning(f"{PROGRESS} {step.key}: {warning}")
            _progress(f"{step.key}: done ({result.command})")
            for key in step.outs:
                produced = result.outputs[key]
                yield dg.Output(
                    produced,
                    output_name=f"o_{mangle(key)}",
                    metadata=_file_metadata(produced) | {"warnings": "\n".join(result.warnings)},
                )

        return body

    def _output(self, step: Step):
        element: Output = step.element  # type: ignore[assignment]
        has_source = bool(step.sources)

        def body(context, inputs, masker):
            if not has_source:
                context.log.warning(f"{PROGRESS} output {element.name} has no incoming edge: not produced")
                return
            value = inputs[f"p_{VALUE}"]
            if not isinstance(value, DataFile):
                raise NodeFailed(f"output {element.name}: received a {type(value).__name__}, not a file", 221)
            if not value.verify():
                raise NodeFailed(f"output {element.name}: {value.path} changed after it was produced", 221)
            _progress(f"output {element.name}: {value.path} ({value.size} bytes, {value.checksum})")
            yield dg.Output(value, output_name=self.asset_outs[step.key], metadata=_file_metadata(value))
            self._maybe_success(context)

        return body

    def _maybe_success(self, context) -> None:
        """The run succeeded once every wired output is materialized and nothing failed (the last output says so)."""
        records = context.instance.get_records_for_run(
            context.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1000
        ).records
        done = {r.event_log_entry.dagster_event.asset_key for r in records if r.event_log_entry.dagster_event}
        if not set(self.wired) <= done:
            return
        run = context.instance.get_run_by_id(context.run_id)
        if run is not None and run.tags.get(TAG_STATUS) == "error":
            return
        _record(context, {TAG_STATUS: "success", TAG_RETURN_CODE: "0", TAG_MESSAGE: ""})
        _progress(f"twin {self.plan.name}: success")

    def _value_output(self, context, step: Step, value: TwinValue) -> dg.Output:
        metadata: dict[str, Any] = {"node": step.key}
        if isinstance(value, DataFile):
            metadata |= _file_metadata(value)
        else:
            metadata["value"] = json.dumps(masked(value), default=str)
        return dg.Output(value, output_name=VALUE, metadata=metadata)

    # -- the graph

    def build(self) -> dg.AssetsDefinition:
        plan = self.plan
        inputs_op = self.inputs_op()
        step_ops = {key: self.step_op(step) for key, step in plan.steps.items()}
        binding_ins = self.binding_ins

        def compose(**upstream: Any) -> dict[str, Any]:
            bound = _by_name(inputs_op, inputs_op())
            handles: dict[str, Any] = {}
            returned: dict[str, Any] = {}
            for key, step in plan.steps.items():
                kwargs: dict[str, Any] = {READY: bound[READY]}
                if step.kind == "input":
                    name = step.element.name
                    if name in binding_ins:
                        kwargs["upstream"] = upstream[binding_ins[name]]
                    else:
                        kwargs["bound"] = bound[self.input_outs[name]]
                for port, (source, out) in step.sources.items():
                    kwargs[f"p_{mangle(port)}"] = handles[source][out]
                if step.kind == "output":
                    for index, leaf in enumerate(self.dangling):
                        kwargs[f"after_{index}"] = next(iter(handles[leaf].values()))
                result_by_name = _by_name(step_ops[key], step_ops[key](**kwargs))
                original = {VALUE: result_by_name.get(VALUE)} if step.kind != "model" else {
                    k: result_by_name[f"o_{mangle(k)}"] for k in step.outs
                }
                handles[key] = original
                if step.kind == "output":
                    returned[self.asset_outs[key]] = result_by_name[self.asset_outs[key]]
            return returned

        compose.__name__ = graph_name(plan.name)
        compose.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in binding_ins.values()]
        )
        manifest = plan.twin.manifest
        outs = {
            self.asset_outs[step.key]: dg.AssetOut(
                key=asset_key(manifest.name, step.element.name),
                is_required=False,
                description=step.element.description or f"Output {step.element.name} of twin {manifest.name}",
                metadata={
                    "deltatwin/twin": manifest.name,
                    "deltatwin/folder": str(plan.folder),
                    NEEDS_INPUTS: needs_inputs(plan),  # the main job skips a twin it has no inputs for
                },
                kinds={"python"},
                io_manager_key=IO_MANAGER,
            )
            for step in plan.outputs()
        }
        ins = {
            binding_ins[name]: dg.AssetIn(key=dg.AssetKey(list(binding.asset_key)), dagster_type=dg.Nothing)
            for name, binding in plan.settings.bindings.items()
        }
        schema = config_schema(plan)
        mapping = dg.ConfigMapping(
            config_fn=lambda config: {INPUTS_OP: {"config": config}},
            config_schema=schema,
        )
        return dg.graph_multi_asset(
            name=graph_name(manifest.name),
            outs=outs,
            ins=ins,
            group_name=mangle(manifest.name),
            config=mapping,
        )(compose)


class TwinFileIOManager(dg.ConfigurableIOManager):
    """Twin outputs are files already on disk: the asset value is their description (path, size, checksum)."""

    base_dir: str

    def _descriptor(self, key: dg.AssetKey) -> Path:
        return Path(self.base_dir, *key.path).with_suffix(".json")

    def handle_output(self, context: dg.OutputContext, obj: DataFile | None) -> None:
        if obj is None:
            return
        target = self._descriptor(context.asset_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(obj.__dict__), encoding="utf-8")

    def load_input(self, context: dg.InputContext) -> DataFile:
        path = self._descriptor(context.asset_key)
        if not path.is_file():
            raise DataspaceError(f"{context.asset_key.to_user_string()} has not been materialized yet")
        return DataFile(**json.loads(path.read_text(encoding="utf-8")))


def _by_name(op: dg.OpDefinition, result: Any) -> dict[str, Any]:
    """An invoked op's output handles by output name (one output comes back bare, several as a tuple)."""
    names = list(op.output_dict)
    if len(names) == 1:
        return {names[0]: result}
    return {name: getattr(result, name) for name in names}


def _file_metadata(value: DataFile) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "path": dg.MetadataValue.path(value.path),
        "size": value.size,
        "checksum": value.checksum,
    }
    if value.url:
        metadata["source"] = value.url
    if value.node:
        metadata["node"] = value.node
    if value.command:
        metadata["command"] = value.command
    if value.log_tail is not None:
        metadata["log_tail"] = dg.MetadataValue.md(f"```\n{value.log_tail}\n```") if value.log_tail else ""
    return metadata


def _unique(names: Mapping[str, str]) -> dict[str, str]:
    """Mangled names made unique by a numeric suffix where two originals mangle alike."""
    seen: dict[str, int] = {}
    result = {}
    for key, name in names.items():
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 0)
        result[key] = name
    return result


def twin_asset(plan: TwinPlan, paths: RunPaths) -> dg.AssetsDefinition:
    """The `graph_multi_asset` of one twin."""
    return _Factory(plan, paths).build()
