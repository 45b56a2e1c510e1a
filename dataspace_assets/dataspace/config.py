"""The data space TOML configs (`configs/dataspace/**/*.toml`): parsed into dataclasses, validated as a whole.

Each file may hold `[collectors.<n>]`, `[harvesters.<n>]` and `[handlers.<n>]` tables. A component's full name
is `<file stem before the first dot>_<n>`. UPPER_CASE keys belong to the framework (an unknown one is an
error, so typos are caught); every other key is passed to the component as a setting.
Validation collects every problem, each one line naming file, table and key.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import inspect
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dataspace_assets.dataspace.schedules import Period, Schedule, ScheduleError, parse_schedule
from dataspace_assets.storage.index import MAX_NAME_LENGTH, NAME_PATTERN, as_utc
from dataspace_assets.storage.store import CONTENT_TYPES

KINDS = {"collectors": "collector", "harvesters": "harvester", "handlers": "handler"}
DEFAULT_COMPONENTS_PACKAGE = "components"
QUERY_TYPES = {"bool", "float", "int", "str"}
_FRAMEWORK_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TIME_RANGE = re.compile(r"^([1-9]\d*)([smhd])$")
_DURATION = re.compile(r"^([1-9]\d*)([smhdw])$")  # PARQUETIZE durations also take weeks
DEFAULT_MAX_WINDOWS = 500
# The first partition of a time-windowed harvester without START: fixed, so definitions are deterministic.
DEFAULT_TIME_START = datetime(2026, 1, 1, tzinfo=UTC)
ON_ERROR_CHOICES = ("fail", "skip")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configs, printed as one line."""

    message: str
    file: str | None = None
    table: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        # "file: [table] KEY: message", dropping the parts a problem has not got.
        located = f"[{self.table}] {self.key}" if self.table and self.key else (
            f"[{self.table}]" if self.table else self.key
        )
        parts = [p for p in (self.file, located) if p]
        return ": ".join([*parts, self.message])


class _Bad(Exception):
    """A value failed its check; the message says why."""


@dataclass(frozen=True)
class _Invalid:
    """A table that failed its checks, kept so its PATH is still checked and references to it are not misreported."""

    file_label: str
    table: str
    full_name: str
    root: Path
    path: str | None

    def problem(self, message: str, key: str | None = None) -> Problem:
        return Problem(message, self.file_label, self.table, key)


# --------------------------------------------------------------------------- typed structure


@dataclass(kw_only=True)
class ComponentConfig:
    """What every component table has."""

    kind: str  # collector, harvester or handler
    file: Path
    file_label: str  # the file as shown in messages (relative to the configs root)
    root: Path  # the configs root (parent of the scanned folder): holds the components package
    table: str  # e.g. "collectors.feed"
    name: str  # the table's own name, e.g. "feed"
    full_name: str  # e.g. "example_feed": table name, blob prefix, asset name
    group: str  # the file stem before the first dot
    path: str
    data_type: str
    data_format: str
    content_type: str
    description: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    component_class: type | None = field(default=None, repr=False)

    def problem(self, message: str, key: str | None = None) -> Problem:
        """A problem located at this table (and key)."""
        return Problem(message, self.file_label, self.table, key)


@dataclass(kw_only=True)
class CollectorConfig(ComponentConfig):
    """A collector: runs on its schedule and stores at most one item per run."""

    schedule: Schedule | None = None
    schedule_text: str | None = None
    schedule_enabled: bool = True
    timezone: str = "UTC"
    retries: int = 0
    retry_delay: float = 0.0
    pool: str | None = None
    parquetize: dict[str, Any] | None = None  # PARQUETIZE as written; dataspace/parquetize/ runs it


@dataclass(kw_only=True)
class HarvesterConfig(ComponentConfig):
    """A harvester: derives items from windows of its source (parsed and validated; run by a later release)."""

    source: str  # full name of the source component
    source_range: int | None = None  # rows per window; None = one row
    source_range_seconds: int | None = None  # time windows instead of row counts
    source_range_strict: bool = True
    multiple_results: bool = False
    dependencies: list[str] = field(default_factory=list)  # full names
    dependencies_limit: list[int] = field(default_factory=list)
    optional_dependencies: list[str] = field(default_factory=list)
    optional_dependencies_limit: list[int] = field(default_factory=list)
    schedule: Schedule | None = None
    schedule_text: str | None = None
    retries: int = 0
    retry_delay: float = 0.0
    pool: str | None = None
    parquetize: dict[str, Any] | None = None  # PARQUETIZE as written; dataspace/parquetize/ runs it
    max_windows: int = DEFAULT_MAX_WINDOWS  # windows one materialization processes at most
    on_error: str = "fail"  # "skip": a raising window becomes a marker carrying the error
    start: datetime | None = None  # time windows: the first partition (default DEFAULT_TIME_START)


@dataclass(kw_only=True)
class HandlerConfig(ComponentConfig):
    """A handler: answers HTTP queries over stored items (`server.py`) and, with ON_NEW, reacts to new ones."""

    query_parameters: dict[str, str] = field(default_factory=dict)
    components: list[str] | None = None  # full names it may read; None = every stored component
    on_new: list[str] = field(default_factory=list)  # full names whose new items go to `on_new(item)`
    retries: int = 0  # retries of one `on_new(item)` call
    retry_delay: float = 0.0


@dataclass
class DataspaceConfig:
    """Every component of a configs folder, and every problem found in it."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    collectors: list[CollectorConfig] = field(default_factory=list)
    harvesters: list[HarvesterConfig] = field(default_factory=list)
    handlers: list[HandlerConfig] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def components(self) -> list[ComponentConfig]:
        return [*self.collectors, *self.harvesters, *self.handlers]

    def by_name(self) -> dict[str, ComponentConfig]:
        return {c.full_name: c for c in self.components}


# --------------------------------------------------------------------------- value checks


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected a string, got {show_value(value)}")
    if not value.strip():
        raise _Bad("must not be empty")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {show_value(value)}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"expected an integer, got {show_value(value)}")
    if value < 0:
        raise _Bad(f"must be 0 or more, got {value}")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"expected a number of seconds, got {show_value(value)}")
    if value < 0:
        raise _Bad(f"must be 0 or more, got {value}")
    return float(value)


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Bad(f"expected a list of component names, got {show_value(value)}")
    return list(value)


def _limits(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _Bad(f"expected a list of integers, got {show_value(value)}")
    if any(v < 1 for v in value):
        raise _Bad(f"every limit must be 1 or more, got {value}")
    return list(value)


def _data_type(value: Any) -> str:
    value = _string(value)
    if value not in CONTENT_TYPES:
        raise _Bad(f"expected one of {', '.join(sorted(CONTENT_TYPES))}, got {value!r}")
    return value


def _schedule(value: Any) -> str:
    try:
        parse_schedule(value)
    except ScheduleError as exc:
        raise _Bad(str(exc)) from exc
    return value


def _timezone(value: Any) -> str:
    value = _string(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _Bad(f"unknown timezone {value!r}") from exc
    return value


def _source_range(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and (value.isdigit() and int(value) >= 1 or _TIME_RANGE.match(value)):
        return value
    raise _Bad(f"expected a row count (1 or more) or a period like 1h (<N>s|m|h|d), got {show_value(value)}")


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"expected an integer, got {show_value(value)}")
    if value < 1:
        raise _Bad(f"must be 1 or more, got {value}")
    return value


def _on_error(value: Any) -> str:
    if value not in ON_ERROR_CHOICES:
        raise _Bad(f"expected one of {', '.join(repr(c) for c in ON_ERROR_CHOICES)}, got {show_value(value)}")
    return value


def utc_moment(value: Any) -> datetime | None:
    """A TOML date or date-time, or an ISO 8601 string, in UTC (without an offset it is UTC); None otherwise."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _start(value: Any) -> datetime:
    """A TOML date-time or an ISO 8601 string; without an offset it is UTC."""
    moment = utc_moment(value)
    if moment is None:
        raise _Bad(f"expected a date-time like 2026-01-01T00:00:00Z, got {show_value(value)}")
    return moment


def _query_parameters(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Bad(f"expected an inline table name = type, got {show_value(value)}")
    for name, type_name in value.items():
        # An array or table here is unhashable: check the type before looking it up.
        if not isinstance(type_name, str) or type_name not in QUERY_TYPES:
            raise _Bad(f"parameter {name!r} has type {show_value(type_name)}; expected one of {', '.join(sorted(QUERY_TYPES))}")
    return dict(value)


def _duration(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _DURATION.match(value):
        raise _Bad(f"{key} expected a duration <N>s|m|h|d|w, got {show_value(value)}")
    return value


def _parquetize(value: Any) -> dict[str, Any]:
    """AITwin's `{ BATCH, GROUPS = [{ GROUP, KEYS }], SCHEMA }` (plus our START, RECORDS), checked whole now."""
    from dataspace_assets.dataspace.parquetize.plan import PlanError, parse_plan

    try:
        parse_plan(value)
    except PlanError as exc:
        raise _Bad(str(exc)) from None
    return dict(value)


def show_value(value: Any) -> str:
    """A value as messages show it: its TOML kind and its repr (`string '1x'`)."""
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}
    return f"{kind.get(type(value), type(value).__name__)} {value!r}"


_COMMON: dict[str, Callable[[Any], Any]] = {
    "PATH": _string,
    "DATA_TYPE": _data_type,
    "DATA_FORMAT": _string,
    "DESCRIPTION": _string,
    "CONTENT_TYPE": _string,
}
_RUNNABLE = {"RETRIES": _count, "RETRY_DELAY": _seconds, "POOL": _string, "PARQUETIZE": _parquetize}
KEYS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "collector": {
        **_COMMON,
        **_RUNNABLE,
        "SCHEDULE": _schedule,
        "SCHEDULE_ENABLED": _bool,
        "TIMEZONE": _timezone,
    },
    "harvester": {
        **_COMMON,
        **_RUNNABLE,
        "SOURCE": _string,
        "SOURCE_RANGE": _source_range,
        "SOURCE_RANGE_STRICT": _bool,
        "MULTIPLE_RESULTS": _bool,
        "DEPENDENCIES": _names,
        "DEPENDENCIES_LIMIT": _limits,
        "OPTIONAL_DEPENDENCIES": _names,
        "OPTIONAL_DEPENDENCIES_LIMIT": _limits,
        "SCHEDULE": _schedule,
        "MAX_WINDOWS": _positive,
        "ON_ERROR": _on_error,
        "START": _start,
    },
    "handler": {
        **_COMMON,
        "QUERY_PARAMETERS": _query_parameters,
        "COMPONENTS": _names,
        "ON_NEW": _names,
        "RETRIES": _count,
        "RETRY_DELAY": _seconds,
    },
}
REQUIRED = {
    "collector": ("PATH", "DATA_TYPE", "DATA_FORMAT"),
    "harvester": ("PATH", "DATA_TYPE", "DATA_FORMAT", "SOURCE"),
    "handler": ("PATH", "DATA_TYPE", "DATA_FORMAT"),
}


# --------------------------------------------------------------------------- loading


def dataspace_folder(configs_dir: Path) -> Path:
    """Where a deployment's data space TOML files live.

    An original digitaltwin-dataspace folder (`dt-dataspace --config-folder config`) holds the TOML files
    itself, with no `dataspace/` inside: it is then the folder read.
    """
    folder = Path(configs_dir) / "dataspace"
    if not folder.is_dir() and is_original_folder(Path(configs_dir)):
        return Path(configs_dir)
    return folder


def is_original_folder(folder: Path) -> bool:
    """A folder of data space TOML files as the original laid it out (no dataspace/, harvest/ or deltatwins/)."""
    if any((folder / sub).is_dir() for sub in ("dataspace", "harvest", "deltatwins")):
        return False
    return folder.is_dir() and any(folder.rglob("*.toml"))


def components_package() -> str:
    """The package short `PATH`s are looked up in (`DATASPACE_COMPONENTS_PACKAGE`, default `components`)."""
    return os.environ.get("DATASPACE_COMPONENTS_PACKAGE") or DEFAULT_COMPONENTS_PACKAGE


def resolve_reference(reference: str, group: str) -> str:
    """`x` means `<group>_x` (same file); `file.x` means `file_x`."""
    return reference.replace(".", "_") if "." in reference else f"{group}_{reference}"


def load_config(
    folder: Path,
    *,
    timezone: str = "UTC",
    package: str | None = None,
    import_classes: bool = True,
) -> DataspaceConfig:
    """Read every `*.toml` under `folder` (recursively) and validate the whole set.

    `import_classes` imports every component class (what `dataspace config validate` does); without it
    each class is only located in its module's source, and is imported when its component runs.
    """
    folder = Path(folder).resolve()
    config = DataspaceConfig(folder=folder)
    try:
        _timezone(timezone)
    except _Bad as exc:
        config.problems.append(Problem(str(exc), key="DATASPACE_TIMEZONE"))
        timezone = "UTC"
    if not folder.is_dir():
        return config
    config.files = sorted(folder.rglob("*.toml"))
    raw: list[tuple[ComponentConfig, dict[str, Any]]] = []
    invalid: list[_Invalid] = []
    for file in config.files:
        raw.extend(_load_file(file, folder.parent, timezone, config.problems, invalid))

    seen: dict[str, ComponentConfig] = {}
    for component, _ in raw:
        first = seen.get(component.full_name)
        if first is not None:
            config.problems.append(
                component.problem(
                    f"duplicate full name {component.full_name} (also [{first.table}] in {first.file_label})"
                )
            )
            continue
        seen[component.full_name] = component
        getattr(config, component.kind + "s").append(component)

    # A reference to a table that has problems of its own is not "unknown": those problems say what is wrong.
    broken = {i.full_name for i in invalid} - set(seen)
    for harvester in config.harvesters:
        _resolve_references(harvester, seen, broken, config.problems)
    for handler in config.handlers:
        _resolve_handler_references(handler, seen, broken, config.problems)
    config.problems.extend(_cycles(config.harvesters))
    package = package or components_package()
    for component in config.components:
        _check_class(component, package, config.problems, run_module=import_classes)
    for table in invalid:
        if table.path is not None:
            _check_class(table, package, config.problems, run_module=import_classes)
    for handler in config.handlers:
        cls = handler.component_class
        if handler.on_new and cls is not None and not callable(getattr(cls, "on_new", None)):
            config.problems.append(handler.problem(f"{handler.path} has no on_new(item) method", "ON_NEW"))
    return config


def _load_file(
    file: Path, root: Path, timezone: str, problems: list[Problem], invalid: list[_Invalid]
) -> list[tuple[ComponentConfig, dict]]:
    label = file.relative_to(root).as_posix()
    if not file.is_file():  # a FIFO or a device named *.toml would block or never end
        problems.append(Problem("not a regular file: not read", label))
        return []
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"invalid TOML: {exc}", label))
        return []
    except RecursionError:
        problems.append(Problem("invalid TOML: arrays or inline tables nested too deeply", label))
        return []
    except OSError as exc:
        problems.append(Problem(f"cannot read: {exc.strerror or exc}", label))
        return []
    group = file.name.split(".")[0]
    found: list[tuple[ComponentConfig, dict]] = []
    for top, value in document.items():
        if top not in KINDS:
            problems.append(Problem("unknown top-level key (expected collectors, harvesters or handlers)", label, key=top))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(f"expected tables [{top}.<name>], got {show_value(value)}", label, key=top))
            continue
        for name, table in value.items():
            where = f"{top}.{name}"
            if not isinstance(table, dict):
                problems.append(Problem(f"expected a table, got {show_value(table)}", label, where))
                continue
            component = _parse_table(KINDS[top], file, root, label, where, name, group, table, timezone, problems)
            if component is not None:
                found.append((component, table))
            else:
                path = table.get("PATH")
                usable = path if isinstance(path, str) and path.strip() else None
                invalid.append(_Invalid(label, where, f"{group}_{name}", root, usable))
    return found


def _parse_table(
    kind: str,
    file: Path,
    file_root: Path,
    label: str,
    where: str,
    name: str,
    group: str,
    table: dict[str, Any],
    timezone: str,
    problems: list[Problem],
) -> ComponentConfig | None:
    full_name = f"{group}_{name}"
    start = len(problems)
    if not NAME_PATTERN.match(full_name) or len(full_name) > MAX_NAME_LENGTH:
        problems.append(
            Problem(
                f"invalid full name {full_name!r}: use letters, digits and _ in file and table names "
                f"(at most {MAX_NAME_LENGTH} characters)",
                label,
                where,
            )
        )
    allowed = KEYS[kind]
    values: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    for key, value in table.items():
        if not _FRAMEWORK_KEY.match(key):
            settings[key] = value
            continue
        check = allowed.get(key)
        if check is None:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(Problem(f"unknown key{hint}", label, where, key))
            continue
        try:
            values[key] = check(value)
        except _Bad as exc:
            problems.append(Problem(str(exc), label, where, key))
    for key in REQUIRED[kind]:
        if key not in table:
            problems.append(Problem("missing required key", label, where, key))
    if len(problems) > start:
        return None

    data_type = values["DATA_TYPE"]
    common = dict(
        kind=kind,
        file=file,
        file_label=label,
        root=file_root,
        table=where,
        name=name,
        full_name=full_name,
        group=group,
        path=values["PATH"],
        data_type=data_type,
        data_format=values["DATA_FORMAT"],
        content_type=values.get("CONTENT_TYPE", CONTENT_TYPES[data_type]),
        description=values.get("DESCRIPTION"),
        settings=settings,
    )
    if kind == "collector":
        text = values.get("SCHEDULE")
        return CollectorConfig(
            **common,
            schedule=parse_schedule(text) if text else None,
            schedule_text=text,
            schedule_enabled=values.get("SCHEDULE_ENABLED", True),
            timezone=values.get("TIMEZONE", timezone),
            retries=values.get("RETRIES", 0),
            retry_delay=values.get("RETRY_DELAY", 0.0),
            pool=values.get("POOL"),
            parquetize=values.get("PARQUETIZE"),
        )
    if kind == "harvester":
        return _harvester(common, values, label, where, problems)
    return HandlerConfig(
        **common,
        query_parameters=values.get("QUERY_PARAMETERS", {}),
        components=values.get("COMPONENTS"),
        on_new=values.get("ON_NEW", []),
        retries=values.get("RETRIES", 0),
        retry_delay=values.get("RETRY_DELAY", 0.0),
    )


def _harvester(
    common: dict[str, Any], values: dict[str, Any], label: str, where: str, problems: list[Problem]
) -> HarvesterConfig | None:
    start = len(problems)
    dependencies = values.get("DEPENDENCIES", [])
    optional = values.get("OPTIONAL_DEPENDENCIES", [])
    pairs = (("DEPENDENCIES", dependencies), ("OPTIONAL_DEPENDENCIES", optional))
    limits: dict[str, list[int]] = {}
    for key, names in pairs:
        limit = values.get(f"{key}_LIMIT", [1] * len(names))
        if len(limit) != len(names):
            problems.append(
                Problem(f"has {len(limit)} value(s) for {len(names)} entry(ies) of {key}", label, where, f"{key}_LIMIT")
            )
        limits[key] = limit
    if len(problems) > start:
        return None
    source_range = values.get("SOURCE_RANGE")
    rows: int | None = None
    seconds: int | None = None
    if isinstance(source_range, int) or (isinstance(source_range, str) and source_range.isdigit()):
        rows = int(source_range)
    elif isinstance(source_range, str):
        parsed = parse_schedule(source_range)
        assert isinstance(parsed, Period)
        seconds = parsed.seconds
    if "START" in values and seconds is None:
        problems.append(Problem("applies to time windows only (SOURCE_RANGE = \"<N>s|m|h|d\")", label, where, "START"))
        return None
    text = values.get("SCHEDULE")
    return HarvesterConfig(
        **common,
        source=values["SOURCE"],  # resolved to a full name once every file is read
        source_range=rows,
        source_range_seconds=seconds,
        source_range_strict=values.get("SOURCE_RANGE_STRICT", True),
        multiple_results=values.get("MULTIPLE_RESULTS", False),
        dependencies=dependencies,
        dependencies_limit=limits["DEPENDENCIES"],
        optional_dependencies=optional,
        optional_dependencies_limit=limits["OPTIONAL_DEPENDENCIES"],
        schedule=parse_schedule(text) if text else None,
        schedule_text=text,
        retries=values.get("RETRIES", 0),
        retry_delay=values.get("RETRY_DELAY", 0.0),
        pool=values.get("POOL"),
        parquetize=values.get("PARQUETIZE"),
        max_windows=values.get("MAX_WINDOWS", DEFAULT_MAX_WINDOWS),
        on_error=values.get("ON_ERROR", "fail"),
        start=values.get("START"),
    )


def _resolve_references(
    harvester: HarvesterConfig, known: dict[str, ComponentConfig], broken: set[str], problems: list[Problem]
) -> None:
    def resolve(reference: str, key: str) -> str:
        full = resolve_reference(reference, harvester.group)
        target = known.get(full)
        if target is None and full in broken:
            pass  # the target table's own problems are reported
        elif target is None:
            problems.append(harvester.problem(f"unknown component {reference!r} (looked for {full})", key))
        elif target.kind == "handler":
            problems.append(harvester.problem(f"{full} is a handler, which stores no data", key))
        return full

    harvester.source = resolve(harvester.source, "SOURCE")
    harvester.dependencies = [resolve(r, "DEPENDENCIES") for r in harvester.dependencies]
    harvester.optional_dependencies = [resolve(r, "OPTIONAL_DEPENDENCIES") for r in harvester.optional_dependencies]


def _resolve_handler_references(
    handler: HandlerConfig, known: dict[str, ComponentConfig], broken: set[str], problems: list[Problem]
) -> None:
    """COMPONENTS and ON_NEW name collectors or harvesters, resolved like a harvester's SOURCE."""

    def resolve(reference: str, key: str) -> str:
        full = resolve_reference(reference, handler.group)
        target = known.get(full)
        if target is None and full not in broken:
            problems.append(handler.problem(f"unknown component {reference!r} (looked for {full})", key))
        elif target is not None and target.kind == "handler":
            problems.append(handler.problem(f"{full} is a handler, which stores no data", key))
        return full

    if handler.components is not None:
        handler.components = [resolve(r, "COMPONENTS") for r in handler.components]
    handler.on_new = [resolve(r, "ON_NEW") for r in handler.on_new]


def _cycles(harvesters: list[HarvesterConfig]) -> list[Problem]:
    """One problem per distinct cycle among harvester inputs, reported on the cycle's first component."""
    nodes = {h.full_name: h for h in harvesters}

    def edges(h: HarvesterConfig) -> list[tuple[str, str]]:
        # A harvester may read its own previous outputs (a self-dependency): that is no cycle. Only a
        # required limit-1 one can never be met (see _self_dependencies); self as SOURCE stays a cycle.
        out = [("SOURCE", h.source)]
        out += [("DEPENDENCIES", d) for d in h.dependencies if d != h.full_name]
        out += [("OPTIONAL_DEPENDENCIES", d) for d in h.optional_dependencies if d != h.full_name]
        return [(key, target) for key, target in out if target in nodes]

    found: dict[tuple[str, ...], Problem] = {}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for _, target in edges(nodes[name]):
            if state.get(target) == 1:
                cycle = path[path.index(target):]
                start = cycle.index(min(cycle))
                canonical = tuple(cycle[start:] + cycle[:start])
                if canonical not in found:
                    head = nodes[canonical[0]]
                    second = canonical[1] if len(canonical) > 1 else canonical[0]
                    key = next(k for k, t in edges(head) if t == second)
                    chain = " -> ".join([*canonical, canonical[0]])
                    found[canonical] = head.problem(f"dependency cycle {chain}", key)
            elif state.get(target) is None:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(nodes):
        if name not in state:
            visit(name)
    return [found[k] for k in sorted(found)] + _self_dependencies(harvesters)


def _self_dependencies(harvesters: list[HarvesterConfig]) -> list[Problem]:
    """A required limit-1 dependency on oneself waits for an output only it could write: refused."""
    problems = []
    for h in harvesters:
        for name, limit in zip(h.dependencies, h.dependencies_limit, strict=False):
            if name == h.full_name and limit == 1:
                problems.append(h.problem(
                    f"{name} depends on itself with limit 1, so it would never run its first window: "
                    "use OPTIONAL_DEPENDENCIES (None on the first window) or a limit of 2 or more (a list)",
                    "DEPENDENCIES",
                ))
    return problems


# --------------------------------------------------------------------------- classes


def _forget_foreign_package(top: str, root: Path) -> None:
    """Drop a cached package of the same name from another configs folder, so ours is imported."""
    cached = sys.modules.get(top)
    local = root / top
    if cached is None or not (local.is_dir() or local.with_suffix(".py").is_file()):
        return
    places = list(getattr(cached, "__path__", []) or []) or [getattr(cached, "__file__", None) or ""]
    if any(p and Path(p).resolve().is_relative_to(local.resolve()) for p in places):
        return
    if any(p and Path(p).resolve() == local.with_suffix(".py").resolve() for p in places):
        return
    for module in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        del sys.modules[module]


_ADDED_ROOTS: list[str] = []


def _use_root(root: Path) -> None:
    """Put one configs root on sys.path, like PYTHONPATH=configs/ (appended: it never shadows installed modules)."""
    entry = str(root)
    if _ADDED_ROOTS == [entry] and entry in sys.path:
        return
    # Only one configs root at a time, so a `components` package is always the current deployment's.
    for old in _ADDED_ROOTS:
        while old in sys.path:
            sys.path.remove(old)
    _ADDED_ROOTS[:] = [entry]
    sys.path.append(entry)
    importlib.invalidate_caches()


def _module_exists(name: str) -> bool:
    """Whether module `name` exists; an error importing one of its parent packages is raised, not hidden."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError as exc:
        # A missing parent package means `name` is not there. Any other missing module was imported by
        # a parent package's __init__ (a missing third-party package): that is the problem to report.
        if exc.name is None or name == exc.name or name.startswith(exc.name + "."):
            return False
        raise
    except ValueError:
        return False


def _find_module(path: str, package: str, root: Path | None) -> tuple[str, str]:
    """The module and class name a `PATH` names: `<package>.<module>` if that module exists, else `<module>`."""
    module_name, _, class_name = path.rpartition(".")
    if not module_name or not class_name:
        raise ImportError(f"{path!r} is not a dotted path module.Class")
    if root is not None:
        _use_root(root)
        for top in {package.split(".")[0], module_name.split(".")[0]}:
            _forget_foreign_package(top, root)
    candidates = [f"{package}.{module_name}", module_name] if package else [module_name]
    failures: list[Exception] = []
    for candidate in candidates:
        try:
            if _module_exists(candidate):
                return candidate, class_name
        except Exception as exc:  # a parent package failed to import: report that, unless another candidate exists
            failures.append(exc)
    if failures:
        raise failures[0]
    raise ImportError(f"no module {' or '.join(repr(c) for c in candidates)}")


def load_class(path: str, package: str, root: Path | None) -> type:
    """Import the class a `PATH` names (this runs its module's code)."""
    chosen, class_name = _find_module(path, package, root)
    module = importlib.import_module(chosen)
    try:
        cls = getattr(module, class_name)
    except AttributeError as exc:
        raise ImportError(f"module {chosen!r} has no attribute {class_name!r}") from exc
    if not inspect.isclass(cls):
        raise ImportError(f"{chosen}.{class_name} is not a class")
    # A push-only handler has on_new(item) and no run(): it serves no route, only its sensor.
    if not callable(getattr(cls, "run", None)) and not callable(getattr(cls, "on_new", None)):
        raise ImportError(f"{chosen}.{class_name} has no run() method")
    return cls


def locate_class(path: str, package: str, root: Path | None) -> str | None:
    """Check that a `PATH` names something its module defines, without running the module; its docstring.

    Loading the Dagster definitions uses this, so one component's failing import (a missing third-party
    package, a crash at import time) only fails that component's runs, not the whole code location.
    """
    chosen, class_name = _find_module(path, package, root)
    spec = importlib.util.find_spec(chosen)
    origin = spec.origin if spec else None
    if not origin or not origin.endswith(".py"):
        return None  # compiled or namespace module: only importing it can tell
    try:
        tree = ast.parse(Path(origin).read_bytes(), filename=origin)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImportError(f"cannot read module {chosen!r}: {exc}") from exc
    bound: set[str] = set()
    for node in _module_statements(tree.body):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return ast.get_docstring(node)
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            bound.add(node.name)
    if class_name in bound or "*" in bound or "__getattr__" in bound:
        return None  # re-exported or built at import time: checked when the component runs
    raise ImportError(f"module {chosen!r} has no attribute {class_name!r}")


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that bind module names, including inside module-level if/try/with blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.With | ast.Try):
            nested = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            nested += [stmt for handler in getattr(node, "handlers", []) for stmt in handler.body]
            yield from _module_statements(nested)


def import_problem(path: str, exc: BaseException) -> str:
    """The one-line message of a class that cannot be imported."""
    detail = str(exc) if isinstance(exc, ImportError) and not isinstance(exc, ModuleNotFoundError) else (
        f"{type(exc).__name__}: {exc}"
    )
    return f"cannot import {path!r}: {detail}"


def _check_class(
    component: ComponentConfig | _Invalid, package: str, problems: list[Problem], *, run_module: bool
) -> None:
    """Import the component's class (`run_module`) or only locate it; record the description it carries."""
    path = component.path
    assert path is not None
    try:
        if run_module:
            cls: type | None = load_class(path, package, component.root)
            doc = cls.__dict__.get("__doc__")
            doc = inspect.cleandoc(doc) if doc else None
        else:
            cls, doc = None, locate_class(path, package, component.root)
    except Exception as exc:  # any error while importing user code is a config problem, not a crash
        problems.append(component.problem(import_problem(path, exc), "PATH"))
        return
    if isinstance(component, ComponentConfig):
        component.component_class = cls
        if component.description is None and doc:
            component.description = doc
