"""Collectors as assets: materialized on a test instance, with their stored items, metadata and triggers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import dagster as dg
import pytest

from dataspace_assets.dataspace.definitions import build_defs
from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.store import DataStore
from dataspace_tests.dataspace.test_config import collector


def run(settings, instance, *names: str, tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    defs = build_defs(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    keys = [dg.AssetKey(["dataspace", n]) for n in names]
    return job.execute_in_process(instance=instance, asset_selection=keys, tags=tags or {}, raise_on_error=False)


@pytest.fixture
def store(tmp_settings):
    data_store = DataStore.from_settings(tmp_settings)
    yield data_store
    data_store.close()


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.get_asset_materialization_events()
    return event.materialization.metadata


def test_dict_result_is_stored_as_json_with_metadata(configs, tmp_settings, dagster_instance, store) -> None:
    configs.toml("meteo.toml", collector("wind", value='{ speed = 12, unit = "km/h" }'))
    result = run(tmp_settings, dagster_instance, "meteo_wind")
    assert result.success
    item = store.latest("meteo_wind")
    assert item.json() == {"speed": 12, "unit": "km/h"}
    assert item.content_type == "application/json"
    meta = metadata(result)
    assert meta["dagster/uri"].value == item.location
    assert meta["dataspace/hash"].value == item.hash == hashlib.md5(item.content).hexdigest()
    assert meta["dataspace/size"].value == item.size == len(item.content)
    assert meta["dataspace/date"].value == item.date.timestamp()
    assert meta["dataspace/stored"].value is True
    assert meta["preview"].value == '```json\n{\n  "speed": 12,\n  "unit": "km/h"\n}\n```'
    assert store.count("meteo_wind") == 1


def test_str_result_is_utf8_text(configs, tmp_settings, dagster_instance, store) -> None:
    configs.toml("a.toml", collector(value='"héllo"').replace('"json"', '"text"'))
    result = run(tmp_settings, dagster_instance, "a_feed")
    assert result.success
    item = store.latest("a_feed")
    assert (item.content, item.content_type) == ("héllo".encode(), "text/plain; charset=utf-8")
    assert metadata(result)["preview"].value == "```\nhéllo\n```"


def test_none_stores_nothing(configs, tmp_settings, dagster_instance, store) -> None:
    configs.toml("a.toml", collector().replace("tests.Echo", "tests.Nothing"))
    result = run(tmp_settings, dagster_instance, "a_feed")
    assert result.success
    meta = metadata(result)
    assert meta["dataspace/stored"].value is False
    assert meta["dataspace/note"].value == "the collector returned None: nothing stored"
    assert store.count("a_feed") == 0
    assert store.blobs.keys() == []


def test_raising_collector_fails_the_run_and_stores_nothing(configs, tmp_settings, dagster_instance, store) -> None:
    configs.toml("a.toml", collector("good", value='"kept"') + collector("feed", RETRIES=2).replace("tests.Echo", "tests.Boom"))
    assert run(tmp_settings, dagster_instance, "a_good").success
    before = (store.count("a_good"), store.blobs.keys())
    result = run(tmp_settings, dagster_instance, "a_feed")
    assert not result.success
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 2
    (failure,) = result.get_step_failure_events()
    assert "RuntimeError: upstream API answered 503" in failure.step_failure_data.error.to_string()
    assert (store.count("a_good"), store.blobs.keys()) == before
    assert store.count("a_feed") == 0
    # The failure is in the run history.
    runs = dagster_instance.get_runs()
    assert runs[0].status == dg.DagsterRunStatus.FAILURE


def test_unsupported_return_type_is_a_clear_error_without_retries(configs, tmp_settings, dagster_instance, store) -> None:
    configs.toml("a.toml", collector(RETRIES=3).replace("tests.Echo", "tests.Number"))
    result = run(tmp_settings, dagster_instance, "a_feed")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description == (
        "collector a_feed (tests.Number) returned a builtins.int; expected None, str, bytes, dict or list"
    )
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert store.count("a_feed") == 0 and store.blobs.keys() == []


def test_scheduled_time_is_the_item_date_and_run_time(configs, tmp_settings, dagster_instance, store) -> None:
    configs.toml("a.toml", collector().replace("tests.Echo", "tests.Clock"))
    tick = "2026-03-01T06:30:00+00:00"
    result = run(tmp_settings, dagster_instance, "a_feed", tags={"dagster/scheduled_execution_time": tick})
    assert result.success
    item = store.latest("a_feed")
    assert item.date == datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    assert item.json() == {"name": "a_feed", "run_time": tick}


def test_each_asset_runs_its_own_collector(configs, tmp_settings, dagster_instance, store) -> None:
    # Loop closures bind late: every asset must still run its own settings.
    configs.toml("a.toml", collector("one", value='"1"') + collector("two", value='"2"') + collector("three", value='"3"'))
    assert run(tmp_settings, dagster_instance, "a_one", "a_two", "a_three").success
    assert [store.latest(f"a_{n}").content for n in ("one", "two", "three")] == [b"1", b"2", b"3"]


def test_asset_spec(configs, tmp_settings) -> None:
    configs.toml("meteo.toml", collector("wind", POOL='"meteo_api"', RETRIES=2, RETRY_DELAY=7, DESCRIPTION='"Wind speed"'))
    defs = build_defs(tmp_settings)
    key = dg.AssetKey(["dataspace", "meteo_wind"])
    asset = defs.resolve_assets_def(key)
    spec = asset.get_asset_spec(key)
    assert (spec.group_name, spec.description, spec.kinds) == ("meteo", "Wind speed", {"python", "blob"})
    assert spec.metadata["dataspace/config"] == "dataspace/meteo.toml [collectors.wind]"
    assert asset.op.retry_policy == dg.RetryPolicy(max_retries=2, delay=7.0)
    assert asset.op.pool == "meteo_api"


def test_schedules_and_sensors(configs, tmp_settings) -> None:
    configs.toml("a.toml", collector("daily", SCHEDULE='"04:20"', TIMEZONE='"Europe/Brussels"')
                 + collector("often", SCHEDULE='"20s"')
                 + collector("odd", SCHEDULE='"7m"')
                 + collector("off", SCHEDULE='"5m"', SCHEDULE_ENABLED="false")
                 + collector("manual"))
    defs = build_defs(tmp_settings)
    daily = defs.resolve_schedule_def("dataspace_a_daily_schedule")
    assert (daily.cron_schedule, daily.execution_timezone, daily.default_status) == (
        "20 4 * * *", "Europe/Brussels", dg.DefaultScheduleStatus.RUNNING
    )
    off = defs.resolve_schedule_def("dataspace_a_off_schedule")
    assert (off.cron_schedule, off.default_status) == ("*/5 * * * *", dg.DefaultScheduleStatus.STOPPED)
    sensor = defs.resolve_sensor_def("dataspace_a_often_sensor")
    assert (sensor.minimum_interval_seconds, sensor.default_status) == (20, dg.DefaultSensorStatus.RUNNING)
    names = {s.name for s in defs.schedules} | {s.name for s in defs.sensors}
    assert names == {"dataspace_a_daily_schedule", "dataspace_a_odd_schedule", "dataspace_a_off_schedule",
                     "dataspace_a_often_sensor"}


def test_sensor_requests_one_run_per_slot(configs, tmp_settings, dagster_instance) -> None:
    configs.toml("a.toml", collector("often", SCHEDULE='"20s"'))
    sensor = build_defs(tmp_settings).resolve_sensor_def("dataspace_a_often_sensor")
    with dg.build_sensor_context(instance=dagster_instance) as context:
        (request,) = sensor.evaluate_tick(context).run_requests
    slot = int(request.run_key.split(":")[1])
    assert request.run_key.startswith("a_often:")
    assert request.tags["dataspace/run_time"] == datetime.fromtimestamp(slot * 20, UTC).isoformat()


def test_filtered_schedule_fires_on_period_boundaries(configs, tmp_settings) -> None:
    configs.toml("a.toml", collector("odd", SCHEDULE='"7m"'))
    schedule = build_defs(tmp_settings).resolve_schedule_def("dataspace_a_odd_schedule")

    def fires(moment: datetime) -> bool:
        context = dg.build_schedule_context(scheduled_execution_time=moment)
        return bool(schedule.evaluate_tick(context).run_requests)

    epoch_minutes = 7 * 4_142_857  # minutes since the epoch, a multiple of 7
    boundary = datetime.fromtimestamp(epoch_minutes * 60, UTC)
    assert fires(boundary)
    assert not fires(datetime.fromtimestamp((epoch_minutes + 1) * 60, UTC))
    assert fires(datetime.fromtimestamp((epoch_minutes + 7) * 60, UTC))


def test_bad_configs_fail_the_definitions_with_every_problem(configs, tmp_settings) -> None:
    configs.toml("a.toml", collector(SCHEDULE='"soon"') + collector("b").replace("tests.Echo", "tests.Missing"))
    with pytest.raises(DataspaceError) as info:
        build_defs(tmp_settings)
    assert str(info.value) == (
        f"2 problem(s) in the data space configs ({configs.folder.resolve()}):\n"
        "  dataspace/a.toml: [collectors.feed] SCHEDULE: 'soon' is not a schedule; expected HH:MM[:SS] (daily) "
        "or <N>s|m|h|d (every N seconds, minutes, hours or days)\n"
        "  dataspace/a.toml: [collectors.b] PATH: cannot import 'tests.Missing': "
        "module 'components.tests' has no attribute 'Missing'"
    )


def test_no_dataspace_folder_means_no_assets(tmp_settings) -> None:
    defs = build_defs(tmp_settings)
    assert list(defs.assets or []) == []


def test_broken_import_fails_only_its_own_collector(configs, tmp_settings, dagster_instance, store, capsys) -> None:
    # Classes are imported lazily, per component: one module that crashes at import time does not take the others down.
    configs.module("crashing", '"""Crashes."""\nraise RuntimeError("import-time failure")\nclass Thing:\n    """A thing."""\n')
    configs.toml("a.toml", collector("good", value='"kept"')
                 + collector("bad", RETRIES=3).replace("tests.Echo", "crashing.Thing"))
    defs = build_defs(tmp_settings)
    key = dg.AssetKey(["dataspace", "a_bad"])
    assert defs.resolve_assets_def(key).get_asset_spec(key).description == "A thing."
    assert run(tmp_settings, dagster_instance, "a_good").success
    result = run(tmp_settings, dagster_instance, "a_bad")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description == (
        "collector a_bad (dataspace/a.toml [collectors.bad]) PATH: "
        "cannot import 'crashing.Thing': RuntimeError: import-time failure"
    )
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert (store.count("a_good"), store.count("a_bad")) == (1, 0)
    # Validation still imports every class and reports it.
    from dataspace_assets.cli import main

    assert main(["config", "validate"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "dataspace/a.toml: [collectors.bad] PATH: cannot import 'crashing.Thing': RuntimeError: import-time failure"
    )


def test_type_error_inside_the_constructor_is_not_a_settings_mismatch(
    configs, tmp_settings, dagster_instance, store
) -> None:
    # It used to be reported as "does not take its settings" and never retried.
    configs.module(
        "picky",
        "from dataspace_assets.dataspace.components import Collector\n"
        "class Picky(Collector):\n"
        "    def __init__(self, **settings):\n"
        "        super().__init__(**settings)\n"
        "        self.port = int(settings.get('port'))\n"
        "    def run(self):\n"
        "        return 'x'\n",
    )
    configs.toml("a.toml", collector(RETRIES=1).replace("tests.Echo", "picky.Picky"))
    result = run(tmp_settings, dagster_instance, "a_feed")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data is None
    error = failure.step_failure_data.error
    while error.cause is not None:
        error = error.cause
    assert error.cls_name == "TypeError" and "int() argument must be" in error.message
    assert "does not take its settings" not in str(failure.step_failure_data.error.to_string())
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1
    assert store.count("a_feed") == 0


def test_class_that_does_not_take_its_settings(configs, tmp_settings, dagster_instance, store) -> None:
    configs.module("plain", "class Plain:\n    def run(self):\n        return 'x'\n")
    configs.toml("a.toml", collector(value='"v"', other="1").replace("tests.Echo", "plain.Plain"))
    result = run(tmp_settings, dagster_instance, "a_feed")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith(
        "collector a_feed (dataspace/a.toml [collectors.feed]): plain.Plain does not take its settings (other, value): "
    )
    assert store.count("a_feed") == 0


def test_sensor_switched_off_in_config(configs, tmp_settings) -> None:
    configs.toml("a.toml", collector("often", SCHEDULE='"5s"', SCHEDULE_ENABLED="false"))
    sensor = build_defs(tmp_settings).resolve_sensor_def("dataspace_a_often_sensor")
    assert (sensor.minimum_interval_seconds, sensor.default_status) == (5, dg.DefaultSensorStatus.STOPPED)


def test_default_timezone_setting_applies_to_schedules(configs, monkeypatch) -> None:
    from dataspace_assets.settings import load_settings

    monkeypatch.setenv("DATASPACE_TIMEZONE", "America/New_York")
    configs.toml("a.toml", collector("daily", SCHEDULE='"06:00"') + collector("own", SCHEDULE='"06:00"', TIMEZONE='"Asia/Tokyo"')
                 + collector("days", SCHEDULE='"1d"'))
    defs = build_defs(load_settings())
    zones = {n: defs.resolve_schedule_def(f"dataspace_a_{n}_schedule").execution_timezone for n in ("daily", "own", "days")}
    assert zones == {"daily": "America/New_York", "own": "Asia/Tokyo", "days": "America/New_York"}
    # Dagster's own cron iterator: the daily schedule fires at 06:00 New York time, 11:00 UTC in January.
    from dagster._utils.schedules import cron_string_iterator

    schedule = defs.resolve_schedule_def("dataspace_a_daily_schedule")
    start = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
    first = next(cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone))
    assert first.astimezone(UTC) == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


# ---------------------------------------------------------------- added by the mutation review


def test_materialization_metadata_names_the_item(configs, tmp_settings, dagster_instance, store) -> None:
    configs.toml("a.toml", collector(value='"first"').replace('"json"', '"text"'))
    assert run(tmp_settings, dagster_instance, "a_feed").success
    result = run(tmp_settings, dagster_instance, "a_feed")
    item = store.latest("a_feed")
    meta = metadata(result)
    assert item.id != store.first("a_feed").id
    assert meta["dataspace/item_id"].value == item.id
    assert meta["dataspace/content_type"].value == "text/plain; charset=utf-8"


def test_asset_spec_metadata_and_default_description(configs, tmp_settings) -> None:
    configs.toml("a.toml", collector("timed", SCHEDULE='"5m"').replace("tests.Echo", "tests.Nothing") + collector("manual"))
    defs = build_defs(tmp_settings)
    timed_key, manual_key = dg.AssetKey(["dataspace", "a_timed"]), dg.AssetKey(["dataspace", "a_manual"])
    timed = defs.resolve_assets_def(timed_key).get_asset_spec(timed_key)
    manual = defs.resolve_assets_def(manual_key).get_asset_spec(manual_key)
    assert timed.description == "Collector a_timed (tests.Nothing)."  # no DESCRIPTION, no docstring of its own
    assert dict(timed.metadata) == {
        "dataspace/component": "collector",
        "dataspace/path": "tests.Nothing",
        "dataspace/config": "dataspace/a.toml [collectors.timed]",
        "dataspace/data_type": "json",
        "dataspace/data_format": "geojson",
        "dataspace/schedule": "5m",
    }
    assert manual.metadata["dataspace/schedule"] == "none (materialize by hand)"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # The sensor's tag wins over Dagster's scheduled time.
        ({"dataspace/run_time": "2026-04-01T08:00:00+00:00", "dagster/scheduled_execution_time": "2026-03-01T06:30:00+00:00"},
         datetime(2026, 4, 1, 8, 0, tzinfo=UTC)),
        # A naive time is UTC; an aware one is converted.
        ({"dataspace/run_time": "2026-04-01T08:00:00"}, datetime(2026, 4, 1, 8, 0, tzinfo=UTC)),
        ({"dataspace/run_time": "2026-04-01T10:00:00+02:00"}, datetime(2026, 4, 1, 8, 0, tzinfo=UTC)),
        # An unreadable tag is skipped.
        ({"dataspace/run_time": "soon", "dagster/scheduled_execution_time": "2026-03-01T06:30:00+00:00"},
         datetime(2026, 3, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_run_time_tags(configs, tmp_settings, dagster_instance, store, tags, expected) -> None:
    configs.toml("a.toml", collector().replace("tests.Echo", "tests.Clock"))
    assert run(tmp_settings, dagster_instance, "a_feed", tags=tags).success
    item = store.latest("a_feed")
    assert item.date == expected
    assert item.json()["run_time"] == expected.isoformat()


def test_preview_truncates_long_items_and_shows_binary_as_hex() -> None:
    from dataspace_assets.dataspace.assets import PREVIEW_BYTES, preview

    def data(content_type: str):
        return type("D", (), {"content_type": content_type})()

    long_text = b"x" * (PREVIEW_BYTES + 5)
    assert preview(data("text/plain"), long_text) == f"```\n{'x' * PREVIEW_BYTES} …\n```"
    assert preview(data("text/plain"), b"x" * PREVIEW_BYTES) == f"```\n{'x' * PREVIEW_BYTES}\n```"
    assert preview(data("application/octet-stream"), b"\xff\x00\x10") == "```\nff 00 10\n```"
    long_json = ("[" + ", ".join(["1"] * PREVIEW_BYTES) + "]").encode()
    shown = preview(data("application/json"), long_json)
    assert shown.startswith("```json\n[\n  1,") and shown.endswith(" …\n```")
    assert len(shown) == len("```json\n") + PREVIEW_BYTES + len(" …\n```")
    # Invalid JSON falls back to the raw text.
    assert preview(data("application/json"), b"{oops") == "```\n{oops\n```"


def test_naive_run_time_tag_is_utc_whatever_the_local_zone(configs, tmp_settings, dagster_instance, store, monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        configs.toml("a.toml", collector().replace("tests.Echo", "tests.Clock"))
        assert run(tmp_settings, dagster_instance, "a_feed", tags={"dataspace/run_time": "2026-04-01T08:00:00"}).success
    finally:
        monkeypatch.undo()
        time.tzset()
    assert store.latest("a_feed").date == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
