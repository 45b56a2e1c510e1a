"""Harvesters as Dagster assets `dataspace/<full_name>`: one materialization catches up on pending windows.

A run takes the harvester's lock, reads its cursor (its own newest row, markers included), and derives
windows oldest first (at most MAX_WINDOWS), each written blobs first and then its rows in one
transaction, so the cursor moves only with a complete window. Time-windowed harvesters whose period is a
cron are time-partitioned: a partition range re-derives exactly those windows, replacing their outputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from dataspace_assets.dataspace.assets import STORE_KEY, asset_key, component_class, instantiate, preview
from dataspace_assets.dataspace.config import DEFAULT_TIME_START, HarvesterConfig, components_package
from dataspace_assets.dataspace.schedules import plan
from dataspace_assets.dataspace.windows import (
    Window,
    WindowSpec,
    ceil_time,
    floor_time,
    item_key,
    iso,
    next_time_start,
    partition_cron,
    partition_format,
    row_key,
    time_key,
    time_window_end,
)
from dataspace_assets.storage.locks import exclusive
from dataspace_assets.storage.resources import DataspaceStore
from dataspace_assets.storage.store import (
    Cursor,
    Data,
    DataStore,
    Output,
    UnsupportedPayload,
    count_rows,
    delete_after,
    harvester_cursor,
    serialise,
    source_rows,
    write_window,
)

HARVESTER_TAG = "dataspace/harvester"
REBUILD_TAG = "dataspace/rebuild_from"  # ISO date-time, or "all": re-derive every window after it
CATCH_UP_TAG = "dataspace/catch_up"  # a follow-up run of the backlog sensor: catch up, re-derive nothing
LAG_CHECK = "lag"
UNBOUNDED = 10**9


@dataclass
class Wait:
    """Nothing to derive now, and why (a required dependency without data is one)."""

    reason: str
    blocking: bool = False  # True when a dependency holds the harvester back (the lag check warns)


@dataclass
class Progress:
    """What one materialization did."""

    windows: int = 0
    outputs: int = 0
    markers: int = 0
    errors: int = 0
    rederived: int = 0
    deleted: int = 0
    waiting: Wait | None = None
    backlog: bool = False
    last: Data | None = None
    last_payload: bytes | None = None
    keys: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def cursor_text(cursor: Cursor | None) -> str:
    if cursor is None:
        return "none (starts at the source's first row)"
    return f"{iso(cursor.date)} (source row {cursor.source_id})" if cursor.source_id else iso(cursor.date)


class HarvesterRun:
    """The window logic of one harvester over one store (plain Python: the asset and the CLI use it)."""

    def __init__(
        self,
        harvester: HarvesterConfig,
        store: DataStore,
        *,
        package: str | None = None,
        log: Callable[[str], None] = lambda message: None,
        now: datetime | None = None,
    ) -> None:
        self.h = harvester
        self.store = store
        self.spec = WindowSpec.of(harvester)
        self.package = package or components_package()
        self.log = log
        self.now = now or datetime.now(UTC)
        self._cls: type | None = None
        self._first: dict[str, Data | None] = {}

    # ------------------------------------------------------------------ dependencies

    def _required(self) -> list[tuple[str, int]]:
        return list(zip(self.h.dependencies, self.h.dependencies_limit, strict=True))

    def _optional(self) -> list[tuple[str, int]]:
        return list(zip(self.h.optional_dependencies, self.h.optional_dependencies_limit, strict=True))

    def _first_row(self, name: str) -> Data | None:
        # Per run, never per process: a dependency that gets data is seen by the next run (the original cached None).
        if name not in self._first:
            self._first[name] = self.store.first(name)
        return self._first[name]

    def clamp(self) -> datetime | Wait | None:
        """The date a window's rows must come after: the first row of every required single dependency."""
        latest: datetime | None = None
        for name, limit in self._required():
            if limit != 1 or name == self.h.full_name:
                continue  # lists never block; a self-dependency is validated to be a list
            first = self._first_row(name)
            if first is None:
                return Wait(f"waiting for required dependency {name}, which has no data yet", blocking=True)
            latest = first.date if latest is None else max(latest, first.date)
        return latest

    def dependencies(self, date: datetime) -> dict[str, Any] | Wait:
        """As-of inputs: the `limit` newest items strictly before `date` (1 -> one Data, more -> newest first)."""
        found: dict[str, Any] = {}
        for optional, pairs in ((False, self._required()), (True, self._optional())):
            for name, limit in pairs:
                if limit == 1:
                    item = self.store.latest_before(name, date)
                    if item is None and not optional:
                        return Wait(f"waiting for required dependency {name}: no item before {iso(date)}", blocking=True)
                    found[name] = item
                else:
                    found[name] = self.store.latest_n_before(name, date, limit)
        return found

    # ------------------------------------------------------------------ planning

    def next_window(self, cursor: Cursor | None, *, until: datetime | None = None) -> Window | Wait | None:
        """The next window after `cursor`, a reason to wait, or None when the source holds nothing new."""
        clamp = self.clamp()
        if isinstance(clamp, Wait):
            return clamp
        if self.spec.is_time:
            return self._next_time(cursor, clamp, until)
        return self._next_rows(cursor, clamp)

    def _next_rows(self, cursor: Cursor | None, clamp: datetime | None) -> Window | Wait | None:
        after = None if cursor is None else (cursor.date, cursor.source_id)
        if clamp is not None and (after is None or after[0] <= clamp):
            after = (clamp, None)  # skip source rows at or before a required dependency's first item
        size = self.spec.rows or 1
        rows = source_rows(self.store, self.h.source, after=after, limit=size)
        if not rows:
            return None
        if self.spec.strict and len(rows) < size:
            return Wait(f"waiting for {size} source rows (STRICT): {len(rows)} so far")
        return Window(row_key(int(rows[-1].id)), rows, rows[-1].date)

    def _time_start(self, cursor: Cursor | None, clamp: datetime | None) -> datetime | None:
        seconds = self.spec.seconds
        assert seconds is not None
        start = next_time_start(cursor, seconds)
        if start is None:
            first = self.store.first(self.h.source)
            if first is None:
                return None
            start = floor_time(first.date, seconds)
        start = max(start, ceil_time(self.h.start or DEFAULT_TIME_START, seconds))
        if clamp is not None:
            start = max(start, floor_time(clamp, seconds))
        return start

    def _next_time(self, cursor: Cursor | None, clamp: datetime | None, until: datetime | None) -> Window | Wait | None:
        seconds = self.spec.seconds
        assert seconds is not None
        start = self._time_start(cursor, clamp)
        if start is None:
            return None
        end = start + timedelta(seconds=seconds)
        if until is not None:
            if end > until:
                return None
        elif not self._closed(end):
            return Wait(f"window [{iso(start)}, {iso(end)}) is still open")
        return self.time_window(start)

    def _closed(self, end: datetime) -> bool:
        """A window is complete once a source row dated at or after its end exists, or one period after its end."""
        assert self.spec.seconds is not None
        if self.now >= end + timedelta(seconds=self.spec.seconds):
            return True
        return bool(source_rows(self.store, self.h.source, since=end, limit=1))

    def time_window(self, start: datetime, *, replaces: bool = False) -> Window:
        assert self.spec.seconds is not None
        end = start + timedelta(seconds=self.spec.seconds)
        rows = source_rows(self.store, self.h.source, since=start, before=end)
        return Window(time_key(end), rows, end, start=start, end=end, replaces=replaces)

    # ------------------------------------------------------------------ deriving

    def _component(self) -> Any:
        """A fresh component for one window; its class is imported once per run."""
        if self._cls is None:
            self._cls = component_class(self.h, self.package)
        return instantiate(self.h, self.package, self._cls)

    def derive(self, window: Window, dependencies: dict[str, Any]) -> list[Output]:
        """Call the component on one window and turn its result into rows (items and markers)."""
        last_id = int(window.rows[-1].id) if window.rows else None
        if not window.rows:  # an empty time window: nothing to call, a marker moves the cursor
            return [Output(window.date, window.key, None, note="empty window")]
        component = self._component()
        component.run_time = window.date
        source_data: Any = window.rows[0] if self.spec.single else list(window.rows)
        try:
            result = component.run(source_data, **dependencies)
            if self.spec.multiple:
                result = self._results(result, len(window.rows))
        except _Refused:
            raise
        except Exception as exc:  # the component's own failure: retried (RETRIES), or skipped (ON_ERROR)
            if self.h.on_error == "skip":
                self.log(f"{self.h.full_name}: window {window.span()} raised {type(exc).__name__}: {exc}; skipped")
                note = f"error: {type(exc).__name__}: {exc}"[:2000]
                return [Output(window.date, window.key, last_id, note=note)]
            raise WindowFailed(self, window, exc) from exc
        if not self.spec.multiple:
            return [self._output(result, window.date, window.key, last_id)]
        return [
            self._output(item, row.date, item_key(window.key, int(row.id)), int(row.id))
            for item, row in zip(result, window.rows, strict=True)
        ]

    def _results(self, result: Any, expected: int) -> list[Any]:
        if result is None or isinstance(result, str | bytes | bytearray | dict):
            raise _Refused(
                f"harvester {self.h.full_name} ({self.h.path}) has MULTIPLE_RESULTS but returned "
                f"{type(result).__name__}, not a list of {expected} results"
            )
        items = list(result)  # a generator is consumed in full before anything is written
        if len(items) != expected:
            raise _Refused(
                f"harvester {self.h.full_name} ({self.h.path}) returned {len(items)} results for "
                f"{expected} source rows (MULTIPLE_RESULTS needs exactly one per row): nothing written"
            )
        return items

    def _output(self, result: Any, date: datetime, key: str, source_id: int | None) -> Output:
        if result is None:
            return Output(date, key, source_id)
        try:
            payload = serialise(result)
        except UnsupportedPayload as exc:
            raise _Refused(f"harvester {self.h.full_name} ({self.h.path}) {exc}") from exc
        return Output(date, key, source_id, payload, self.h.content_type)

    # ------------------------------------------------------------------ running

    def process(self, window: Window, progress: Progress) -> Cursor | None:
        """Derive and store one window: the cursor after it, or None when a dependency makes it wait."""
        dependencies = self.dependencies(window.date)
        if isinstance(dependencies, Wait):
            progress.waiting = dependencies
            return None
        outputs = self.derive(window, dependencies)
        written = write_window(self.store, self.h.full_name, outputs, replace=[window.key] if window.replaces else None)
        progress.windows += 1
        progress.rederived += int(window.replaces)
        progress.keys.add(window.key)
        for output, data in zip(outputs, written, strict=True):
            if data is None:
                progress.markers += 1
                progress.errors += int(bool(output.note and output.note.startswith("error:")))
            else:
                progress.outputs += 1
                progress.last, progress.last_payload = data, output.payload
        # The window's last row is the harvester's newest (windows go oldest first): the new cursor.
        return Cursor(outputs[-1].date, outputs[-1].source_id, outputs[-1].window_key)

    def catch_up(self, progress: Progress, *, limit: int, until: datetime | None = None) -> Cursor | None:
        """Derive pending windows from the cursor, oldest first, at most `limit`; the cursor afterwards."""
        cursor = harvester_cursor(self.store, self.h.full_name)
        done = 0
        while True:
            planned = self.next_window(cursor, until=until)
            if planned is None:
                return cursor
            if isinstance(planned, Wait):
                progress.waiting = planned
                return cursor
            if done >= limit:
                progress.backlog = True
                return cursor
            moved = self.process(planned, progress)
            if moved is None:
                return cursor
            done += 1
            cursor = moved

    def rederive(self, progress: Progress, start: datetime, end: datetime) -> None:
        """Re-derive the stored windows of [start, end) (a partition range), replacing their outputs."""
        seconds = self.spec.seconds
        assert seconds is not None
        cursor = harvester_cursor(self.store, self.h.full_name)
        reached = time_window_end(cursor.window_key) if cursor else None
        moment = start
        while moment < end:
            window_end = moment + timedelta(seconds=seconds)
            if time_key(window_end) not in progress.keys:
                if reached is None or window_end > reached:
                    progress.notes.append(f"window ending {iso(window_end)} not reached yet: derived in order later")
                    break
                window = self.time_window(moment, replaces=True)
                dependencies = self.dependencies(window.date)
                if isinstance(dependencies, Wait):
                    progress.notes.append(f"window ending {iso(window_end)} skipped: {dependencies.reason}")
                else:
                    self.process(window, progress)
            moment = window_end

    def lag(self, cursor: Cursor | None) -> tuple[int, float]:
        """Source items not derived yet (in ended windows, for time windows), and how far behind the source."""
        if self.spec.is_time:
            assert self.spec.seconds is not None
            end = time_window_end(cursor.window_key) if cursor else None
            rows = count_rows(self.store, self.h.source, since=end, before=floor_time(self.now, self.spec.seconds))
        else:
            after = None if cursor is None else (cursor.date, cursor.source_id)
            rows = count_rows(self.store, self.h.source, after=after)
        if not rows:
            return 0, 0.0
        newest = self.store.latest(self.h.source)
        since = cursor.date if cursor else (self.store.first(self.h.source) or newest).date
        return rows, max((newest.date - since).total_seconds(), 0.0) if newest else 0.0


class _Refused(Exception):
    """The component's result breaks the contract: fail at once, retrying cannot fix it."""


class WindowFailed(Exception):
    """A window whose harvester raised."""

    def __init__(self, run: HarvesterRun, window: Window, cause: BaseException) -> None:
        self.message = (
            f"harvester {run.h.full_name} ({run.h.path}) failed on the window {window.span()} "
            f"({len(window.rows)} source row(s)): {type(cause).__name__}: {cause}"
        )
        super().__init__(self.message)


# ---------------------------------------------------------------------- the asset


def partitions_def(harvester: HarvesterConfig) -> dg.TimeWindowPartitionsDefinition | None:
    """One partition per time window when the period is a cron (1m..1h dividing an hour, hours dividing a day, 1d)."""
    seconds = harvester.source_range_seconds
    cron = partition_cron(seconds) if seconds else None
    if cron is None or seconds is None:
        return None
    start = ceil_time(harvester.start or DEFAULT_TIME_START, seconds)
    return dg.TimeWindowPartitionsDefinition(
        start=start, cron_schedule=cron, fmt=partition_format(seconds), timezone="UTC"
    )


def automation(harvester: HarvesterConfig) -> dg.AutomationCondition:
    """Eager: a new source or dependency item triggers a catch-up; SCHEDULE adds a tick of its own.

    Unlike `eager()` a missing upstream does not block: the window logic waits for data itself, and an
    optional dependency or an old partition that never ran must not hold a harvester back.
    """
    condition = (
        dg.AutomationCondition.in_latest_time_window()
        & (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("eager (harvester)")
    if harvester.schedule is not None:
        cron = plan(harvester.schedule).cron or "* * * * *"  # sub-minute: the finest tick automation has
        tick = (
            dg.AutomationCondition.in_latest_time_window()
            & dg.AutomationCondition.cron_tick_passed(cron, "UTC").since_last_handled()
            & ~dg.AutomationCondition.in_progress()
        ).with_label(f"SCHEDULE {harvester.schedule_text}")
        condition = (condition | tick).with_label(f"eager or SCHEDULE {harvester.schedule_text}")
    return condition


def harvester_asset(harvester: HarvesterConfig) -> dg.AssetsDefinition:
    """The asset of one harvester: each materialization derives pending windows from its cursor."""
    key = asset_key(harvester.full_name)
    spec_of = WindowSpec.of(harvester)
    inputs = [harvester.source, *harvester.dependencies, *harvester.optional_dependencies]
    # A self-dependency reads the harvester's own earlier outputs: no edge in the graph (it would be a cycle).
    deps = list(dict.fromkeys(n for n in inputs if n != harvester.full_name))
    partitions = partitions_def(harvester)
    spec = dg.AssetSpec(
        key=key,
        deps=[asset_key(n) for n in deps],
        group_name=harvester.group,
        description=harvester.description or f"Harvester {harvester.full_name} ({harvester.path}).",
        kinds={"python", "blob"},
        automation_condition=automation(harvester),
        partitions_def=partitions,
        metadata={
            "dataspace/component": "harvester",
            "dataspace/path": harvester.path,
            "dataspace/config": f"{harvester.file_label} [{harvester.table}]",
            "dataspace/data_type": harvester.data_type,
            "dataspace/data_format": harvester.data_format,
            "dataspace/source": harvester.source,
            "dataspace/window": spec_of.describe(),
            "dataspace/dependencies": ", ".join(
                [f"{n} (limit {k})" for n, k in zip(harvester.dependencies, harvester.dependencies_limit, strict=True)]
                + [f"{n} (optional, limit {k})" for n, k in
                   zip(harvester.optional_dependencies, harvester.optional_dependencies_limit, strict=True)]
            ) or "none",
            "dataspace/max_windows": harvester.max_windows,
            "dataspace/schedule": harvester.schedule_text or "none (eager: runs when its inputs get new items)",
        },
    )
    retry = (
        dg.RetryPolicy(max_retries=harvester.retries, delay=harvester.retry_delay or None)
        if harvester.retries
        else None
    )
    package = components_package()

    # Time windows backfill in one run (BackfillPolicy.single_run); Dagster marks that parameter beta, and
    # its warning would print on every command that loads the definitions.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)

        @dg.multi_asset(
            specs=[spec],
            name=f"dataspace__{harvester.full_name}",
            retry_policy=retry,
            # One run at a time per harvester is the store lock's job (storage/locks.py): it covers command-line
            # runs and is freed by a kill -9, where a pool slot of a killed run stays claimed. POOL stays for
            # limiting calls to an outside API.
            pool=harvester.pool,
            op_tags={HARVESTER_TAG: harvester.full_name},
            check_specs=[dg.AssetCheckSpec(LAG_CHECK, asset=key, description="Pending source items not derived yet")],
            backfill_policy=dg.BackfillPolicy.single_run() if partitions else None,
            required_resource_keys={STORE_KEY},
        )
        def _harvest(context):
            return harvest(context, harvester, getattr(context.resources, STORE_KEY), package)

    return _harvest


def _automation_run(context: dg.AssetExecutionContext) -> bool:
    tags = context.run.tags if context.run else {}
    return any(tag in tags for tag in ("dagster/auto_materialize", "dagster/from_automation_condition", CATCH_UP_TAG))


def _rebuild_from(context: dg.AssetExecutionContext, harvester: HarvesterConfig) -> datetime | None | bool:
    """The REBUILD_TAG's date (None: everything), or False when this run is no rebuild."""
    tags = context.run.tags if context.run else {}
    value = tags.get(REBUILD_TAG)
    if value is None:
        return False
    if value == "all":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise dg.Failure(description=f"harvester {harvester.full_name}: bad {REBUILD_TAG} tag {value!r}",
                         allow_retries=False) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def harvest(
    context: dg.AssetExecutionContext, harvester: HarvesterConfig, store_resource: DataspaceStore, package: str
) -> dg.MaterializeResult:
    """Catch up on pending windows (a partition range also re-derives its windows); metadata and the lag check."""
    store = store_resource.get_store()
    run = HarvesterRun(harvester, store, package=package, log=context.log.info)
    progress = Progress()
    name = harvester.full_name
    with exclusive(store, name, on_wait=lambda: context.log.info(f"{name}: another run holds the harvester; waiting")):
        before = harvester_cursor(store, name)
        rebuild = _rebuild_from(context, harvester)
        try:
            if rebuild is not False:
                progress.deleted = delete_after(store, name, rebuild)
                context.log.info(f"{name}: rebuild removed {progress.deleted} row(s) after {rebuild or 'the start'}")
                run.catch_up(progress, limit=UNBOUNDED)
            elif context.has_partition_key or context.has_partition_key_range:
                window = context.partition_time_window
                run.catch_up(progress, limit=harvester.max_windows, until=window.end)
                if not _automation_run(context):
                    run.rederive(progress, window.start, window.end)
            else:
                run.catch_up(progress, limit=harvester.max_windows)
        except WindowFailed as exc:
            raise dg.Failure(description=exc.message) from exc
        except _Refused as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        after = harvester_cursor(store, name)
        lag_rows, lag_seconds = run.lag(after)
    if progress.waiting:
        context.log.info(f"{name}: {progress.waiting.reason}")
    if progress.backlog:
        context.log.info(f"{name}: stopped after {progress.windows} window(s) (MAX_WINDOWS); the rest follows")
    for note in progress.notes:
        context.log.info(f"{name}: {note}")
    metadata: dict[str, Any] = {
        "dataspace/windows": dg.MetadataValue.int(progress.windows),
        "dataspace/outputs": dg.MetadataValue.int(progress.outputs),
        "dataspace/markers": dg.MetadataValue.int(progress.markers),
        "dataspace/errors_skipped": dg.MetadataValue.int(progress.errors),
        "dataspace/rederived": dg.MetadataValue.int(progress.rederived),
        "dataspace/cursor_before": cursor_text(before),
        "dataspace/cursor_after": cursor_text(after),
        "dataspace/lag_rows": dg.MetadataValue.int(lag_rows),
        "dataspace/lag_seconds": dg.MetadataValue.float(lag_seconds),
        "dataspace/backlog": progress.backlog,
        "dataspace/waiting": progress.waiting.reason if progress.waiting else "no",
    }
    if rebuild is not False:
        metadata["dataspace/rebuild_deleted"] = dg.MetadataValue.int(progress.deleted)
    if progress.last is not None and progress.last_payload is not None:
        metadata["dagster/uri"] = dg.MetadataValue.url(progress.last.location)
        metadata["dataspace/last_date"] = dg.MetadataValue.timestamp(progress.last.date)
        metadata["preview"] = dg.MetadataValue.md(preview(progress.last, progress.last_payload))
    held_back = progress.backlog or bool(progress.waiting and progress.waiting.blocking)
    check = dg.AssetCheckResult(
        check_name=LAG_CHECK,
        passed=not held_back,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "lag_rows": dg.MetadataValue.int(lag_rows),
            "lag_seconds": dg.MetadataValue.float(lag_seconds),
            "reason": progress.waiting.reason if progress.waiting else ("MAX_WINDOWS reached" if progress.backlog else "caught up"),
        },
    )
    return dg.MaterializeResult(metadata=metadata, check_results=[check])


def harvester_sensor_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING


def backlog_sensor(harvesters: list[HarvesterConfig], assets: dict[str, dg.AssetsDefinition]) -> dg.SensorDefinition:
    """Continue a catch-up that stopped at MAX_WINDOWS: one more run per harvester whose last run left a backlog."""

    @dg.sensor(
        name="dataspace_harvester_backlog",
        minimum_interval_seconds=30,
        asset_selection=dg.AssetSelection.assets(*[asset_key(h.full_name) for h in harvesters]),
        default_status=harvester_sensor_status(),
        description="Launches the next catch-up run of harvesters whose last run stopped at MAX_WINDOWS.",
    )
    def _backlog(context: dg.SensorEvaluationContext):
        requests = []
        for h in harvesters:
            event = context.instance.get_latest_materialization_event(asset_key(h.full_name))
            materialization = event.asset_materialization if event else None
            if materialization is None:
                continue
            meta = materialization.metadata
            backlog = meta.get("dataspace/backlog")
            if not (backlog is not None and getattr(backlog, "value", backlog) is True):
                continue
            cursor = getattr(meta.get("dataspace/cursor_after"), "value", "")
            partitions = assets[h.full_name].partitions_def
            partition = None
            if isinstance(partitions, dg.TimeWindowPartitionsDefinition):
                partition = partitions.get_last_partition_key()
                if partition is None:
                    continue
            requests.append(
                dg.RunRequest(
                    run_key=f"{h.full_name}:{cursor}",  # one follow-up per cursor position
                    asset_selection=[asset_key(h.full_name)],
                    partition_key=partition,
                    tags={HARVESTER_TAG: h.full_name, CATCH_UP_TAG: "true"},
                )
            )
        return requests or dg.SkipReason("no harvester has a backlog")

    return _backlog


__all__ = [
    "HARVESTER_TAG",
    "REBUILD_TAG",
    "HarvesterRun",
    "Progress",
    "automation",
    "backlog_sensor",
    "harvester_asset",
    "partitions_def",
]
