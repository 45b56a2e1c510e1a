"""Schedule strings of the TOML configs (`HH:MM[:SS]` daily, `<N>s|m|h|d` periods) and their Dagster form.

A daily time or a period that divides an hour or a day becomes a plain cron schedule. Other periods of a
minute or more tick on a coarser cron and only fire when a period boundary (counted from the Unix epoch)
passed since the previous tick. Sub-minute periods cannot be cron: they become a sensor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_DAILY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_PERIOD = re.compile(r"^([1-9]\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

EXPECTED = "expected HH:MM[:SS] (daily) or <N>s|m|h|d (every N seconds, minutes, hours or days)"


class ScheduleError(ValueError):
    """A schedule string we do not understand."""


@dataclass(frozen=True)
class Daily:
    """Every day at a wall-clock time of the schedule's timezone."""

    hour: int
    minute: int
    second: int = 0

    def __str__(self) -> str:
        return f"daily at {self.hour:02d}:{self.minute:02d}" + (f":{self.second:02d}" if self.second else "")


@dataclass(frozen=True)
class Period:
    """Every N seconds."""

    seconds: int

    def __str__(self) -> str:
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.seconds % size == 0:
                return f"every {self.seconds // size}{unit}"
        return f"every {self.seconds}s"


Schedule = Daily | Period


def parse_schedule(text: str) -> Schedule:
    """Parse a schedule string; anything but the two documented forms is refused."""
    if not isinstance(text, str):
        raise ScheduleError(f"{text!r} is not a string; {EXPECTED}")
    if match := _DAILY.match(text):
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ScheduleError(f"{text!r} is not a time of day; {EXPECTED}")
        return Daily(hour, minute, second)
    if match := _PERIOD.match(text):
        return Period(int(match[1]) * _UNIT_SECONDS[match[2]])
    raise ScheduleError(f"{text!r} is not a schedule; {EXPECTED}")


@dataclass(frozen=True)
class Plan:
    """How Dagster runs a schedule: a cron string (maybe filtered by period) or a sensor interval."""

    cron: str | None  # None: a sensor ticking every `sensor_seconds`
    period_seconds: int | None = None  # set when the cron ticks more often than the period
    sensor_seconds: int | None = None

    @property
    def is_sensor(self) -> bool:
        return self.cron is None


def plan(schedule: Schedule) -> Plan:
    """The Dagster form of a schedule."""
    if isinstance(schedule, Daily):
        # Cron has minute resolution: a daily HH:MM:SS fires at HH:MM.
        return Plan(cron=f"{schedule.minute} {schedule.hour} * * *")
    seconds = schedule.seconds
    if seconds < 60:
        return Plan(cron=None, sensor_seconds=seconds)
    if seconds % 86400 == 0:
        return Plan(cron="0 0 * * *", period_seconds=None if seconds == 86400 else seconds)
    if seconds % 3600 == 0:
        hours = seconds // 3600
        if 24 % hours == 0:
            return Plan(cron="0 * * * *" if hours == 1 else f"0 */{hours} * * *")
        return Plan(cron="0 * * * *", period_seconds=seconds)
    if seconds % 60 == 0:
        minutes = seconds // 60
        if 60 % minutes == 0:
            return Plan(cron="* * * * *" if minutes == 1 else f"*/{minutes} * * * *")
    return Plan(cron="* * * * *", period_seconds=seconds)


def period_boundary_passed(tick: datetime, previous_tick: datetime, period_seconds: int) -> bool:
    """Whether a multiple of the period (counted from the epoch) lies in (previous_tick, tick]."""
    return int(tick.timestamp()) // period_seconds != int(previous_tick.timestamp()) // period_seconds


def cron_step_seconds(cron: str) -> int:
    """The tick spacing of the coarse crons `plan` uses for filtered periods."""
    return {"* * * * *": 60, "0 * * * *": 3600, "0 0 * * *": 86400}[cron]
