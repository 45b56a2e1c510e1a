"""Harvesters as assets on a real Dagster instance, with the index on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from dataspace_assets.dataspace.definitions import build_defs
from dataspace_assets.dataspace.harvesters import HarvesterRun
from dataspace_assets.settings import load_settings
from dataspace_assets.storage.store import DataStore
from dataspace_tests.dataspace.harvester_helpers import (
    HARVESTERS,
    at,
    harvester_toml,
    materialize,
    meta,
    outputs,
    put,
    rows,
    secs,
    source_toml,
)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_settings, monkeypatch):
    """The test's settings with the index on SQLite, then on a fresh PostgreSQL database."""
    if request.param == "postgres":
        monkeypatch.setenv("DATASPACE_DATABASE_URL", request.getfixturevalue("pg_url"))
    return load_settings()


@pytest.fixture
def store(settings):
    data_store = DataStore.from_settings(settings)
    yield data_store
    data_store.close()


@pytest.fixture
def write(configs):
    """Write a.toml (a collector `src` plus the given harvester tables) and the harvester components."""
    configs.module("harvesters", HARVESTERS)

    def _write(*tables: str) -> None:
        configs.toml("a.toml", source_toml() + "".join(tables))

    return _write


# ---------------------------------------------------------------- windows


def test_one_row_windows_date_each_output_at_its_row_and_keep_ties(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src"))
    for s in (0, 1, 2, 2, 3):
        put(store, "a_src", s, value=s * 10 + len(store.between("a_src", None, None)))
    result = materialize(settings, dagster_instance, "a_h")
    assert result.success
    assert [(s, v) for s, v in outputs(store, "a_h")] == [(0, 0), (1, 11), (2, 22), (2, 23), (3, 34)]
    assert all(d.json()["single"] for d in store.between("a_h", None, None))
    m = meta(result)
    assert (m["dataspace/windows"], m["dataspace/outputs"], m["dataspace/markers"]) == (5, 5, 0)
    assert m["dataspace/lag_rows"] == 0 and m["dataspace/backlog"] is False
    assert m["dagster/uri"] == store.latest("a_h").location
    # Nothing pending: a second run derives nothing and duplicates nothing.
    again = materialize(settings, dagster_instance, "a_h")
    assert meta(again)["dataspace/windows"] == 0 and store.count("a_h") == 5


def test_count_windows_split_equal_dates_at_the_right_row(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE=3))
    for s in (0, 1, 2, 2, 3, 4):
        put(store, "a_src", s, value=len(store.between("a_src", None, None)))
    assert materialize(settings, dagster_instance, "a_h").success
    # The original lost the second row dated 2 (date > cursor); the (date, id) cursor keeps it.
    assert outputs(store, "a_h") == [(2, [0, 1, 2]), (4, [3, 4, 5])]


def test_strict_count_windows_wait_for_n_rows(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE=3))
    for s in range(7):
        put(store, "a_src", s)
    result = materialize(settings, dagster_instance, "a_h")
    assert outputs(store, "a_h") == [(2, [0, 1, 2]), (5, [3, 4, 5])]
    assert meta(result)["dataspace/waiting"] == "waiting for 3 source rows (STRICT): 1 so far"
    put(store, "a_src", 10)
    put(store, "a_src", 11)
    materialize(settings, dagster_instance, "a_h")
    assert outputs(store, "a_h")[-1] == (11, [6, 10, 11])


def test_non_strict_count_windows_take_what_is_there(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE='"3"', SOURCE_RANGE_STRICT="false"))
    for s in range(7):
        put(store, "a_src", s)
    materialize(settings, dagster_instance, "a_h")
    put(store, "a_src", 10)
    put(store, "a_src", 11)
    materialize(settings, dagster_instance, "a_h")
    assert outputs(store, "a_h") == [(2, [0, 1, 2]), (5, [3, 4, 5]), (6, [6]), (11, [10, 11])]


def test_time_windows_are_aligned_half_open_dated_at_the_end_with_markers(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE='"1m"', START='"2026-01-01T00:00:00Z"'))
    for s in (5, 59, 60, 61, 200):  # 60 starts the second window; 120..180 is empty
        put(store, "a_src", s)
    result = materialize(settings, dagster_instance, "a_h", partition="2026-01-01-00:03")
    assert result.success
    assert outputs(store, "a_h") == [(60, [5, 59]), (120, [60, 61]), (240, [200])]
    every = rows(store, "a_h")
    assert [(secs(r["date"]), r["location"] is None) for r in every] == [(60, False), (120, False), (180, True), (240, False)]
    assert every[2]["window_key"] == "t:2026-01-01T00:03:00Z" and every[2]["note"] == "empty window"
    # The marker is invisible to readers.
    assert store.count("a_h") == 3 and [secs(d.date) for d in store.after("a_h", at(0))] == [60, 120, 240]


def test_an_open_time_window_waits(write, settings, store) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE='"1h"'))
    put(store, "a_src", 10)
    harvester = _harvester(settings, "a_h")
    run = HarvesterRun(harvester, store, now=at(3600 + 30))  # the hour ended 30 s ago, no later row yet
    planned = run.next_window(None)
    assert planned.reason == "window [2026-01-01T00:00:00Z, 2026-01-01T01:00:00Z) is still open"
    put(store, "a_src", 3605)  # a row of the next window closes it
    assert run.next_window(None).end == at(3600)


def test_multiple_results_one_per_row_none_as_markers(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", path="harvesters.PerRow", SOURCE_RANGE=2, MULTIPLE_RESULTS="true"))
    for s in (0.1, 0.4, 0.7, 1.0):  # less than a second apart: one blob each (the original shared one)
        put(store, "a_src", s, value=int(s * 10))
    assert materialize(settings, dagster_instance, "a_h").success
    assert outputs(store, "a_h") == [(0.4, 4), (1.0, 10)]
    every = rows(store, "a_h")
    assert [(secs(r["date"]), r["location"] is None) for r in every] == [(0.1, True), (0.4, False), (0.7, True), (1.0, False)]
    assert len({r["location"] for r in every if r["location"]}) == 2


def test_multiple_results_of_the_wrong_length_fail_and_write_nothing(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", path="harvesters.PerRow", SOURCE_RANGE=2, MULTIPLE_RESULTS="true", short="true"))
    put(store, "a_src", 0, value=2)
    put(store, "a_src", 1, value=4)
    result = materialize(settings, dagster_instance, "a_h")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "returned 1 results for 2 source rows (MULTIPLE_RESULTS needs exactly one per row): nothing written" in (
        failure.step_failure_data.user_failure_data.description
    )
    assert rows(store, "a_h") == [] and store.blobs.keys("a_h/") == []


# ---------------------------------------------------------------- dependencies


def test_as_of_dependencies_with_limits_exclude_markers_and_equal_dates(write, settings, dagster_instance, store) -> None:
    """The observed table of the original: source at 10..13 s, dependencies strictly before each date."""
    write(
        source_toml("one") + source_toml("many")
        + harvester_toml("h", "src", DEPENDENCIES='["one", "many"]', DEPENDENCIES_LIMIT="[1, 3]")
    )
    for s in (10, 11, 12, 13):
        put(store, "a_src", s)
    for s in (5, 11):
        put(store, "a_one", s)
    for s in (0, 5, 7, 9, 12):
        put(store, "a_many", s)
    store.write_marker("a_many", at(9.5))
    assert materialize(settings, dagster_instance, "a_h").success
    seen = [(secs(d.date), d.json()["deps"]) for d in store.between("a_h", None, None)]
    assert seen == [
        (10, {"a_many": [9, 7, 5], "a_one": 5}),
        (11, {"a_many": [9, 7, 5], "a_one": 5}),
        (12, {"a_many": [9, 7, 5], "a_one": 11}),
        (13, {"a_many": [12, 9, 7], "a_one": 11}),
    ]


def test_a_required_dependency_without_data_waits_and_says_so(write, settings, dagster_instance, store) -> None:
    write(source_toml("dep") + harvester_toml("h", "src", DEPENDENCIES='["dep"]'))
    put(store, "a_src", 1)
    result = materialize(settings, dagster_instance, "a_h")
    assert result.success
    m = meta(result)
    assert m["dataspace/waiting"] == "waiting for required dependency a_dep, which has no data yet"
    assert m["dataspace/windows"] == 0 and rows(store, "a_h") == []
    (check,) = result.get_asset_check_evaluations()
    assert check.passed is False and check.metadata["reason"].value == m["dataspace/waiting"]


def test_a_required_dependency_that_starts_later_skips_earlier_rows(write, settings, dagster_instance, store) -> None:
    write(source_toml("dep") + harvester_toml("h", "src", DEPENDENCIES='["dep"]'))
    for s in (1, 2, 3, 4, 5):
        put(store, "a_src", s)
    put(store, "a_dep", 3)
    assert materialize(settings, dagster_instance, "a_h").success
    # Rows at or before the dependency's first item are skipped: no look-ahead, no permanent block.
    assert [(s, d["deps"]) for s, d in [(secs(x.date), x.json()) for x in store.between("a_h", None, None)]] == [
        (4, {"a_dep": 3}), (5, {"a_dep": 3})
    ]


def test_optional_dependencies_pass_none_or_empty_lists(write, settings, dagster_instance, store) -> None:
    write(source_toml("o") + harvester_toml(
        "h", "src", OPTIONAL_DEPENDENCIES='["o", "a.o"]', OPTIONAL_DEPENDENCIES_LIMIT="[1, 2]"
    ).replace('"a.o"', '"o2"') + source_toml("o2"))
    put(store, "a_src", 1)
    assert materialize(settings, dagster_instance, "a_h").success
    assert store.latest("a_h").json()["deps"] == {"a_o": None, "a_o2": []}


def test_self_dependencies_read_previous_outputs(write, settings, dagster_instance, store) -> None:
    write(
        harvester_toml("opt", "src", OPTIONAL_DEPENDENCIES='["opt"]')
        + harvester_toml("hist", "src", DEPENDENCIES='["hist"]', DEPENDENCIES_LIMIT="[2]")
        + harvester_toml("prev", "src", DEPENDENCIES='["src"]')
    )
    for s in (1, 2, 3):
        put(store, "a_src", s)
    for name in ("a_opt", "a_hist", "a_prev"):
        assert materialize(settings, dagster_instance, name).success
    opt = [d.json()["deps"]["a_opt"] is None for d in store.between("a_opt", None, None)]
    assert opt == [True, False, False]
    hist = [len(d.json()["deps"]["a_hist"]) for d in store.between("a_hist", None, None)]
    assert hist == [0, 1, 2]
    # A required dependency on its own source: the previous source row (the first row is skipped).
    assert [(secs(d.date), d.json()["deps"]) for d in store.between("a_prev", None, None)] == [
        (2, {"a_src": 1}), (3, {"a_src": 2})
    ]


def test_downstream_harvesters_never_see_markers(write, settings, dagster_instance, store) -> None:
    write(
        harvester_toml("per", "src", path="harvesters.PerRow", SOURCE_RANGE=1, MULTIPLE_RESULTS="true")
        + harvester_toml("down", "per")
    )
    for s, v in ((1, 1), (2, 2), (3, 3), (4, 4)):
        put(store, "a_src", s, value=v)
    assert materialize(settings, dagster_instance, "a_per").success
    assert materialize(settings, dagster_instance, "a_down").success
    assert outputs(store, "a_down") == [(2, 2), (4, 4)]


# ---------------------------------------------------------------- bounds, failures


def test_catch_up_is_bounded_per_run_and_continues(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", MAX_WINDOWS=3))
    for s in range(7):
        put(store, "a_src", s)
    first = meta(materialize(settings, dagster_instance, "a_h"))
    assert (first["dataspace/windows"], first["dataspace/backlog"], first["dataspace/lag_rows"]) == (3, True, 4)
    assert first["dataspace/cursor_before"] == "none (starts at the source's first row)"
    assert first["dataspace/cursor_after"].startswith("2026-01-01T00:00:02Z (source row 3)")
    second = meta(materialize(settings, dagster_instance, "a_h"))
    assert second["dataspace/cursor_before"] == first["dataspace/cursor_after"]
    materialize(settings, dagster_instance, "a_h")
    assert [s for s, _ in outputs(store, "a_h")] == list(range(7))


def test_a_raising_harvester_fails_naming_the_window_and_keeps_its_cursor(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", path="harvesters.Fails", RETRIES=1, bad=2))
    for s in (1, 2, 3):
        put(store, "a_src", s)
    result = materialize(settings, dagster_instance, "a_h")
    assert not result.success
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 1
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_failure_data.user_failure_data.description == (
        "harvester a_h (harvesters.Fails) failed on the window 2026-01-01T00:00:02Z .. 2026-01-01T00:00:02Z "
        "(1 source row(s)): ValueError: cannot parse the snapshot"
    )
    assert outputs(store, "a_h") == [(1, 1)]  # the window before stays; the cursor did not pass the bad one


def test_on_error_skip_records_the_error_in_a_marker(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", path="harvesters.Fails", ON_ERROR='"skip"', bad=2))
    for s in (1, 2, 3):
        put(store, "a_src", s)
    result = materialize(settings, dagster_instance, "a_h")
    assert result.success and meta(result)["dataspace/errors_skipped"] == 1
    assert outputs(store, "a_h") == [(1, 1), (3, 3)]
    marker = rows(store, "a_h")[1]
    assert marker["location"] is None and marker["note"] == "error: ValueError: cannot parse the snapshot"


def test_a_duplicate_window_is_impossible(write, settings, store) -> None:
    from dataspace_assets.errors import DataspaceError
    from dataspace_assets.storage.store import Output, write_window

    write(harvester_toml("h", "src"))
    write_window(store, "a_h", [Output(at(1), "n:1", 1, b"{}")])
    with pytest.raises(DataspaceError, match="window n:1 is already stored"):
        write_window(store, "a_h", [Output(at(1), "n:1", 1, b"{}")])
    assert len(rows(store, "a_h")) == 1 and len(store.blobs.keys("a_h/")) == 1


# ---------------------------------------------------------------- definitions


def test_harvester_assets_lineage_partitions_and_automation(write, settings) -> None:
    write(
        harvester_toml("hourly", "src", SOURCE_RANGE='"1h"')
        + harvester_toml("down", "hourly", DEPENDENCIES='["src"]', OPTIONAL_DEPENDENCIES='["down"]', SCHEDULE='"5m"')
        + harvester_toml("odd", "src", SOURCE_RANGE='"7m"')
    )
    defs = build_defs(settings)
    key = dg.AssetKey(["dataspace", "a_down"])
    spec = defs.resolve_assets_def(key).get_asset_spec(key)
    assert {d.asset_key for d in spec.deps} == {dg.AssetKey(["dataspace", "a_hourly"]), dg.AssetKey(["dataspace", "a_src"])}
    assert spec.group_name == "a" and spec.kinds == {"python", "blob"}
    assert spec.automation_condition.get_label() == "eager or SCHEDULE 5m"
    hourly = defs.resolve_assets_def(dg.AssetKey(["dataspace", "a_hourly"]))
    assert hourly.partitions_def.get_first_partition_key() == "2026-01-01-00:00"
    assert defs.resolve_assets_def(dg.AssetKey(["dataspace", "a_odd"])).partitions_def is None  # 7m is no cron
    assert defs.resolve_sensor_def("dataspace_harvester_backlog").default_status == dg.DefaultSensorStatus.RUNNING


def test_eager_automation_requests_the_harvester_after_a_new_source_item(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src"))
    defs = build_defs(settings)
    key = dg.AssetKey(["dataspace", "a_h"])
    first = dg.evaluate_automation_conditions(defs=defs, instance=dagster_instance)
    put(store, "a_src", 1)
    dagster_instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(["dataspace", "a_src"])))
    second = dg.evaluate_automation_conditions(defs=defs, instance=dagster_instance, cursor=first.cursor)
    assert key in {r.key for r in second.results if r.true_subset.size}


def _harvester(settings, name):
    from dataspace_assets.dataspace.config import dataspace_folder, load_config

    config = load_config(dataspace_folder(settings.configs_dir))
    assert not config.problems, config.problems
    return next(h for h in config.harvesters if h.full_name == name)


def test_time_window_lag_counts_rows_of_ended_windows(write, settings, store) -> None:
    write(harvester_toml("h", "src", SOURCE_RANGE='"1m"'))
    for s in (5, 65, 125):
        put(store, "a_src", s)
    run = HarvesterRun(_harvester(settings, "a_h"), store, now=at(130))
    assert run.lag(None) == (2, 120.0)
    assert timedelta(seconds=run.lag(None)[1]) == timedelta(minutes=2)


def test_the_automation_sensor_of_the_code_location_targets_every_harvester(project_settings) -> None:
    from dataspace_assets.definitions import build_definitions

    defs = build_definitions(project_settings)
    sensor = defs.resolve_sensor_def("dataspace_automation")
    graph = defs.resolve_asset_graph()
    targeted = sensor.asset_selection.resolve(graph)
    harvesters = {dg.AssetKey(["dataspace", f"example_air_quality_{n}"]) for n in ("hourly", "peaks", "alerts")}
    assert harvesters <= targeted
    assert all(graph.get(k).automation_condition is not None for k in harvesters)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_backlog_sensor_continues_a_bounded_catch_up(write, settings, dagster_instance, store) -> None:
    write(harvester_toml("h", "src", MAX_WINDOWS=2))
    for s in range(3):
        put(store, "a_src", s)
    defs = build_defs(settings)
    sensor = defs.resolve_sensor_def("dataspace_harvester_backlog")
    context = dg.build_sensor_context(instance=dagster_instance, definitions=defs)
    assert isinstance(sensor(context), dg.SkipReason)  # nothing ran yet
    first = meta(materialize(settings, dagster_instance, "a_h"))
    (request,) = sensor(dg.build_sensor_context(instance=dagster_instance, definitions=defs))
    assert request.run_key == f"a_h:{first['dataspace/cursor_after']}"
    assert request.asset_selection == [dg.AssetKey(["dataspace", "a_h"])]
    materialize(settings, dagster_instance, "a_h", tags=request.tags)
    assert isinstance(sensor(dg.build_sensor_context(instance=dagster_instance, definitions=defs)), dg.SkipReason)
    assert [s for s, _ in outputs(store, "a_h")] == [0, 1, 2]
