"""Parquetizing snapshots through the `dataspace/<name>_parquet` asset, against pyarrow writing the same rows.

Ours: 10,000 JSON snapshots of 50 records each, stored by a collector (SQLite index + local blobs), become
one Parquet file by materializing the batch level partition in Dagster: the window's rows are read, every
blob is read and parsed, every snapshot is checked against SCHEMA, the records are flattened with a `date`
column, written with pyarrow (snappy, dictionary) and recorded in `<name>_parquetize`.
Floor: `pyarrow.Table.from_pylist` + `pyarrow.parquet.write_table` (same options) of the same rows, already
in memory as Python dicts. Goal: ours <= 3 x the floor.
Usage: .venv/bin/python bench/parquetize.py [--snapshots 10000] [--records 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import write_results  # noqa: E402

WINDOW = datetime(2026, 3, 2, tzinfo=UTC)  # one daily window holds every snapshot
SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "line": {"type": "string"},
            "stop": {"type": "integer"},
            "delay": {"type": "number"},
            "status": {"type": "string"},
        },
        "required": ["line", "stop", "delay"],
    },
}
CONFIG = {
    "collectors": {
        "vehicles": {
            "PATH": "bench.Unused",  # never run: the snapshots are stored by the bench itself
            "DATA_TYPE": "json",
            "DATA_FORMAT": "vehicle-positions",
            "PARQUETIZE": {"BATCH": "1d", "START": "2026-03-01", "SCHEMA": SCHEMA},
        }
    }
}


def snapshot(i: int, records: int) -> list[dict]:
    """A realistic transit snapshot: `records` vehicles with a line, a stop, a delay and a status."""
    return [
        {"line": f"L{(i + r) % 40}", "stop": (i * 7 + r) % 900, "delay": round(((i + r) % 300) / 10, 1),
         "status": ("on-time", "late", "early")[(i + r) % 3]}
        for r in range(records)
    ]


def prepare(folder: Path, snapshots: int, records: int) -> list[dict]:
    """Store the snapshots as the collector would, and return the rows they hold (for the floor)."""
    os.environ.update(
        DATASPACE_HOME=str(folder / "home"),
        DATASPACE_CONFIGS=str(folder / "configs"),
        DATASPACE_DATABASE_URL=f"sqlite:///{folder / 'home' / 'dataspace.db'}",
        DAGSTER_HOME=str(folder / "home" / "dagster"),
    )
    os.environ.pop("DATASPACE_AZURE_CONNECTION_STRING", None)
    (folder / "configs" / "dataspace").mkdir(parents=True)
    import tomli_w

    (folder / "configs" / "dataspace" / "city.toml").write_text(tomli_w.dumps(CONFIG))
    (folder / "configs" / "components").mkdir()
    (folder / "configs" / "components" / "__init__.py").write_text("")
    (folder / "configs" / "components" / "bench.py").write_text(
        "from dataspace_assets.dataspace.components import Collector\n\n\n"
        "class Unused(Collector):\n    def run(self):\n        return None\n"
    )
    from dataspace_assets.settings import load_settings
    from dataspace_assets.storage.store import CONTENT_TYPES, DataStore

    store = DataStore.from_settings(load_settings())
    rows = []
    step = timedelta(seconds=86400 / snapshots)
    for i in range(snapshots):
        value, when = snapshot(i, records), WINDOW + i * step
        store.write("city_vehicles", json.dumps(value).encode(), date=when, content_type=CONTENT_TYPES["json"])
        rows += [{**record, "date": when} for record in value]
    store.close()
    return rows


def ours() -> tuple[float, int]:
    """Seconds to materialize the window's partition through Dagster, and the rows it wrote."""
    import dagster as dg

    from dataspace_assets.dataspace.definitions import build_defs
    from dataspace_assets.runs import QUIET_RUN_CONFIG
    from dataspace_assets.settings import load_settings

    defs = build_defs(load_settings())
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(["dataspace", "city_vehicles_parquet"])],
            partition_key=WINDOW.strftime("%Y-%m-%d"),
            run_config=QUIET_RUN_CONFIG,
        )
        elapsed = time.perf_counter() - started
    (event,) = result.get_asset_materialization_events()
    return elapsed, event.materialization.metadata["dagster/row_count"].value


def floor(rows: list[dict], folder: Path) -> float:
    """Seconds for pyarrow to build a table of the in-memory rows and write it with the same options."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, folder / "floor.parquet", compression="snappy", use_dictionary=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = prepare(folder, args.snapshots, args.records)
        ours()  # warm-up: imports, table creation, the first Dagster run
        floor(rows, folder)
        ours_times, floor_times = [], []
        for round_number in range(args.rounds):
            # Interleaved, with the order rotated, so a noisy moment or a cold cache hits both sides alike.
            sides = [("floor", lambda: floor(rows, folder)), ("ours", ours)]
            for name, side in sides[round_number % 2 :] + sides[: round_number % 2]:
                if name == "ours":
                    elapsed, written = side()
                    assert written == len(rows), f"ours wrote {written} rows, expected {len(rows)}"
                    ours_times.append(elapsed)
                else:
                    floor_times.append(side())
    ours_s, floor_s = statistics.median(ours_times), statistics.median(floor_times)
    ratio = ours_s / floor_s
    result = {
        "benchmark": "parquetize",
        "snapshots": args.snapshots,
        "records_per_snapshot": args.records,
        "rows": args.snapshots * args.records,
        "rounds": args.rounds,
        "ours_s": round(ours_s, 3),
        "ours_s_all": [round(t, 3) for t in ours_times],
        "floor_s": round(floor_s, 3),
        "floor_s_all": [round(t, 3) for t in floor_times],
        "ratio": round(ratio, 3),
        "goal": 3.0,
        "passed": ratio <= 3.0,
    }
    out = write_results("parquetize", result)
    print(f"ours  {ours_s:7.3f} s  (asset partition: read, parse, SCHEMA, flatten, write, record)  {ours_times}")
    print(f"floor {floor_s:7.3f} s  (pyarrow from_pylist + write_table of the same rows)         {floor_times}")
    print(f"ratio {ratio:.3f} (goal <= 3: {'met' if ratio <= 3 else 'NOT met'}); written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
