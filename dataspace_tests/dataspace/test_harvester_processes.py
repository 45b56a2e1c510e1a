"""Harvesters across processes: kill -9 mid catch-up, two runs at once, CLI backfills and rebuilds, storage check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest

from dataspace_assets.cli import main as dataspace
from dataspace_assets.dataspace.storage_check import check_storage
from dataspace_assets.settings import PROJECT_ROOT
from dataspace_tests.dataspace.harvester_helpers import at, harvester_toml, materialize, meta, outputs, put, rows
from dataspace_tests.dataspace.test_harvesters import settings, store, write  # noqa: F401  (shared fixtures)

RUNNER = """
import sys
import dagster as dg
from dataspace_assets.dataspace.definitions import build_defs
from dataspace_assets.instance import get_instance
from dataspace_assets.settings import load_settings

settings = load_settings()
job = build_defs(settings).resolve_implicit_global_asset_job_def()
result = job.execute_in_process(
    instance=get_instance(settings), asset_selection=[dg.AssetKey(["dataspace", sys.argv[1]])], raise_on_error=False
)
sys.exit(0 if result.success else 1)
"""


def start(name: str) -> subprocess.Popen:
    """A materialization of harvester `name` in its own process (the test's environment: same store)."""
    # Its log goes to a file: a pipe nobody reads would fill up and block the process.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, name], cwd=PROJECT_ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=log,
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def log_of(process: subprocess.Popen) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read().decode(errors="replace")[-3000:]  # type: ignore[attr-defined]


def wait_for(store, name: str, count: int, process: subprocess.Popen) -> None:
    """Poll until `name` has `count` rows (bounded: the process must still be running)."""
    for _ in range(3000):
        if len(rows(store, name)) >= count:
            return
        assert process.poll() is None, log_of(process)
        time.sleep(0.02)
    raise AssertionError(f"{name} never reached {count} rows")


def assert_exactly_once(store, name: str, values: list) -> None:
    """Every source row derived once, in order: no gap, no duplicate."""
    got = [v for _, v in outputs(store, name)]
    assert got == values
    keys = [r["window_key"] for r in rows(store, name)]
    assert len(keys) == len(set(keys))


def test_kill_9_in_the_middle_of_a_catch_up_leaves_no_gap_and_no_duplicate(write, settings, store) -> None:
    write(harvester_toml("h", "src", path="harvesters.Slow", pause=0.02))
    values = list(range(120))
    for v in values:
        put(store, "a_src", v)
    for threshold in (10, 40):  # killed twice, at different points of the catch-up
        process = start("a_h")
        wait_for(store, "a_h", threshold, process)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
        done = [v for _, v in outputs(store, "a_h")]
        assert done == values[: len(done)]  # a prefix: every window before the cursor, nothing after
    process = start("a_h")
    assert process.wait() == 0, log_of(process)
    assert_exactly_once(store, "a_h", values)
    # A kill between a blob and its row leaves an orphan blob at most per kill; the check removes them.
    report = check_storage(store, repair=True, min_age=timedelta(0))
    assert len(report.orphans) <= 2
    referenced = {r["location"] for r in rows(store, "a_h")}
    assert {store.blobs.location(k) for k in store.blobs.keys("a_h/")} == referenced


def test_two_runs_at_once_never_process_the_same_window(write, settings, store, tmp_path) -> None:
    trace = tmp_path / "trace.txt"
    write(harvester_toml("h", "src", path="harvesters.Slow", pause=0.05, trace=f'"{trace}"'))
    values = list(range(30))
    for v in values:
        put(store, "a_src", v)
    # Both start on a home without a Dagster instance: the first to open it creates its storage, the other waits.
    first, second = start("a_h"), start("a_h")
    assert first.wait() == 0 and second.wait() == 0, log_of(first) + log_of(second)
    assert_exactly_once(store, "a_h", values)
    calls = [line.split() for line in trace.read_text().splitlines()]
    assert sorted(int(v) for _, v in calls) == values  # each window derived by exactly one process, once
    pids = [pid for pid, _ in calls]
    assert pids == sorted(pids, key=pids.index)  # one process did its windows, the other waited


def test_partition_range_backfill_from_the_cli_replaces_exactly_those_windows(
    write, configs, settings, store, dagster_instance
) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE='"1m"'))
    for s in (5, 65, 125, 185, 245):
        put(store, "a_src", s)
    assert materialize(settings, dagster_instance, "a_h", partition="2026-01-01-00:04").success
    before = {r["window_key"]: r for r in rows(store, "a_h")}
    assert len(before) == 5
    put(store, "a_src", 70)  # a late row in the second window, after it was derived
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    command = [
        str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "dataspace_assets.definitions",
        "--select", "dataspace/a_h", "--partition-range", "2026-01-01-00:01...2026-01-01-00:02",
    ]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    after = {r["window_key"]: r for r in rows(store, "a_h")}
    assert set(after) == set(before)  # one item per window: replaced, not added
    changed = {k for k in after if after[k]["id"] != before[k]["id"]}
    assert changed == {"t:2026-01-01T00:02:00Z", "t:2026-01-01T00:03:00Z"}
    assert outputs(store, "a_h")[1] == (120, [65, 70])
    assert all(store.blobs.exists(r["location"]) for r in after.values())
    assert not any(store.blobs.exists(before[k]["location"]) for k in changed)  # old blobs removed


def test_rebuild_rederives_every_window_after_a_date_in_one_run(write, configs, settings, store, dagster_instance, capsys) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE=2))
    for s in range(8):
        put(store, "a_src", s)
    assert materialize(settings, dagster_instance, "a_h").success
    kept = rows(store, "a_h")[:2]
    assert dataspace(["rebuild", "a_h", "--from", at(3).isoformat()]) == 0
    printed = capsys.readouterr().out
    assert "2 old row(s) removed, 2 window(s) derived (2 item(s), 0 marker(s))" in printed
    now = rows(store, "a_h")
    assert now[:2] == kept and [r["id"] for r in now[2:]] != [r["id"] for r in kept]
    assert outputs(store, "a_h") == [(1, [0, 1]), (3, [2, 3]), (5, [4, 5]), (7, [6, 7])]
    assert len(store.blobs.keys("a_h/")) == 4
    assert dataspace(["rebuild", "a_missing"]) == 1
    assert "no harvester 'a_missing'" in capsys.readouterr().err
    assert dataspace(["rebuild", "a_h", "--from", "soon"]) == 1  # refused before any run: nothing changed
    assert "--from 'soon': expected an ISO date-time like 2026-01-01T00:00:00Z" in capsys.readouterr().err
    assert [r["id"] for r in rows(store, "a_h")] == [r["id"] for r in now]


def test_storage_check_reports_and_repairs_orphan_blobs(write, settings, store, capsys) -> None:
    write(harvester_toml("h", "src"))
    put(store, "a_src", 1)
    orphan = store.blobs.write("a_src/2026-01-01_00-00-09-deadbeef", b"lost", "application/json")
    old = time.time() - 3600
    os.utime(Path(orphan.removeprefix("file://")), (old, old))
    store.blobs.write("a_src/2026-01-01_00-00-10-cafecafe", b"being written", "application/json")  # too young
    assert dataspace(["storage", "check"]) == 1
    out = capsys.readouterr().out
    assert "1 orphan blob(s) found (no index row points at them):\n  a_src/2026-01-01_00-00-09-deadbeef" in out
    assert "1 recent unreferenced blob(s) left alone" in out
    assert dataspace(["storage", "check", "--repair"]) == 0
    assert "1 orphan blob(s) removed" in capsys.readouterr().out
    assert not store.blobs.exists(orphan) and store.count("a_src") == 1
    assert dataspace(["storage", "check"]) == 0


@pytest.mark.parametrize("status", ["NOT_STARTED", "STARTED"])
def test_a_sub_minute_collector_sensor_skips_while_its_run_is_unfinished(configs, tmp_settings, dagster_instance, status) -> None:
    import dagster as dg

    from dataspace_assets.dataspace.assets import COLLECTOR_TAG, UNFINISHED
    from dataspace_assets.dataspace.definitions import build_defs

    configs.toml("a.toml", '[collectors.fast]\nPATH = "tests.Echo"\nDATA_TYPE = "json"\nDATA_FORMAT = "x"\nSCHEDULE = "2s"\n')
    defs = build_defs(tmp_settings)
    sensor = defs.resolve_sensor_def("dataspace_a_fast_sensor")
    context = dg.build_sensor_context(instance=dagster_instance, definitions=defs)
    first = sensor(context)
    assert isinstance(first, dg.RunRequest) and first.tags[COLLECTOR_TAG] == "a_fast"
    job = defs.resolve_implicit_global_asset_job_def()
    run = dagster_instance.create_run_for_job(job, status=getattr(dg.DagsterRunStatus, status), tags=first.tags)
    skipped = sensor(dg.build_sensor_context(instance=dagster_instance, definitions=defs))
    assert isinstance(skipped, dg.SkipReason)
    assert skipped.skip_message == f"a_fast: run {run.run_id} is still {status.lower()}; tick skipped"
    assert dg.DagsterRunStatus.QUEUED in UNFINISHED
    dagster_instance.report_run_failed(run)
    assert isinstance(sensor(dg.build_sensor_context(instance=dagster_instance, definitions=defs)), dg.RunRequest)


def test_lag_check_and_metadata_of_a_time_window_catch_up(write, settings, store, dagster_instance) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE='"1m"', MAX_WINDOWS=1))
    for s in (5, 65, 125):
        put(store, "a_src", s)
    result = materialize(settings, dagster_instance, "a_h", partition="2026-01-01-00:02")
    m = meta(result)
    assert (m["dataspace/windows"], m["dataspace/backlog"], m["dataspace/lag_rows"]) == (1, True, 2)
    (check,) = result.get_asset_check_evaluations()
    assert check.passed is False and check.metadata["reason"].value == "MAX_WINDOWS reached"
