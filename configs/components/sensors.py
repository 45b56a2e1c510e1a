"""A simulated air-quality sensor feed: offline and deterministic, so the example deployment always runs."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import Any

from dataspace_assets.dataspace.components import Collector, Handler, Harvester


class SimulatedSensorFeed(Collector):
    """Readings of a simulated air-quality sensor network (deterministic for a given run time)."""

    def run(self) -> dict[str, Any]:
        stations = int(self.settings.get("stations", 3))
        seed = int(self.settings.get("seed", 0))
        moment = self.run_time
        # Seeded by the run time: the same tick always gives the same readings.
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


class HourlyAverage(Harvester):
    """Average PM2.5 over a window of sensor snapshots."""

    def run(self, source_data: Any, **dependencies: Any) -> dict[str, Any] | None:
        snapshots = source_data if isinstance(source_data, list) else [source_data]
        values = [r["pm25"] for item in snapshots for r in item.json()["readings"]]
        return {"pm25_mean": sum(values) / len(values)} if values else None


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
