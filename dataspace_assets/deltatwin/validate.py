"""Validate a DeltaTwin folder (manifest.json + workflow.yml) into a report: problems, and the typed twin when valid."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from dataspace_assets.deltatwin.bindings import (
    TwinSettings,
    bound_assets,
    check_twin_settings,
    with_bound_defaults,
)
from dataspace_assets.deltatwin.files import load_json, load_yaml
from dataspace_assets.deltatwin.inputs import BoundInputs, check_inputs_file
from dataspace_assets.deltatwin.manifest import MANIFEST_FILE, Manifest, ManifestResult, check_manifest
from dataspace_assets.deltatwin.problems import Problem, Problems, sort_problems
from dataspace_assets.deltatwin.publish import PUBLISH_SCHEMA, check_publish_version
from dataspace_assets.deltatwin.registry import FolderRegistry, dependency_cycles
from dataspace_assets.deltatwin.workflow import (
    WORKFLOW_FILE,
    DependencyResolver,
    TwinGraph,
    Workflow,
    check_workflow,
    parse_workflow,
)
from dataspace_assets.errors import DataspaceError


class TwinFolderError(DataspaceError):
    """The folder to validate does not exist (the command exits 2, as for a usage error)."""

    exit_code = 2


@dataclass(frozen=True)
class ValidationReport:
    """What `twin validate` found: every problem, the parsed twin and the bound run inputs (each only without error)."""

    problems: tuple[Problem, ...]
    manifest: Manifest | None = None
    workflow: Workflow | None = None
    twin: TwinGraph | None = None
    inputs: BoundInputs | None = None  # only when an inputs file was checked and nothing is an error
    settings: TwinSettings | None = None  # bindings.toml read (the defaults without one); None when it has an error

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings and notes do not count)."""
        return not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def lines(self) -> list[str]:
        """One readable line per problem, manifest first, each in file order."""
        return [problem.render() for problem in self.problems]

    def summary(self, label: str) -> str:
        """The closing line: `DIR: valid (2 warnings)` or `DIR: invalid (3 errors, 1 warning)`."""
        counts = [
            _count(len(self.errors), "error"),
            _count(len(self.warnings), "warning"),
            _count(sum(p.severity == "info" for p in self.problems), "note"),
        ]
        detail = ", ".join(c for c in counts if c)
        verdict = "valid" if self.ok else "invalid"
        return f"{label}: {verdict}" + (f" ({detail})" if detail else "")

    def to_json(self) -> str:
        """The problems as a JSON list of {severity, code, file, path, message}."""
        return json.dumps([problem.to_dict() for problem in self.problems], indent=2, ensure_ascii=False)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}" if n else ""


def validate_folder(
    folder: Path | str,
    *,
    version: str | None = None,
    registries: Iterable[Path] = (),
    inputs: Path | str | None = None,
    publish: str | None = None,
) -> ValidationReport:
    """Validate `folder/manifest.json` and `folder/workflow.yml`, and optionally a run's inputs file or a publish."""
    folder = Path(folder)
    try:
        exists = folder.exists()
    except (OSError, ValueError) as exc:  # a path beyond the file-name limit, a loop of links, a NUL byte ...
        raise TwinFolderError(f"{short_path(folder)}: {getattr(exc, 'strerror', None) or exc}") from None
    if not exists:
        raise TwinFolderError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise TwinFolderError(f"{folder}: not a folder (give the folder holding manifest.json and workflow.yml)")
    if publish is not None:
        if version not in (None, PUBLISH_SCHEMA):
            raise ValueError(f"publishing validates the manifest as {PUBLISH_SCHEMA}, not {version}")
        version = PUBLISH_SCHEMA
    workflow_path = folder / WORKFLOW_FILE
    # Dependency nodes resolve through the registries given and those of bindings.toml, as in `twin run`.
    early, _ = check_twin_settings(folder, extra_registries=tuple(registries))
    resolve = _resolver(early.registries if early is not None else registries)
    report = validate_files(folder / MANIFEST_FILE, workflow_path, version=version, resolve=resolve)
    if resolve is not None and report.manifest is not None:
        report = _with_cycles(report, resolve)
    before: tuple[Problem, ...] = check_publish_version(publish) if publish is not None else ()
    if publish is not None:
        report = _publish_strict(report)
    settings, settings_problems = check_twin_settings(folder, manifest=report.manifest)
    if inputs is None:
        return _extended(report, before, settings_problems, None, settings)
    # An input bound to a data-space asset in bindings.toml takes its value from the store, as in `twin run`.
    manifest, bound = report.manifest, {}
    if manifest is not None and settings is not None and settings.bindings:
        manifest, bound = with_bound_defaults(manifest, settings.bindings), bound_assets(settings.bindings)
    checked = check_inputs_file(Path(inputs), manifest, bound=bound)
    return _extended(report, before, settings_problems + checked.problems, checked.inputs, settings)


def _extended(
    report: ValidationReport,
    before: tuple[Problem, ...],
    after: tuple[Problem, ...],
    inputs: BoundInputs | None,
    settings: TwinSettings | None,
) -> ValidationReport:
    """The folder's report with the publish problems first, then bindings.toml's and the inputs file's; twin and
    inputs only if clean."""
    problems = before + report.problems + after
    clean = not any(p.severity == "error" for p in problems)
    twin = report.twin if clean else None
    return ValidationReport(problems, report.manifest, report.workflow, twin, inputs if clean else None, settings)


def twin_folder_problems(twins_dir: Path) -> list[str]:
    """The error lines of every twin folder under `configs/deltatwins/`, each naming its file by its full path."""
    lines: list[str] = []
    for folder in sorted(twins_dir.iterdir()) if twins_dir.is_dir() else []:
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            report = validate_folder(folder)
        except (TwinFolderError, OSError) as exc:
            lines.append(f"{folder}: {exc}")
            continue
        lines += [replace(p, file=str(folder / p.file)).render() for p in report.errors]
    return lines


def _with_cycles(report: ValidationReport, resolve: DependencyResolver) -> ValidationReport:
    """Dependency cycles through the registry are errors (delta-core would nest runs forever)."""
    cycles = dependency_cycles(report.manifest, resolve)  # type: ignore[arg-type]
    if not cycles:
        return report
    out = Problems(MANIFEST_FILE)
    for key, loop in cycles.items():
        out.error(("dependencies", key), "dependency-cycle", f"dependency cycle: {loop}: a run would nest forever")
    return ValidationReport(tuple(out) + report.problems, report.manifest, report.workflow, None)


def _publish_strict(report: ValidationReport) -> ValidationReport:
    """Publishing refuses what a local run reads leniently: `internal_resources` fails the 1.4 schema there."""
    problems = tuple(
        replace(
            p,
            severity="error",
            message='"internal_resources" is not a 1.4 key: publishing refuses it, rename it "resources"',
        )
        if p.code == "resources-alias"
        else p
        for p in report.problems
    )
    clean = not any(p.severity == "error" for p in problems)
    return ValidationReport(problems, report.manifest, report.workflow, report.twin if clean else None)


def validate_files(
    manifest_path: Path,
    workflow_path: Path | None,
    *,
    version: str | None = None,
    resolve: DependencyResolver | None = None,
) -> ValidationReport:
    """Validate a manifest file and, unless None, a workflow file; problems are named by each file's name."""
    manifest_file = manifest_path.name
    out = Problems(manifest_file)
    readable, data = load_json(manifest_path, out)
    problems: list[Problem] = list(out)
    result = check_manifest(data, version=version, file=manifest_file) if readable else None
    if result is not None:
        problems.extend(result.problems)
    manifest = result.manifest if result is not None else None
    if workflow_path is None:
        return ValidationReport(tuple(problems), manifest)
    workflow, twin, workflow_problems = _validate_workflow(workflow_path, result, resolve)
    problems.extend(workflow_problems)
    return ValidationReport(tuple(problems), manifest, workflow, twin)


def _validate_workflow(
    path: Path, manifest: ManifestResult | None, resolve: DependencyResolver | None
) -> tuple[Workflow | None, TwinGraph | None, list[Problem]]:
    out = Problems(path.name)
    readable, data = load_yaml(path, out)
    if not readable:
        if not path.exists():
            _hint_other_workflow_names(path, out)
        return None, None, list(out)
    parsed = parse_workflow(data, file=path.name)
    problems = list(out) + list(parsed.problems)
    if parsed.workflow is None:
        return None, None, problems
    twin, checked = check_workflow(parsed, manifest, resolve=resolve, data=data, file=path.name)
    return parsed.workflow, twin, sort_problems(problems + list(checked), data)  # reading and checks, in file order


def _hint_other_workflow_names(path: Path, out: Problems) -> None:
    """delta-core's storage also reads workflow.yaml or workflow.json, but running a twin needs workflow.yml."""
    for other in ("workflow.yaml", "workflow.json"):
        if (path.parent / other).is_file():
            out.info((), "workflow-name", f"found {other}: the runtime only reads {WORKFLOW_FILE}, rename it")


def _resolver(registries: Iterable[Path]) -> DependencyResolver | None:
    roots = tuple(registries)
    return FolderRegistry(roots) if roots else None


def short_path(path: Path | str, limit: int = 120) -> str:
    """A path fit for one line of an error message (a path beyond the file-name limit is cut in the middle)."""
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 2 :]} ({len(text)} characters)"
