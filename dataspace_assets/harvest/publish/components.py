"""What the catalogue publishes of the data space: a neutral description of collectors, harvesters and twin outputs.

The harvest pillar never imports the other pillars: the top-level `definitions.py` builds these from the
data-space TOML configs and the DeltaTwin manifests and hands them to `catalog/dcat`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

KINDS = ("collector", "harvester", "twin-output")


@dataclass(frozen=True)
class PublishedFile:
    """One Parquet file of a component (a level's window), as it is published: one dcat:Distribution."""

    route: str  # relative to the server root
    level: str  # "1h", "1d", ...
    start: datetime
    end: datetime
    byte_size: int
    rows: int = 0
    keys: dict[str, str] = field(default_factory=dict)  # the key combination of a split level
    sha256: str | None = None  # hex; None for a file recorded before checksums were kept

    def payload(self) -> dict:
        """As stored in the catalogue database (JSON)."""
        return {**asdict(self), "start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_payload(cls, payload: dict) -> "PublishedFile":
        """A stored file back."""
        return cls(**{**payload, "start": datetime.fromisoformat(payload["start"]),
                      "end": datetime.fromisoformat(payload["end"])})


@dataclass(frozen=True)
class PublishedComponent:
    """One data-space component or twin output, as it is published: one dcat:Dataset."""

    key: str  # the public identifier, e.g. "dataspace/example_air_quality" (the asset key path)
    kind: str  # collector, harvester or twin-output
    title: str
    description: str = ""
    data_format: str | None = None  # DATA_FORMAT of the config, e.g. "air-quality-readings"
    media_type: str | None = None  # content type of the stored items, e.g. "application/json"
    schedule: str | None = None  # the schedule as people read it ("every 10m", "daily at 06:00")
    period_seconds: int | None = None  # the schedule's period, for dct:accrualPeriodicity (a day for daily)
    route: str | None = None  # the handler route, relative to the server root ("/example-air-quality/")
    latest_route: str | None = None  # the latest-item route
    # PARQUETIZE: the route its files are below (`<parquet_route><level>/<name>`); the files are read from the
    # `<index_table>_parquetize` table at materialization time.
    parquet_route: str | None = None
    parquet_files: tuple[PublishedFile, ...] = ()  # filled at materialization time
    index_table: str | None = None  # the SQL index table its items are in (read for the dates, never published)
    asset_key: tuple[str, ...] = ()  # the Dagster asset the catalogue depends on
    generated_by: str | None = None  # twin outputs: the twin whose run makes it
    used: tuple[str, ...] = ()  # twin outputs: the inputs of that run (component keys or input names)
    derived_from: tuple[str, ...] = ()  # harvesters: keys of the components whose items they derive from
    first_item: datetime | None = None  # the oldest stored item, filled at materialization time
    last_item: datetime | None = None  # the newest stored item
    tags: tuple[str, ...] = field(default_factory=tuple)

    def with_dates(self, first: datetime | None, last: datetime | None) -> "PublishedComponent":
        """The same component with its temporal coverage."""
        return replace(self, first_item=first, last_item=last)

    def with_files(self, files: tuple[PublishedFile, ...]) -> "PublishedComponent":
        """The same component with its Parquet files."""
        return replace(self, parquet_files=tuple(files))


__all__ = ["KINDS", "PublishedComponent", "PublishedFile"]
