"""The harvest schedule sensor: due sources get one run per (source, tick); partitions follow the catalogue."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg

from dataspace_assets.harvest import actions
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.definitions import build_defs
from dataspace_assets.harvest.sensors import SENSOR_NAME, due_run_requests, latest_tick
from dataspace_assets.harvest.sources_config import PARTITIONS_NAME
from dataspace_assets.settings import Settings

UTC = timezone.utc


def test_latest_tick() -> None:
    after = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert latest_tick("0 3 * * *", after, datetime(2024, 5, 1, 3, 0, 30, tzinfo=UTC)) == datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    assert latest_tick("0 3 * * *", after, datetime(2024, 5, 1, 3, 0, tzinfo=UTC)) == datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    assert latest_tick("0 3 * * *", after, datetime(2024, 5, 1, 2, 59, tzinfo=UTC)) is None
    # several missed ticks collapse into the latest one
    assert latest_tick("*/10 * * * *", after, datetime(2024, 5, 1, 2, 35, tzinfo=UTC)) == datetime(2024, 5, 1, 2, 30, tzinfo=UTC)
    # the schedule is read in the deployment's time zone
    assert latest_tick("0 3 * * *", after, datetime(2024, 5, 1, 1, 0, 30, tzinfo=UTC), "Europe/Paris") is None
    paris = latest_tick("0 3 * * *", datetime(2024, 5, 1, 0, 0, tzinfo=UTC), datetime(2024, 5, 1, 1, 0, 30, tzinfo=UTC), "Europe/Paris")
    assert paris == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)


def test_a_tick_seen_in_its_first_second_is_the_whole_minute_and_is_not_due_again() -> None:
    first = datetime(2024, 5, 1, 3, 0, 0, 793355, tzinfo=UTC)
    assert latest_tick("* * * * *", first - timedelta(minutes=1), first) == datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    # the next evaluation starts from the first one's time, still in the same second
    assert latest_tick("* * * * *", first, first + timedelta(microseconds=100_000)) is None


def test_only_accepted_active_live_scheduled_sources_are_due(catalog: Catalog) -> None:
    def create(name: str, **kwargs):
        return actions.create_source(
            catalog, backend="factory", url=f"http://{name}.test/", name=name, schedule="0 * * * *", **kwargs
        )

    due = create("due", validation_state="accepted")
    create("pending")
    create("inactive", validation_state="accepted", active=False)
    gone = create("gone", validation_state="accepted")
    actions.delete_source(catalog, gone.id)
    create("manual", validation_state="accepted")
    catalog.update_source(catalog.get_source("manual").id, schedule=None)
    now = datetime(2024, 5, 1, 3, 0, 10, tzinfo=UTC)
    requests = due_run_requests(catalog.list_sources(deleted=None), now - timedelta(minutes=1), now)
    assert [(r.partition_key, r.run_key) for r in requests] == [("due", f"{due.id}:2024-05-01T03:00:00+00:00")]
    assert requests[0].tags["dataspace/harvest-domain"] == "due.test"
    assert requests[0].tags["dataspace/harvest-source"] == "due"


def test_sensor_requests_runs_adds_partitions_and_moves_its_cursor(
    tmp_settings: Settings, dagster_instance: dg.DagsterInstance, plugin_path: Path
) -> None:
    catalog = Catalog.from_settings(tmp_settings)
    every_minute = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Portal", schedule="* * * * *",
        validation_state="accepted",
    )
    pending = actions.create_source(catalog, backend="factory", url="http://other.test/", name="Other")
    # "purged-source" is gone; a key that is a source id comes from an instance older than slug partitions
    dagster_instance.add_dynamic_partitions(PARTITIONS_NAME, ["purged-source", every_minute.id])
    (tmp_settings.configs_dir / "harvest").mkdir()
    (tmp_settings.configs_dir / "harvest" / "d.toml").write_text(
        "[[sources]]\nname = 'Declared'\nbackend = 'factory'\nurl = 'http://declared.test/'\n"
    )
    defs = build_defs(tmp_settings)
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    long_ago = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    context = dg.build_sensor_context(
        instance=dagster_instance, cursor=json.dumps({"last": long_ago}), definitions=defs
    )
    result = sensor.evaluate_tick(context)
    declared = catalog.get_source("declared")
    assert declared is not None and declared.validation_state == "accepted"
    assert [r.partition_key for r in result.run_requests] == ["portal"]
    assert result.run_requests[0].run_key.startswith(f"{every_minute.id}:")
    added = [r for r in result.dynamic_partitions_requests if isinstance(r, dg.AddDynamicPartitionsRequest)]
    deleted = [r for r in result.dynamic_partitions_requests if isinstance(r, dg.DeleteDynamicPartitionsRequest)]
    assert set(added[0].partition_keys) == {"portal", "declared"}
    assert pending.slug not in added[0].partition_keys  # not yet accepted: not a partition
    assert sorted(deleted[0].partition_keys) == sorted(["purged-source", every_minute.id])  # migrated to the slug
    [observation] = result.asset_events  # catalog/sources, every source with its state
    rows = {r.data["slug"]: r.data["validation"] for r in observation.metadata["sources"].value.records}
    assert rows == {"portal": "accepted", "other": "pending", "declared": "accepted"}
    cursor = json.loads(result.cursor)
    assert datetime.fromisoformat(cursor["last"]) > datetime.fromisoformat(long_ago)

    # evaluated again from its own cursor within the same minute: the tick is not requested twice
    again = sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, cursor=result.cursor, definitions=defs)
    )
    assert again.asset_events == []  # the sources table did not change: not observed again
    now = datetime.now(UTC)
    if now.replace(second=0, microsecond=0) <= datetime.fromisoformat(cursor["last"]):
        assert again.run_requests == []
    else:  # the minute turned between both evaluations: a new tick, a new run key
        assert again.run_requests[0].run_key != result.run_requests[0].run_key


def test_a_bad_declaration_is_reported_without_stopping_the_schedules(
    tmp_settings: Settings, dagster_instance: dg.DagsterInstance, plugin_path: Path
) -> None:
    catalog = Catalog.from_settings(tmp_settings)
    due = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Portal", schedule="* * * * *",
        validation_state="accepted",
    )
    (tmp_settings.configs_dir / "harvest").mkdir()
    bad = tmp_settings.configs_dir / "harvest" / "bad.toml"
    bad.write_text("[[sources]]\nname = 'Bad'\nurl = 'http://bad.test/'\n")
    defs = build_defs(tmp_settings)
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    long_ago = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    result = sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, cursor=json.dumps({"last": long_ago}), definitions=defs)
    )
    assert [r.partition_key for r in result.run_requests] == ["portal"]

    due_never = catalog.update_source(due.id, schedule=None)
    assert due_never.schedule is None
    result = sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, cursor=json.dumps({"last": long_ago}), definitions=defs)
    )
    assert result.run_requests == []
    assert result.skip_message == f"configs/harvest not synced: {bad}: sources[0].backend is required"


def test_a_launch_request_becomes_one_run_request(
    tmp_settings: Settings, dagster_instance: dg.DagsterInstance, plugin_path: Path
) -> None:
    catalog = Catalog.from_settings(tmp_settings)
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Portal", validation_state="accepted"
    )
    number = catalog.request_launch(source.id, max_items=3)
    defs = build_defs(tmp_settings)
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=dagster_instance, definitions=defs))
    [request] = result.run_requests
    assert request.partition_key == "portal" and request.run_key.startswith(f"launch:{source.id}:{number}:")
    assert request.tags["dataspace/harvest-max-items"] == "3" and request.tags["dagster/max_retries"] == "0"
    again = sensor.evaluate_tick(dg.build_sensor_context(instance=dagster_instance, cursor=result.cursor, definitions=defs))
    assert again.run_requests == []  # taken once
