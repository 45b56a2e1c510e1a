"""Schedule strings and how each becomes a Dagster cron schedule or a sensor interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dataspace_assets.dataspace.schedules import (
    Daily,
    Period,
    ScheduleError,
    cron_step_seconds,
    parse_schedule,
    period_boundary_passed,
    plan,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("04:20", Daily(4, 20)),
        ("4:05", Daily(4, 5)),
        ("23:59:30", Daily(23, 59, 30)),
        ("00:00", Daily(0, 0)),
        ("20s", Period(20)),
        ("60s", Period(60)),
        ("1m", Period(60)),
        ("15m", Period(900)),
        ("2h", Period(7200)),
        ("7d", Period(604800)),
    ],
)
def test_parse(text, expected) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    "text",
    ["5min", "every 5 minutes", "0s", "05m", "1w", "m", "10", "", "24:00", "12:60", "12:00:60", "1:2", "-5m", " 5m",
     "5M", "1.5h", "12:00 "],
)
def test_rejects(text) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(text)


def test_rejects_non_strings() -> None:
    with pytest.raises(ScheduleError, match="^5 is not a string"):
        parse_schedule(5)


@pytest.mark.parametrize(
    ("text", "cron", "period", "sensor"),
    [
        ("04:20", "20 4 * * *", None, None),
        ("04:20:30", "20 4 * * *", None, None),
        ("1m", "* * * * *", None, None),
        ("60s", "* * * * *", None, None),
        ("5m", "*/5 * * * *", None, None),
        ("15m", "*/15 * * * *", None, None),
        ("7m", "* * * * *", 420, None),
        ("90s", "* * * * *", 90, None),
        ("1h", "0 * * * *", None, None),
        ("6h", "0 */6 * * *", None, None),
        ("5h", "0 * * * *", 18000, None),
        ("1d", "0 0 * * *", None, None),
        ("7d", "0 0 * * *", 604800, None),
        ("20s", None, None, 20),
        ("59s", None, None, 59),
    ],
)
def test_plan(text, cron, period, sensor) -> None:
    how = plan(parse_schedule(text))
    assert (how.cron, how.period_seconds, how.sensor_seconds, how.is_sensor) == (cron, period, sensor, cron is None)


@pytest.mark.parametrize("text", ["7m", "90s", "5h", "7d"])
def test_filtered_periods_fire_at_the_right_average_rate(text) -> None:
    how = plan(parse_schedule(text))
    step = cron_step_seconds(how.cron)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ticks = [start + timedelta(seconds=step * i) for i in range(1, 5001)]
    fired = sum(period_boundary_passed(t, t - timedelta(seconds=step), how.period_seconds) for t in ticks)
    expected = step * 5000 / how.period_seconds
    assert abs(fired - expected) <= 1


def test_str_forms() -> None:
    assert (str(Daily(4, 20)), str(Daily(4, 20, 5)), str(Period(600)), str(Period(90)), str(Period(172800))) == (
        "daily at 04:20", "daily at 04:20:05", "every 10m", "every 90s", "every 2d"
    )
