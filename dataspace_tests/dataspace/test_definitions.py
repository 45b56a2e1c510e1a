"""The project's own configs/dataspace: the example collector is offline, deterministic and stores real items."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
import pytest

from dataspace_assets.dataspace.definitions import build_defs
from dataspace_assets.storage.store import DataStore

KEY = dg.AssetKey(["dataspace", "example_air_quality"])


def test_example_collector_and_schedule(project_settings) -> None:
    defs = build_defs(project_settings)
    spec = defs.resolve_assets_def(KEY).get_asset_spec(KEY)
    assert spec.group_name == "example"
    schedule = defs.resolve_schedule_def("dataspace_example_air_quality_schedule")
    assert (schedule.cron_schedule, schedule.default_status) == ("*/10 * * * *", dg.DefaultScheduleStatus.RUNNING)


def test_example_collector_is_deterministic_per_tick(project_settings, dagster_instance) -> None:
    job = build_defs(project_settings).resolve_implicit_global_asset_job_def()
    tick = {"dagster/scheduled_execution_time": "2026-06-01T12:00:00+00:00"}
    for _ in range(2):
        assert job.execute_in_process(instance=dagster_instance, asset_selection=[KEY], tags=tick).success
    store = DataStore.from_settings(project_settings)
    at_tick = [d for d in store.between("example_air_quality", None, None) if d.date.isoformat() == tick["dagster/scheduled_execution_time"]]
    first, second = at_tick
    assert first.hash == second.hash and first.location != second.location
    body = first.json()
    assert body["time"] == "2026-06-01T12:00:00+00:00" and len(body["readings"]) == 4
    store.close()


# On a step, just past one (CI once ran at xx:x0:00.4 and stored a tick too many) and just before the next.
@pytest.mark.parametrize(
    "tick", ["2026-06-01T12:00:00+00:00", "2026-06-01T12:00:00.500000+00:00", "2026-06-01T12:04:59.999+00:00"]
)
def test_example_history_is_one_day_of_ticks_whatever_the_run_time(project_settings, dagster_instance, tick) -> None:
    job = build_defs(project_settings).resolve_implicit_global_asset_job_def()
    tags = {"dagster/scheduled_execution_time": tick}
    assert job.execute_in_process(instance=dagster_instance, asset_selection=[KEY], tags=tags).success
    store = DataStore.from_settings(project_settings)
    dates = [d.date for d in store.between("example_air_quality", None, None)]
    store.close()
    # 144 past ticks, all in the day before the run and on the 10-minute grid, then the run's own reading.
    assert len(dates) == 24 * 6 + 1
    run_at = datetime.fromisoformat(tick)
    assert all(run_at - timedelta(days=1) <= d < run_at and d.timestamp() % 600 == 0 for d in dates[:-1])
    assert dates[-1] == run_at


def test_main_job_stores_a_real_item(project_settings, dagster_instance) -> None:
    defs = build_defs(project_settings)
    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    unpartitioned = [k for k in graph.materializable_asset_keys if graph.get(k).partitions_def is None]
    result = job.execute_in_process(instance=dagster_instance, asset_selection=unpartitioned)
    assert result.success
    store = DataStore.from_settings(project_settings)
    # The first run stores the simulated day of history (every 10 minutes) before the current reading.
    assert store.count("example_air_quality") == 24 * 6 + 1
    assert store.latest("example_air_quality").json()["city"] == "Brussels"
    store.close()
