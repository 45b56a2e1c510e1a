"""A simulated air-quality sensor feed: offline and deterministic, so the example deployment always runs."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from dataspace_assets.dataspace.components import Collector, Handler, Harvester


class SimulatedSensorFeed(Collector):
    """Readings of a simulated air-quality sensor network (deterministic for a given run time)."""

    def snapshot(self, moment: datetime) -> dict[str, Any]:
        """The readings of every station at `moment`."""
        stations = int(self.settings.get("stations", 3))
        seed = int(self.settings.get("seed", 0))
        # Seeded by the time: the same tick always gives the same readings.
        rng = random.Random(seed * 1_000_003 + int(moment.timestamp()))
        daily = math.sin(2 * math.pi * (moment.hour * 3600 + moment.minute * 60) / 86400)
        readings = [
            {
                "station": f"station-{index + 1}",
                "pm25": round(12 + 6 * daily + rng.uniform(-2, 2), 2),
                "no2": round(30 + 10 * daily + rng.uniform(-5, 5), 2),
                "temperature": round(11 + 5 * daily + rng.uniform(-1, 1), 2),
            }
            for index in range(stations)
        ]
        return {"time": moment.isoformat(), "city": self.settings.get("city", "Brussels"), "readings": readings}

    def run(self) -> dict[str, Any]:
        return self.snapshot(self.run_time)

    def history(self) -> Iterator[tuple[datetime, dict[str, Any]]]:
        """The `history_hours` before the first run, one snapshot every `history_step_minutes` (default 10)."""
        hours = int(self.settings.get("history_hours", 0))
        step = timedelta(minutes=int(self.settings.get("history_step_minutes", 10)))
        # Aligned to the step, so the simulated past looks like earlier scheduled ticks: hours * 60 / step items.
        # Rounded up on the exact time: truncating a run time just past a step (12:00:00.5) to whole
        # seconds would take in the step a day before and store one snapshot too many.
        seconds = step.total_seconds()
        start = (self.run_time - timedelta(hours=hours)).timestamp()
        first = datetime.fromtimestamp(math.ceil(start / seconds) * seconds, self.run_time.tzinfo)
        moment = first
        while moment < self.run_time:
            yield moment, self.snapshot(moment)
            moment += step


class HourlyAverage(Harvester):
    """Mean PM2.5 over a window of sensor snapshots (None for an empty window)."""

    def run(self, source_data: Any, **dependencies: Any) -> dict[str, Any] | None:
        snapshots = source_data if isinstance(source_data, list) else [source_data]
        values = [r["pm25"] for item in snapshots for r in item.json()["readings"]]
        if not values:
            return None
        return {"snapshots": len(snapshots), "pm25_mean": round(sum(values) / len(values), 3)}


class PeakTracker(Harvester):
    """The highest PM2.5 of a window of snapshots, and its change since the previous window (its own last output)."""

    def run(self, source_data: list, **dependencies: Any) -> dict[str, Any]:
        peak = max(r["pm25"] for item in source_data for r in item.json()["readings"])
        previous = dependencies.get(self.name)  # the optional self-dependency: None on the first window
        before = previous.json()["pm25_max"] if previous is not None else None
        return {
            "from": source_data[0].date.isoformat(),
            "to": source_data[-1].date.isoformat(),
            "pm25_max": peak,
            "change": None if before is None else round(peak - before, 2),
        }


class PeakAlert(Harvester):
    """An alert when a window's peak passes `threshold`; nothing (an invisible marker) otherwise."""

    def run(self, source_data: Any, **dependencies: Any) -> dict[str, Any] | None:
        peak = source_data.json()
        threshold = float(self.settings.get("threshold", 15))
        if peak["pm25_max"] <= threshold:
            return None
        return {"alert": "pm25", "at": peak["to"], "pm25_max": peak["pm25_max"], "threshold": threshold}


class LatestReadings(Handler):
    """The newest sensor snapshot, or the newest one between two Unix timestamps (seconds)."""

    def run(self, start_timestamp: int | None = None, end_timestamp: int | None = None) -> Any:
        source = "example_air_quality"
        if start_timestamp is None and end_timestamp is None:
            return self.reader.latest(source)  # a stored item is served as stored (None: 404)
        start = datetime.fromtimestamp(start_timestamp, UTC) if start_timestamp is not None else None
        end = datetime.fromtimestamp(end_timestamp, UTC) if end_timestamp is not None else None
        items = self.reader.between(source, start, end)
        return items[-1] if items else None
