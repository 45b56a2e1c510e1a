"""Harvester components and helpers shared by the harvester tests (written into each test's configs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from dataspace_assets.dataspace.definitions import build_defs
from dataspace_assets.storage.store import CONTENT_TYPES, DataStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)

HARVESTERS = '''
import json
import os
import time

from dataspace_assets.dataspace.components import Harvester


def _value(item):
    return None if item is None else item.json()["v"]


def _deps(dependencies):
    out = {}
    for name, value in sorted(dependencies.items()):
        out[name] = [_value(v) for v in value] if isinstance(value, list) else _value(value)
    return out


class Seen(Harvester):
    """Records what it was given: source values (a list or one) and dependency values."""

    def run(self, source_data, **dependencies):
        if isinstance(source_data, list):
            source = [_value(d) for d in source_data]
        else:
            source = _value(source_data)
        return {"v": source, "deps": _deps(dependencies), "single": not isinstance(source_data, list)}


class PerRow(Harvester):
    """MULTIPLE_RESULTS: one result per row (None for odd values); `short` drops the last."""

    def run(self, source_data, **dependencies):
        out = [None if _value(d) % 2 else {"v": _value(d)} for d in source_data]
        if self.settings.get("short"):
            out = out[:-1]
        return (item for item in out)  # a generator, as AITwin's harvesters yield


class Fails(Harvester):
    """Raises on the source value `bad`, copies the value otherwise."""

    def run(self, source_data, **dependencies):
        if _value(source_data) == self.settings.get("bad"):
            raise ValueError("cannot parse the snapshot")
        return {"v": _value(source_data)}


class Slow(Harvester):
    """Copies its row after a pause (for concurrency and kill tests); writes a start line to `trace`."""

    def run(self, source_data, **dependencies):
        if self.settings.get("trace"):
            with open(self.settings["trace"], "a") as handle:
                handle.write(f"{os.getpid()} {_value(source_data)}\\n")
        time.sleep(float(self.settings.get("pause", 0.05)))
        return {"v": _value(source_data)}


class Copy(Harvester):
    """The trivial harvester: copies its row's value."""

    def run(self, source_data, **dependencies):
        return {"v": _value(source_data)}
'''


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def secs(moment: datetime) -> float:
    return (moment - T0).total_seconds()


def put(store: DataStore, name: str, seconds: float, value: object = None) -> None:
    """One source item dated T0 + seconds with value `v` (the seconds by default)."""
    v = seconds if value is None else value
    store.write(name, json.dumps({"v": v}).encode(), date=at(seconds), content_type=CONTENT_TYPES["json"])


def source_toml(name: str = "src") -> str:
    return f'\n[collectors.{name}]\nPATH = "tests.Echo"\nDATA_TYPE = "json"\nDATA_FORMAT = "x"\n'


def harvester_toml(name: str, source: str, path: str = "harvesters.Seen", **keys: object) -> str:
    lines = [f"\n[harvesters.{name}]", f'PATH = "{path}"', 'DATA_TYPE = "json"', 'DATA_FORMAT = "x"', f'SOURCE = "{source}"']
    lines += [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def materialize(settings, instance, name: str, *, partition: str | None = None, tags=None,
                partition_range: tuple[str, str] | None = None) -> dg.ExecuteInProcessResult:
    defs = build_defs(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    run_tags = dict(tags or {})
    if partition_range:
        run_tags["dagster/asset_partition_range_start"], run_tags["dagster/asset_partition_range_end"] = partition_range
    return job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(["dataspace", name])],
        partition_key=partition,
        tags=run_tags,
        raise_on_error=False,
    )


def outputs(store: DataStore, name: str) -> list[tuple[float, object]]:
    """(seconds, value) of every visible item, oldest first."""
    return [(secs(d.date), d.json()["v"]) for d in store.between(name, None, None)]


def rows(store: DataStore, name: str) -> list[dict]:
    """Every row (markers included) of a harvester table, by (date, id)."""
    import sqlalchemy as sa

    table = store.index.table(name, create=False)
    if table is None:
        return []
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.date, table.c.id)).mappings()]


def meta(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.get_asset_materialization_events()
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
