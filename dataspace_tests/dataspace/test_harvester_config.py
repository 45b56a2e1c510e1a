"""Harvester keys of the TOML configs: self-dependencies, MAX_WINDOWS, ON_ERROR, START."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dataspace_tests.dataspace.test_config import collector, harvester

F = "dataspace/a.toml"

# The dependency shapes of AITwin's stib.toml (its only real harvester config): a harvester reading its own
# previous outputs as an optional dependency (limit 10), windows of 2/20/30 rows, STRICT, MULTIPLE_RESULTS.
STIB_LIKE = """
[collectors.vehicle_position]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "json"
SCHEDULE = "20s"

[harvesters.vehicle_identify]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "json"
SOURCE = "vehicle_position"
SOURCE_RANGE = 2
SOURCE_RANGE_STRICT = true
MULTIPLE_RESULTS = true
OPTIONAL_DEPENDENCIES = ["vehicle_identify"]
OPTIONAL_DEPENDENCIES_LIMIT = [10]

[harvesters.vehicle_speed]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "json"
SOURCE = "vehicle_identify"
SOURCE_RANGE = 20
DEPENDENCIES = ["vehicle_speed", "vehicle_position"]
DEPENDENCIES_LIMIT = [2, 1]

[harvesters.aggregated_speed]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "json"
SOURCE = "vehicle_speed"
SOURCE_RANGE = 30
SOURCE_RANGE_STRICT = false
"""


def test_self_dependencies_as_aitwin_uses_them_are_valid(configs) -> None:
    configs.toml("stib.toml", STIB_LIKE)
    config = configs.load()
    assert config.problems == []
    identify = next(h for h in config.harvesters if h.full_name == "stib_vehicle_identify")
    assert identify.optional_dependencies == ["stib_vehicle_identify"]


def test_a_required_limit_1_self_dependency_is_refused_clearly(configs) -> None:
    configs.toml("a.toml", collector("src") + harvester("h", "src", DEPENDENCIES='["h"]'))
    assert configs.problems() == [
        f"{F}: [harvesters.h] DEPENDENCIES: a_h depends on itself with limit 1, so it would never run its first "
        "window: use OPTIONAL_DEPENDENCIES (None on the first window) or a limit of 2 or more (a list)"
    ]


def test_a_cycle_through_another_harvester_is_still_refused(configs) -> None:
    configs.toml("a.toml", collector("src") + harvester("x", "src", OPTIONAL_DEPENDENCIES='["x", "y"]') + harvester("y", "x"))
    assert configs.problems() == [f"{F}: [harvesters.x] OPTIONAL_DEPENDENCIES: dependency cycle a_x -> a_y -> a_x"]


def test_harvester_run_keys_and_defaults(configs) -> None:
    configs.toml("a.toml", collector("src") + harvester("h", "src") + harvester(
        "t", "src", SOURCE_RANGE='"1h"', START="2026-03-01T00:00:00+01:00", MAX_WINDOWS=20, ON_ERROR='"skip"'
    ))
    config = configs.load()
    assert config.problems == []
    plain, timed = config.harvesters
    assert (plain.max_windows, plain.on_error, plain.start) == (500, "fail", None)
    assert (timed.max_windows, timed.on_error, timed.start) == (20, "skip", datetime(2026, 2, 28, 23, tzinfo=UTC))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"MAX_WINDOWS": 0}, "MAX_WINDOWS: must be 1 or more, got 0"),
        ({"MAX_WINDOWS": '"5"'}, "MAX_WINDOWS: expected an integer, got string '5'"),
        ({"ON_ERROR": '"ignore"'}, "ON_ERROR: expected one of 'fail', 'skip', got string 'ignore'"),
        ({"SOURCE_RANGE": '"1h"', "START": '"yesterday"'},
         "START: expected a date-time like 2026-01-01T00:00:00Z, got string 'yesterday'"),
        ({"START": "2026-01-01T00:00:00Z"}, 'START: applies to time windows only (SOURCE_RANGE = "<N>s|m|h|d")'),
    ],
)
def test_harvester_run_key_problems(configs, extra, expected) -> None:
    configs.toml("a.toml", collector("src") + harvester("h", "src", **extra))
    assert configs.problems() == [f"{F}: [harvesters.h] {expected}"]


@pytest.mark.parametrize(
    ("schedule", "warn", "fail"),
    [('"10m"', 900, 1260), ('"2s"', 60, 120), ('"04:20"', 129600, 172860)],
)
def test_collector_freshness_is_derived_from_its_schedule(configs, tmp_settings, schedule, warn, fail) -> None:
    import dagster as dg

    from dataspace_assets.dataspace.definitions import build_defs

    configs.toml("a.toml", collector("feed", SCHEDULE=schedule) + collector("manual") + collector("off", SCHEDULE=schedule, SCHEDULE_ENABLED="false"))
    defs = build_defs(tmp_settings)

    def policy(name):
        key = dg.AssetKey(["dataspace", name])
        return defs.resolve_assets_def(key).get_asset_spec(key).freshness_policy

    found = policy("a_feed")
    assert (found.warn_window.to_timedelta().total_seconds(), found.fail_window.to_timedelta().total_seconds()) == (warn, fail)
    assert policy("a_manual") is None and policy("a_off") is None
