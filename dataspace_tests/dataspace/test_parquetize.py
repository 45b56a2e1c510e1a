"""Parquetize: windows, schema checks, roll-ups with and without KEYS, re-runs, kill -9, assets, Azure, PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from dataspace_assets.dataspace.parquetize.batches import Parquetizer, pending_windows
from dataspace_assets.dataspace.parquetize.plan import PlanError, floor_window, parse_plan, window_cron
from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import LocalBlobStore
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.parquet import ParquetIndex
from dataspace_assets.storage.store import CONTENT_TYPES, DataStore

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
NAME = "city_feed"
SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"line": {"type": "string"}, "delay": {"type": "number"}},
        "required": ["line", "delay"],
    },
}


def plan(**extra):
    return parse_plan({"BATCH": "1h", "SCHEMA": SCHEMA, "START": "2026-03-01", **extra})


@pytest.fixture
def store(tmp_path: Path):
    data_store = DataStore(LocalBlobStore(tmp_path / "blobs"), create_engine(f"sqlite:///{tmp_path / 'index.db'}"))
    yield data_store
    data_store.close()


def put(store: DataStore, when: datetime, value, *, raw: bytes | None = None) -> None:
    payload = raw if raw is not None else json.dumps(value).encode()
    store.write(NAME, payload, date=when, content_type=CONTENT_TYPES["json"])


def snapshot(minute: int, lines: tuple[str, ...] = ("1", "2")) -> list[dict]:
    return [{"line": line, "delay": float(minute)} for line in lines]


def read_rows(store: DataStore, level: str | None = None) -> list[dict]:
    rows = []
    for item in ParquetIndex(store.engine, NAME).files(level):
        rows += pq.read_table(io.BytesIO(store.blobs.read(item.location))).to_pylist()
    return sorted(rows, key=lambda r: (r["date"], str(r.get("line", r.get("station")))))


# ---------------------------------------------------------------- the plan


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [(60, "* * * * *"), (900, "*/15 * * * *"), (3600, "0 * * * *"), (21600, "0 */6 * * *"),
     (86400, "0 0 * * *"), (604800, "0 0 * * 1")],
)
def test_window_cron(seconds: int, cron: str) -> None:
    assert window_cron(seconds) == cron


@pytest.mark.parametrize("seconds", [30, 90 * 60, 5 * 3600, 2 * 86400, 14 * 86400])
def test_windows_that_are_not_calendar_aligned_are_refused(seconds: int) -> None:
    with pytest.raises(PlanError, match="is not a calendar-aligned window"):
        window_cron(seconds)


def test_floor_window_weeks_start_on_monday_and_hours_at_midnight() -> None:
    sunday = datetime(2026, 3, 8, 23, 59, tzinfo=UTC)
    assert floor_window(sunday, 604800) == datetime(2026, 3, 2, tzinfo=UTC)
    assert floor_window(datetime(2026, 3, 2, 13, 45, 10, tzinfo=UTC), 6 * 3600) == datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert floor_window(datetime(2026, 3, 2, 13, 45, 10, tzinfo=UTC), 900) == datetime(2026, 3, 2, 13, 45, tzinfo=UTC)


def test_plan_levels_and_sources() -> None:
    p = parse_plan({"BATCH": "1h", "GROUPS": [{"GROUP": "1d"}, {"GROUP": "1w", "KEYS": ["line"]}]})
    assert [(lv.label, lv.seconds, lv.keys, lv.source) for lv in p.levels] == [
        ("1h", 3600, (), None), ("1d", 86400, (), 0), ("1w", 604800, ("line",), 1)
    ]
    assert p.start == datetime(2026, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- batch windows


def test_batch_window_is_half_open(store) -> None:
    put(store, T0 - timedelta(seconds=1), snapshot(0, ("before",)))
    put(store, T0, snapshot(0, ("start",)))
    put(store, T0 + timedelta(minutes=59, seconds=59), snapshot(59, ("last",)))
    put(store, T0 + timedelta(hours=1), snapshot(60, ("next",)))
    parquetizer = Parquetizer(store, NAME, plan())
    first = parquetizer.batch(T0, T0 + timedelta(hours=1))
    second = parquetizer.batch(T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert (first.snapshots, first.rows, second.rows) == (2, 2, 1)
    lines = [r["line"] for r in read_rows(store)]
    assert lines == ["start", "last", "next"]  # the boundary row is read once, by the window it starts
    (recorded,) = ParquetIndex(store.engine, NAME).files("1h", start=T0, end=T0 + timedelta(seconds=1))
    assert (recorded.start, recorded.end, recorded.count, recorded.rows) == (T0, T0 + timedelta(hours=1), 2, 2)
    assert recorded.schema == {"line": "string", "delay": "double", "date": "timestamp[us, tz=UTC]"}


def test_schema_failures_empty_and_non_json_snapshots_are_counted_not_fatal(store) -> None:
    put(store, T0 + timedelta(minutes=1), snapshot(1))
    put(store, T0 + timedelta(minutes=2), [{"line": 7, "delay": 1.0}])  # line must be a string
    put(store, T0 + timedelta(minutes=3), None, raw=b"")
    put(store, T0 + timedelta(minutes=4), None, raw=b"not json {")
    put(store, T0 + timedelta(minutes=5), snapshot(5))
    result = Parquetizer(store, NAME, plan()).batch(T0, T0 + timedelta(hours=1))
    assert (result.valid, result.invalid, result.empty, result.not_json, result.skipped) == (2, 1, 1, 1, 3)
    assert result.rows == 4
    (recorded,) = ParquetIndex(store.engine, NAME).files()
    assert (recorded.count, recorded.skipped) == (2, 3)
    assert recorded.original_size == sum(item.size for item in store.in_window(NAME, T0, T0 + timedelta(hours=1)))
    assert recorded.compressed_size == len(store.blobs.read(recorded.location))


def test_each_row_is_dated_by_its_own_snapshot_around_snapshots_that_give_none(store) -> None:
    minute = lambda m: T0 + timedelta(minutes=m, microseconds=m)  # noqa: E731 - to the microsecond, as stored
    put(store, minute(1), snapshot(1, ("a", "b", "c")))
    put(store, minute(2), [])  # valid, no records
    put(store, minute(3), None, raw=b"not json {")
    put(store, minute(4), snapshot(4, ("d",)))
    put(store, minute(5), [{"line": 7, "delay": 1.0}])  # refused by the schema
    put(store, minute(6), snapshot(6, ("e", "f")))
    Parquetizer(store, NAME, plan()).batch(T0, T0 + timedelta(hours=1))
    (recorded,) = ParquetIndex(store.engine, NAME).files()
    rows = pq.read_table(io.BytesIO(store.blobs.read(recorded.location))).to_pylist()  # in file order
    assert [(r["line"], r["delay"], r["date"]) for r in rows] == [
        ("a", 1.0, minute(1)), ("b", 1.0, minute(1)), ("c", 1.0, minute(1)),
        ("d", 4.0, minute(4)), ("e", 6.0, minute(6)), ("f", 6.0, minute(6)),
    ]


def test_records_path_flattens_objects_generically(store) -> None:
    readings = {"city": "Brussels", "readings": [{"station": "a", "pm25": 1.5}, {"station": "b", "pm25": 2.5}]}
    put(store, T0 + timedelta(minutes=10), readings)
    put(store, T0 + timedelta(minutes=20), {"city": "Brussels"})  # no list there: not records
    p = parse_plan({"BATCH": "1h", "RECORDS": "readings", "START": "2026-03-01"})
    result = Parquetizer(store, NAME, p).batch(T0, T0 + timedelta(hours=1))
    assert (result.rows, result.not_records) == (2, 1)
    assert [(r["station"], r["pm25"]) for r in read_rows(store)] == [("a", 1.5), ("b", 2.5)]
    assert all(r["date"] == T0 + timedelta(minutes=10) for r in read_rows(store))


def test_rerunning_a_window_replaces_its_file_and_row(store) -> None:
    put(store, T0 + timedelta(minutes=1), snapshot(1))
    parquetizer = Parquetizer(store, NAME, plan())
    parquetizer.batch(T0, T0 + timedelta(hours=1))
    old = ParquetIndex(store.engine, NAME).files()
    put(store, T0 + timedelta(minutes=2), snapshot(2))
    again = parquetizer.batch(T0, T0 + timedelta(hours=1))
    files = ParquetIndex(store.engine, NAME).files()
    assert len(files) == 1 and files[0].location != old[0].location
    assert not store.blobs.exists(old[0].location)
    assert (again.rows, again.replaced, len(read_rows(store))) == (4, 1, 4)
    assert store.blobs.keys(f"{NAME}_parquetize/") == [files[0].location.split("/blobs/", 1)[1]]


def test_window_without_valid_snapshots_removes_an_earlier_file(store, tmp_path) -> None:
    put(store, T0 + timedelta(minutes=1), snapshot(1))
    strict = parse_plan({"BATCH": "1h", "SCHEMA": {"type": "array", "maxItems": 1}, "START": "2026-03-01"})
    Parquetizer(store, NAME, plan()).batch(T0, T0 + timedelta(hours=1))
    assert len(ParquetIndex(store.engine, NAME).files()) == 1
    result = Parquetizer(store, NAME, strict).batch(T0, T0 + timedelta(hours=1))
    assert result.invalid == 1 and result.note == "no valid snapshot in this window: nothing written"
    assert ParquetIndex(store.engine, NAME).files() == []
    assert store.blobs.keys(f"{NAME}_parquetize/") == []


def test_rows_that_do_not_make_one_table_fail_clearly(store) -> None:
    put(store, T0 + timedelta(minutes=1), [{"line": "1", "delay": 1.0}, {"line": "2", "delay": "late"}])
    with pytest.raises(DataspaceError, match=r"city_feed window \[2026-03-02T00:00:00\+00:00, .*tighten SCHEMA"):
        Parquetizer(store, NAME, parse_plan({"BATCH": "1h", "START": "2026-03-01"})).batch(T0, T0 + timedelta(hours=1))
    assert ParquetIndex(store.engine, NAME).files() == []


# ---------------------------------------------------------------- roll-ups


def fill_day(store: DataStore, day: datetime, per_hour: int = 2) -> None:
    for hour in range(24):
        for n in range(per_hour):
            put(store, day + timedelta(hours=hour, minutes=10 * n), snapshot(hour * 60 + n))


def test_rollup_without_keys_replaces_the_finer_files(store) -> None:
    fill_day(store, T0)
    p = plan(GROUPS=[{"GROUP": "1d"}])
    parquetizer = Parquetizer(store, NAME, p)
    for hour in range(24):
        parquetizer.batch(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    hourly_blobs = [f.location for f in ParquetIndex(store.engine, NAME).files("1h")]
    assert len(hourly_blobs) == 24
    result = parquetizer.roll_up(1, T0, T0 + timedelta(days=1))
    index = ParquetIndex(store.engine, NAME)
    assert index.files("1h") == [] and not any(store.blobs.exists(b) for b in hourly_blobs)
    (daily,) = index.files("1d")
    assert (daily.start, daily.end, daily.rows, daily.count, result.rows) == (T0, T0 + timedelta(days=1), 96, 48, 96)
    assert len(read_rows(store)) == 96


def test_rerun_of_a_rolled_up_hour_goes_into_the_daily_file(store) -> None:
    fill_day(store, T0)
    parquetizer = Parquetizer(store, NAME, plan(GROUPS=[{"GROUP": "1d"}]))
    for hour in range(24):
        parquetizer.batch(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    parquetizer.roll_up(1, T0, T0 + timedelta(days=1))
    put(store, T0 + timedelta(hours=5, minutes=45), snapshot(999, ("late",)))  # a late snapshot of 05:00
    result = parquetizer.batch(T0 + timedelta(hours=5), T0 + timedelta(hours=6))
    assert result.into == "1d"
    index = ParquetIndex(store.engine, NAME)
    assert index.files("1h") == [] and len(index.files("1d")) == 1
    rows = read_rows(store)
    assert len(rows) == 97 and sum(r["line"] == "late" for r in rows) == 1
    # and rolling the day up again changes nothing: no input is left
    assert parquetizer.roll_up(1, T0, T0 + timedelta(days=1)).note.startswith("no 1h files")
    assert len(read_rows(store)) == 97


def test_rollup_with_keys_writes_one_file_per_combination_and_keeps_the_finer_level(store) -> None:
    fill_day(store, T0)
    parquetizer = Parquetizer(store, NAME, plan(GROUPS=[{"GROUP": "1d", "KEYS": ["line"]}]))
    for hour in range(24):
        parquetizer.batch(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    parquetizer.roll_up(1, T0, T0 + timedelta(days=1))
    index = ParquetIndex(store.engine, NAME)
    assert len(index.files("1h")) == 24
    keyed = index.files("1d")
    assert sorted(f.keys["line"] for f in keyed) == ["1", "2"]
    for item in keyed:
        rows = pq.read_table(io.BytesIO(store.blobs.read(item.location))).to_pylist()
        assert len(rows) == 48 and {r["line"] for r in rows} == {item.keys["line"]}
    parquetizer.roll_up(1, T0, T0 + timedelta(days=1))  # a re-run replaces, never adds
    assert len(index.files("1d")) == 2


def test_missing_key_column_fails_naming_it(store) -> None:
    put(store, T0 + timedelta(minutes=1), snapshot(1))
    parquetizer = Parquetizer(store, NAME, plan(GROUPS=[{"GROUP": "1d", "KEYS": ["stop"]}]))
    parquetizer.batch(T0, T0 + timedelta(hours=1))
    with pytest.raises(DataspaceError, match=r"GROUP 1d: KEYS column\(s\) \['stop'\] are not in the rows"):
        parquetizer.roll_up(1, T0, T0 + timedelta(days=1))


def test_three_levels_and_pending_windows(store) -> None:
    fill_day(store, T0, per_hour=1)
    fill_day(store, T0 + timedelta(days=1), per_hour=1)
    p = plan(GROUPS=[{"GROUP": "1d"}, {"GROUP": "1w"}])
    now = T0 + timedelta(days=7, hours=1)
    assert len(pending_windows(store, NAME, p, 0, now)) == 48
    parquetizer = Parquetizer(store, NAME, p)
    for start in pending_windows(store, NAME, p, 0, now):
        parquetizer.batch(start, start + timedelta(hours=1))
    assert pending_windows(store, NAME, p, 0, now) == []
    assert pending_windows(store, NAME, p, 1, now) == [T0, T0 + timedelta(days=1)]
    for start in pending_windows(store, NAME, p, 1, now):
        parquetizer.roll_up(1, start, start + timedelta(days=1))
    assert pending_windows(store, NAME, p, 2, now) == [T0]
    parquetizer.roll_up(2, T0, T0 + timedelta(days=7))
    index = ParquetIndex(store.engine, NAME)
    assert (len(index.files("1h")), len(index.files("1d")), len(index.files("1w"))) == (0, 0, 1)
    assert len(read_rows(store)) == 96
    assert pending_windows(store, NAME, p, 0, now) == []  # rolled into the week: not pending again


def test_incomplete_windows_are_not_pending(store) -> None:
    put(store, T0 + timedelta(minutes=5), snapshot(5))
    assert pending_windows(store, NAME, plan(), 0, T0 + timedelta(minutes=59)) == []
    assert pending_windows(store, NAME, plan(), 0, T0 + timedelta(hours=1)) == [T0]


# ---------------------------------------------------------------- readable as one data set


def test_files_read_as_one_dataset_with_pandas_pyarrow_and_duckdb(store) -> None:
    import duckdb
    import pandas as pd
    import pyarrow.dataset as ds

    fill_day(store, T0)
    parquetizer = Parquetizer(store, NAME, plan())
    for hour in range(3):
        parquetizer.batch(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    paths = [f.location.removeprefix("file://") for f in ParquetIndex(store.engine, NAME).files()]
    assert len(pd.read_parquet(paths)) == 12
    assert ds.dataset(paths, format="parquet").count_rows() == 12
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet({paths!r})").fetchall() == [(12,)]


# ---------------------------------------------------------------- kill -9 between the coarse file and the fine ones

KILLED_ROLLUP = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from datetime import datetime, timedelta, UTC
    from dataspace_assets.dataspace.parquetize.batches import Parquetizer
    from dataspace_assets.dataspace.parquetize.plan import parse_plan
    from dataspace_assets.storage import parquet
    from dataspace_assets.storage.blobs import LocalBlobStore
    from dataspace_assets.storage.database import create_engine
    from dataspace_assets.storage.store import DataStore

    root, when = Path(sys.argv[1]), sys.argv[2]
    store = DataStore(LocalBlobStore(root / "blobs"), create_engine(f"sqlite:///{root / 'index.db'}"))
    plan = parse_plan({"BATCH": "1h", "GROUPS": [{"GROUP": "1d"}], "START": "2026-03-01"})
    real_replace, real_delete = parquet.ParquetIndex.replace, store.blobs.delete

    def hang():
        (root / "ready").write_text("x")
        time.sleep(600)

    if when == "before-record":   # the coarse blob is written, nothing recorded yet
        parquet.ParquetIndex.replace = lambda self, *a, **k: hang()
    else:                         # recorded, the fine blobs not yet deleted
        store.blobs.delete = lambda location: hang()
    start = datetime(2026, 3, 2, tzinfo=UTC)
    Parquetizer(store, "city_feed", plan).roll_up(1, start, start + timedelta(days=1))
    """
)


@pytest.mark.parametrize("when", ["before-record", "before-fine-blobs-deleted"])
def test_rollup_killed_midway_loses_and_doubles_nothing(store, tmp_path: Path, when: str) -> None:
    fill_day(store, T0)
    p = plan(GROUPS=[{"GROUP": "1d"}])
    parquetizer = Parquetizer(store, NAME, p)
    for hour in range(24):
        parquetizer.batch(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    script = tmp_path / "rollup.py"
    script.write_text(KILLED_ROLLUP)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path), when], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "ready").exists():
            assert child.poll() is None, "the roll-up process ended before reaching the kill point"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    from dataspace_assets.dataspace.storage_check import check_storage

    index = ParquetIndex(store.engine, NAME)
    # Whatever moment it died at, the recorded files hold every row exactly once.
    assert len(read_rows(store)) == 96
    levels = (len(index.files("1h")), len(index.files("1d")))
    assert levels == ((24, 0) if when == "before-record" else (0, 1))
    # What it left is orphan blobs only: the unrecorded daily file, or the forgotten hourly ones.
    orphans = check_storage(store, min_age=timedelta(0)).orphans
    assert [o.split("/")[1] for o in orphans] == (["1d"] if when == "before-record" else ["1h"] * 24)
    # A re-run finishes the job: one daily file, the 96 rows once, no recorded blob missing.
    parquetizer.roll_up(1, T0, T0 + timedelta(days=1))
    assert (len(index.files("1h")), len(index.files("1d"))) == (0, 1)
    assert len(read_rows(store)) == 96
    assert all(store.blobs.exists(f.location) for f in index.files())
    # `storage check --repair` removes the orphans and never a recorded Parquet file.
    check_storage(store, repair=True, min_age=timedelta(0))
    assert check_storage(store, min_age=timedelta(0)).orphans == []
    assert len(read_rows(store)) == 96


# ---------------------------------------------------------------- PostgreSQL and Azure


@pytest.mark.services
def test_postgresql_index_and_azure_blobs(azurite, pg_url) -> None:
    from dataspace_assets.storage.blobs import AzureBlobStore

    store = DataStore(AzureBlobStore(azurite.new_container(), connection_string=azurite.connection_string),
                      create_engine(pg_url))
    try:
        fill_day(store, T0, per_hour=1)
        parquetizer = Parquetizer(store, NAME, plan(GROUPS=[{"GROUP": "1d"}, {"GROUP": "1w", "KEYS": ["line"]}]))
        for hour in range(24):
            parquetizer.batch(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
        parquetizer.roll_up(1, T0, T0 + timedelta(days=1))
        parquetizer.roll_up(2, T0, T0 + timedelta(days=7))
        index = ParquetIndex(store.engine, NAME)
        assert [len(index.files(level)) for level in ("1h", "1d", "1w")] == [0, 1, 2]
        assert len(read_rows(store, "1d")) == 48
        (daily,) = index.files("1d")
        assert daily.schema["date"] == "timestamp[us, tz=UTC]"
        assert store.blobs.keys(f"{NAME}_parquetize/1h/") == []
        assert len(store.blobs.keys(f"{NAME}_parquetize/1w/")) == 2
    finally:
        store.close()


# ---------------------------------------------------------------- as Dagster assets

PARQUET_CONFIG = """
[collectors.feed]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
PARQUETIZE = { BATCH = "1h", GROUPS = [{ GROUP = "1d" }], START = "2026-03-01", SCHEMA = { type = "array" } }
"""


def defs_for(configs, tmp_settings):
    from dataspace_assets.dataspace.definitions import build_defs

    configs.toml("city.toml", PARQUET_CONFIG)
    return build_defs(tmp_settings)


def test_level_assets_lineage_and_partitions(configs, tmp_settings) -> None:
    defs = defs_for(configs, tmp_settings)
    batch, daily = dg.AssetKey(["dataspace", "city_feed_parquet"]), dg.AssetKey(["dataspace", "city_feed_parquet_1d"])
    batch_def, daily_def = defs.resolve_assets_def(batch), defs.resolve_assets_def(daily)
    assert batch_def.asset_deps[batch] == {dg.AssetKey(["dataspace", "city_feed"])}
    assert daily_def.asset_deps[daily] == {batch}
    assert batch_def.partitions_def.get_first_partition_key() == "2026-03-01-00:00"
    assert daily_def.partitions_def.get_first_partition_key() == "2026-03-01"
    assert batch_def.group_names_by_key[batch] == "city"


def test_materializing_a_partition_range_through_dagster(configs, tmp_settings, dagster_instance) -> None:
    defs = defs_for(configs, tmp_settings)
    store = DataStore.from_settings(tmp_settings)
    fill_day(store, T0)  # what the collector would have stored over a day
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=dagster_instance,
        asset_selection=[dg.AssetKey(["dataspace", "city_feed_parquet"])],
        tags={"dagster/asset_partition_range_start": "2026-03-02-00:00",
              "dagster/asset_partition_range_end": "2026-03-02-23:00"},
        raise_on_error=False,
    )
    assert result.success
    events = result.get_asset_materialization_events()
    assert len(events) == 24  # every partition of the range is materialized by the one run
    meta = events[0].materialization.metadata
    assert (meta["windows"].value, meta["dagster/row_count"].value, meta["skipped"].value) == (24, 96, 0)
    assert meta["files_written"].value == 24
    assert [c.name for c in meta["schema"].value.columns] == ["line", "delay", "date"]
    result = job.execute_in_process(
        instance=dagster_instance,
        asset_selection=[dg.AssetKey(["dataspace", "city_feed_parquet_1d"])],
        partition_key="2026-03-02",
        raise_on_error=False,
    )
    assert result.success
    index = ParquetIndex(store.engine, NAME)
    assert (len(index.files("1h")), len(index.files("1d"))) == (0, 1)
    store.close()


def test_dagster_cli_backfills_a_range(configs, tmp_settings) -> None:
    from dataspace_assets.instance import prepare_dagster_home

    configs.toml("city.toml", PARQUET_CONFIG)
    prepare_dagster_home(tmp_settings)
    store = DataStore.from_settings(tmp_settings)
    fill_day(store, T0, per_hour=1)
    store.close()
    dagster = Path(sys.executable).with_name("dagster")
    completed = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "dataspace_assets.definitions",
         "--select", 'key:"dataspace/city_feed_parquet"', "--partition-range", "2026-03-02-10:00...2026-03-02-12:00"],
        capture_output=True, text=True, env={**os.environ}, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    store = DataStore.from_settings(tmp_settings)
    starts = [f.start.hour for f in ParquetIndex(store.engine, NAME).files("1h")]
    store.close()
    assert starts == [10, 11, 12]


def test_main_job_materializes_pending_windows_lowest_level_first(configs, tmp_settings) -> None:
    from dataspace_assets.main_job import run_main_job

    configs.toml("city.toml", PARQUET_CONFIG + 'value = [{ line = "9", delay = 0.5 }]\n')  # collects one row now
    store = DataStore.from_settings(tmp_settings)
    fill_day(store, T0, per_hour=1)  # yesterday's history, already collected
    store.close()
    report = run_main_job(tmp_settings, echo=lambda line: None)
    assert report.ok, report.failures
    done = {(m.asset, m.partition) for m in report.materialized}
    assert ("dataspace/city_feed", None) in done
    hourly = [m for m in report.materialized if m.asset == "dataspace/city_feed_parquet"]
    # one line for the ranged run of the 24 windows
    assert [m.partition for m in hourly] == ["2026-03-02-00:00...2026-03-02-23:00"]
    assert ("dataspace/city_feed_parquet_1d", "2026-03-02") in done
    store = DataStore.from_settings(tmp_settings)
    index = ParquetIndex(store.engine, NAME)
    assert (len(index.files("1h")), len(index.files("1d"))) == (0, 1)
    assert len(read_rows(store)) == 48
    store.close()
    # Nothing is pending any more: a second main job only collects.
    again = run_main_job(tmp_settings, echo=lambda line: None)
    assert {m.asset for m in again.materialized} - {"catalog/dcat"} == {"dataspace/city_feed"}
    assert "dataspace/city_feed_parquet" in again.skipped
