"""The `PARQUETIZE = { BATCH, GROUPS, SCHEMA, START, RECORDS }` key of a component, checked into a plan of levels.

Level 0 is the BATCH level (files made from the component's snapshots); each GROUP adds a coarser level made
from the files of the level below. Every level is a calendar-aligned window in UTC, so it can be a Dagster
time-window partition: minutes that divide an hour, hours that divide a day, one day, one week (Monday).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dataspace_assets.dataspace.config import show_value, utc_moment

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^([1-9]\d*)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RECORDS = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")


class PlanError(ValueError):
    """A PARQUETIZE value that cannot be run; the message names the entry."""


@dataclass(frozen=True)
class Level:
    """One level of a component's Parquet files: its window and the key columns it splits files by."""

    label: str  # as written in the config, e.g. "1h"
    seconds: int
    keys: tuple[str, ...] = ()
    source: int | None = None  # index of the level it is made from; None for the batch level

    @property
    def cron(self) -> str:
        """The cron schedule whose ticks are this level's window boundaries."""
        return window_cron(self.seconds)

    @property
    def partition_format(self) -> str:
        """Partition keys: a day or a week by date, shorter windows by minute."""
        return "%Y-%m-%d" if self.seconds >= 86400 else "%Y-%m-%d-%H:%M"


@dataclass(frozen=True)
class ParquetPlan:
    """What a component's PARQUETIZE asks for."""

    levels: tuple[Level, ...]
    schema: dict[str, Any]
    start: datetime  # the first batch window (a partition before it does not exist)
    records: str | None = None  # dotted path to the list of records inside an object snapshot

    @property
    def batch(self) -> Level:
        return self.levels[0]

    def level(self, label: str) -> Level:
        """The level written `label` in the config."""
        return next(level for level in self.levels if level.label == label)


def duration_seconds(text: Any, entry: str) -> int:
    """`<N>s|m|h|d|w` in seconds."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise PlanError(f"{entry} expected a duration <N>s|m|h|d|w, got {show_value(text)}")
    return int(match[1]) * _UNIT[match[2]]


def window_cron(seconds: int) -> str:
    """The cron schedule of a calendar-aligned window of `seconds`; PlanError when there is none."""
    if seconds == 604800:
        return "0 0 * * 1"
    if seconds == 86400:
        return "0 0 * * *"
    if seconds % 3600 == 0 and 86400 % seconds == 0:
        hours = seconds // 3600
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    if seconds % 60 == 0 and 3600 % seconds == 0:
        minutes = seconds // 60
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    raise PlanError(
        f"{_human(seconds)} is not a calendar-aligned window: use minutes that divide an hour, "
        "hours that divide a day, 1d or 1w"
    )


def floor_window(moment: datetime, seconds: int) -> datetime:
    """The start of the level window holding `moment` (UTC; weeks start on Monday)."""
    moment = moment.astimezone(UTC)
    if seconds == 604800:
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=day.weekday())
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((moment - midnight).total_seconds())
    return midnight + timedelta(seconds=elapsed - elapsed % seconds)


def parse_plan(value: Any) -> ParquetPlan:
    """Check a PARQUETIZE value whole and return its plan; the first problem raises PlanError."""
    if not isinstance(value, dict):
        raise PlanError(f"expected an inline table {{ BATCH, GROUPS, SCHEMA }}, got {show_value(value)}")
    unknown = sorted(set(value) - {"BATCH", "GROUPS", "SCHEMA", "START", "RECORDS"})
    if unknown:
        raise PlanError(f"unknown entry {unknown[0]!r} (expected BATCH, GROUPS, SCHEMA, START, RECORDS)")
    if "BATCH" not in value:
        raise PlanError("BATCH is required")
    levels = [_level("BATCH", value["BATCH"], (), None)]
    groups = value.get("GROUPS", [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise PlanError(f"GROUPS expected a list of tables {{ GROUP, KEYS }}, got {show_value(groups)}")
    for number, group in enumerate(groups, start=1):
        entry = f"GROUPS[{number}]"
        extra = sorted(set(group) - {"GROUP", "KEYS"})
        if extra:
            raise PlanError(f"{entry}: unknown entry {extra[0]!r} (expected GROUP, KEYS)")
        if "GROUP" not in group:
            raise PlanError(f"{entry}: every group needs a GROUP duration")
        keys = group.get("KEYS", [])
        if not isinstance(keys, list) or not keys and "KEYS" in group or not all(isinstance(k, str) and k for k in keys):
            raise PlanError(f"{entry}: KEYS expected a non-empty list of column names, got {show_value(keys)}")
        if len(set(keys)) != len(keys):
            raise PlanError(f"{entry}: KEYS names a column twice: {keys}")
        # A level is made from the nearest level below it that splits nothing: the files a roll-up replaces.
        source = max(i for i, level in enumerate(levels) if not level.keys)
        if not keys and any(level.keys for level in levels):
            raise PlanError(
                f"{entry}: a GROUP without KEYS cannot follow a GROUP with KEYS "
                "(it would remove the files the keyed level is made from)"
            )
        level = _level(f"{entry} GROUP", group["GROUP"], tuple(keys), source)
        below = levels[-1]
        if level.seconds <= below.seconds or level.seconds % below.seconds:
            raise PlanError(
                f"{entry}: GROUP {level.label} must be a whole multiple of the level below it ({below.label})"
            )
        if any(existing.label == level.label for existing in levels):
            raise PlanError(f"{entry}: GROUP {level.label} is already a level")
        levels.append(level)
    schema = value.get("SCHEMA", {})
    if not isinstance(schema, dict):
        raise PlanError(f"SCHEMA expected a table (a JSON Schema), got {show_value(schema)}")
    _check_schema(schema)
    records = value.get("RECORDS")
    if records is not None and (not isinstance(records, str) or not _RECORDS.match(records)):
        raise PlanError(f"RECORDS expected a dotted field path such as \"readings\", got {show_value(records)}")
    return ParquetPlan(tuple(levels), schema, _start(value.get("START")), records)


def _level(entry: str, text: Any, keys: tuple[str, ...], source: int | None) -> Level:
    seconds = duration_seconds(text, entry)
    try:
        window_cron(seconds)
    except PlanError as exc:
        raise PlanError(f"{entry} {text}: {exc}") from None
    return Level(text, seconds, keys, source)


def _start(value: Any) -> datetime:
    if value is None:
        return DEFAULT_START
    moment = utc_moment(value)
    if moment is None:
        raise PlanError(f"START expected an ISO date or date-time, got {show_value(value)}")
    return moment


def _check_schema(schema: dict[str, Any]) -> None:
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        raise PlanError(f"SCHEMA is not a valid JSON Schema at {where}: {exc.message}") from None


def _human(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
