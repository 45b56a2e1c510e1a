"""Harvester windows: which source rows one harvester call sees, where its output is dated, and its key.

* no SOURCE_RANGE (or 1): one row per window, the output dated at that row;
* `SOURCE_RANGE = N`: the next N rows after the cursor (STRICT waits for N, otherwise 1..N as present),
  the output dated at the window's last row;
* `SOURCE_RANGE = "<N>s|m|h|d"`: tumbling windows aligned to the Unix epoch in UTC, half-open
  `[start, end)`, the output dated at `end`; an empty window gives a marker.

Every stored row carries a *window key* (unique per harvester table): `n:<last source id>` for row
windows, `t:<end>` for time windows, and `<window key>/<source id>` for each item of MULTIPLE_RESULTS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataspace_assets.dataspace.config import HarvesterConfig
    from dataspace_assets.storage.store import Cursor, Data

_KEY_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class WindowSpec:
    """The window rule of one harvester."""

    rows: int | None  # rows per window (1 when SOURCE_RANGE is absent); None for time windows
    seconds: int | None  # time windows
    strict: bool = True
    multiple: bool = False

    @classmethod
    def of(cls, harvester: HarvesterConfig) -> WindowSpec:
        if harvester.source_range_seconds:
            return cls(None, harvester.source_range_seconds, harvester.source_range_strict, harvester.multiple_results)
        return cls(harvester.source_range or 1, None, harvester.source_range_strict, harvester.multiple_results)

    @property
    def is_time(self) -> bool:
        return self.seconds is not None

    @property
    def single(self) -> bool:
        """Whether `source_data` is one Data (a one-row window without MULTIPLE_RESULTS) rather than a list."""
        return self.rows == 1 and not self.multiple

    def describe(self) -> str:
        if self.seconds is not None:
            return f"time windows of {period_text(self.seconds)} (aligned, UTC)"
        if self.rows == 1:
            return "one source row per window"
        return f"{self.rows} source rows per window ({'strict' if self.strict else 'up to'})"


@dataclass
class Window:
    """One window ready to be derived."""

    key: str
    rows: list[Data]
    date: datetime  # the storage date: last row (row windows) or end (time windows)
    start: datetime | None = None  # time windows only
    end: datetime | None = None
    replaces: bool = False  # a re-derivation of a stored window (its old rows go in the same transaction)
    notes: list[str] = field(default_factory=list)

    def span(self) -> str:
        """The window's first and last dates, for messages."""
        if self.start is not None and self.end is not None:
            return f"[{iso(self.start)}, {iso(self.end)})"
        return f"{iso(self.rows[0].date)} .. {iso(self.rows[-1].date)}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def period_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def floor_time(moment: datetime, seconds: int) -> datetime:
    """The start of the epoch-aligned window holding `moment`."""
    stamp = int(moment.astimezone(UTC).timestamp() // seconds) * seconds
    return datetime.fromtimestamp(stamp, UTC)


def ceil_time(moment: datetime, seconds: int) -> datetime:
    """The first window boundary at or after `moment`."""
    start = floor_time(moment, seconds)
    return start if start == moment.astimezone(UTC) else start + timedelta(seconds=seconds)


def row_key(last_id: int) -> str:
    return f"n:{last_id}"


def time_key(end: datetime) -> str:
    return f"t:{end.astimezone(UTC).strftime(_KEY_TIME)}"


def item_key(window_key: str, source_id: int) -> str:
    """The key of one MULTIPLE_RESULTS item inside its window."""
    return f"{window_key}/{source_id}"


def time_window_end(key: str | None) -> datetime | None:
    """The end of the time window a stored key belongs to (None for other keys)."""
    if not key or not key.startswith("t:"):
        return None
    try:
        return datetime.strptime(key[2:].split("/", 1)[0], _KEY_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def next_time_start(cursor: Cursor | None, seconds: int) -> datetime | None:
    """Where the next time window starts after the harvester's newest row (None: it has none)."""
    if cursor is None:
        return None
    end = time_window_end(cursor.window_key)
    if end is not None:
        return end
    # A row of another window kind (SOURCE_RANGE changed) or an older release: start after its date.
    return floor_time(cursor.date, seconds) + timedelta(seconds=seconds)


def partition_cron(seconds: int) -> str | None:
    """The cron of a time window Dagster can partition by (None: not expressible as one cron)."""
    if seconds == 86400:
        return "0 0 * * *"
    if seconds % 3600 == 0 and seconds < 86400 and 24 % (seconds // 3600) == 0:
        hours = seconds // 3600
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    if seconds % 60 == 0 and seconds < 3600 and 60 % (seconds // 60) == 0:
        minutes = seconds // 60
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    return None


def partition_format(seconds: int) -> str:
    """Partition keys: a date for daily windows, a date and minute otherwise."""
    return "%Y-%m-%d" if seconds % 86400 == 0 else "%Y-%m-%d-%H:%M"
