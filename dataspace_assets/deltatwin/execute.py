"""`dataspace twin run`: a twin folder run through Dagster on the persistent instance, so the run shows in the UI."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from dataspace_assets.deltatwin.assets import (
    PROGRESS,
    PROGRESS_ENV,
    TAG_MESSAGE,
    TAG_RETURN_CODE,
    TAG_STATUS,
    TAG_TWIN,
    asset_key,
    graph_name,
)
from dataspace_assets.deltatwin.assets import unbound_manifest
from dataspace_assets.deltatwin.bindings import bound_assets
from dataspace_assets.deltatwin.inputs import check_inputs_file
from dataspace_assets.deltatwin.plan import mangle
from dataspace_assets.deltatwin.validate import validate_folder
from dataspace_assets.runs import failure_messages
from dataspace_assets.settings import Settings

SECRET_ENV_PREFIX = "DATASPACE_TWIN_SECRET_"


@dataclass
class TwinRunResult:
    """What `twin run` prints with --json."""

    run_id: str | None
    status: str
    return_code: int
    message: str
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_json(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "status": self.status,
                "return_code": self.return_code,
                "message": self.message,
                "outputs": self.outputs,
            },
            indent=2,
        )


@dg.logger(config_schema={}, description="Prints the twin's progress lines (one per node event).")
def twin_progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.getLogger(f"dataspace.twin.progress.{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.INFO)

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            meta = record.__dict__.get("dagster_meta") or {}
            text = str(meta.get("orig_message") or "")
            if text.startswith(PROGRESS):
                print(text[len(PROGRESS) :].strip(), file=sys.stderr, flush=True)

    log.addHandler(Handler())
    return log


def run_config_from_inputs(data: dict[str, Any], manifest_inputs: dict, environ: dict[str, str]) -> dict[str, Any]:
    """An inputs file `{name: {type, value | url | secret_value}}` as the twin's run config.

    A secret goes into `environ` under a variable of its own and the config names that variable, so
    the value never enters the run config Dagster stores and shows.
    """
    config: dict[str, Any] = {}
    for name, entry in data.items():
        declared = manifest_inputs[name]
        if declared.type == "secret":
            variable = f"{SECRET_ENV_PREFIX}{mangle(name).upper()}_{uuid.uuid4().hex[:8].upper()}"
            environ[variable] = entry["secret_value"]
            config[name] = {"env": variable}
        elif declared.type == "Data":
            config[name] = entry["url"]
        else:
            config[name] = entry["value"]
    return config


def run_twin(
    folder: Path,
    inputs: Path | None,
    settings: Settings,
    *,
    registries: tuple[Path, ...] = (),
    instance: dg.DagsterInstance | None = None,
    progress: bool = True,
    parallel: bool = False,
    echo: Callable[[str], None] = print,
) -> TwinRunResult:
    """Check the inputs file with the `--inputs` rules, then materialize every output of the twin in one Dagster run."""
    from dataspace_assets.deltatwin.plan import build_plan
    from dataspace_assets.instance import get_instance

    folder = folder.resolve()
    report = validate_folder(folder, registries=registries)
    if not report.ok:
        for line in report.lines():
            if line.startswith("error"):
                echo(line)
        return TwinRunResult(None, "error", 0, "; ".join(p.message for p in report.errors))
    plan = build_plan(folder, registries=registries)
    data: dict[str, Any] = {}
    if inputs is not None:
        checked = check_inputs_file(inputs, unbound_manifest(plan), bound=bound_assets(plan.settings.bindings))
        if not checked.ok:
            errors = [p for p in checked.problems if p.severity == "error"]
            for problem in errors:
                echo(problem.render())
            return TwinRunResult(None, "error", checked.return_code or 0, " ".join(p.message for p in errors))
        data = json.loads(inputs.read_text(encoding="utf-8"))
    run_config: dict[str, Any] = {
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    if progress:
        run_config["loggers"]["twin_progress"] = {"config": {}}
    added: dict[str, str] = {}
    config = run_config_from_inputs(data, dict(plan.twin.manifest.inputs), added)
    if config:
        run_config["ops"] = {graph_name(plan.name): {"config": config}}
    instance = instance or get_instance(settings)
    # In process by default: a step process costs seconds (it imports Dagster and rebuilds the twin), more
    # than most models; --parallel runs ready nodes concurrently, one process each, as UI launches do.
    parallel = parallel and has_parallel_models(plan)
    run_config["execution"] = {"config": {"multiprocess": {}} if parallel else {"in_process": {}}}
    os.environ.update(added)
    if progress:
        os.environ[PROGRESS_ENV] = "1"
    tags = {TAG_STATUS: "created", TAG_TWIN: plan.name, "deltatwin/folder": str(folder)}
    try:
        # A reconstructable job: the multiprocess executor rebuilds it in each step's process.
        job = dg.build_reconstructable_job(
            __name__, "twin_run_job", reconstructable_args=(str(folder), [str(r) for r in registries])
        )
        with dg.execute_job(job, instance, run_config=run_config, tags=tags, raise_on_error=False) as result:
            return _result(result, plan, instance)
    finally:
        for variable in [*added, PROGRESS_ENV]:
            os.environ.pop(variable, None)


def twin_run_job(folder: str, registries: list[str]) -> dg.JobDefinition:
    """The job `twin run` executes: every output of one twin folder, with the progress logger."""
    from dataspace_assets.deltatwin.definitions import twin_definitions
    from dataspace_assets.settings import load_settings

    defs = twin_definitions([Path(folder)], load_settings(), registries=tuple(Path(r) for r in registries))
    job = dg.define_asset_job("deltatwin_run", selection=dg.AssetSelection.all(), executor_def=dg.multi_or_in_process_executor)
    loggers = {"console": dg.colored_console_logger, "twin_progress": twin_progress_logger}
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job], loggers=loggers)).resolve_job_def("deltatwin_run")


def has_parallel_models(plan) -> bool:
    """True when two model nodes could run at the same time (neither feeds the other, even indirectly)."""
    ancestors: dict[str, set[str]] = {}
    for key, step in plan.steps.items():  # steps are in dependency order
        ancestors[key] = set().union(*({source} | ancestors[source] for source, _ in step.sources.values()))
    models = [k for k, s in plan.steps.items() if s.kind == "model"]
    return any(b not in ancestors[a] and a not in ancestors[b] for i, a in enumerate(models) for b in models[i + 1 :])


def _result(result: dg.ExecutionResult, plan, instance: dg.DagsterInstance) -> TwinRunResult:
    run = instance.get_run_by_id(result.run_id)
    tags = dict(run.tags) if run is not None else {}
    outputs: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        key = materialization.asset_key
        for step in plan.outputs():
            if key == asset_key(plan.name, step.element.name):
                meta = {name: getattr(value, "value", value) for name, value in materialization.metadata.items()}
                path = materialization.metadata["path"]
                outputs[step.element.name] = {
                    "path": getattr(path, "path", None) or str(getattr(path, "fspath", path)),
                    "size": meta.get("size"),
                    "checksum": meta.get("checksum"),
                }
    status = "success" if result.success else "error"
    code = int(tags.get(TAG_RETURN_CODE, "0") or 0)
    message = tags.get(TAG_MESSAGE, "")
    if status == "error" and not message:
        causes = failure_messages(result)  # failed before any node recorded one (a resource, the run config)
        message = "; ".join(f"{step}: {text}" for step, text in causes) or "the run failed: see its log in the UI"
    if status == "success" and tags.get(TAG_STATUS) != "success":
        instance.add_run_tags(result.run_id, {TAG_STATUS: "success", TAG_RETURN_CODE: "0", TAG_MESSAGE: ""})
    return TwinRunResult(result.run_id, status, code if status == "error" else 0, message, outputs)


def ensure_folder(folder: Path) -> None:
    """A missing folder is a usage error (exit 2), as for `twin validate`."""
    from dataspace_assets.deltatwin.validate import TwinFolderError

    if not folder.is_dir():
        raise TwinFolderError(f"{folder}: no such folder")
