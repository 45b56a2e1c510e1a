"""Collector items written per second through our store, against a floor measured in the same run.

Ours: the example collector class runs, its result is serialised and written through `DataStore.write`
(blob in a local folder, then its row in SQLite in its own transaction, with the MD5 hash).
Floor: the same bytes written with a plain file write plus a stdlib sqlite3 INSERT and commit per item
(same WAL / synchronous=NORMAL pragmas), the least any durable blob-plus-index write can do.
Goal: ours >= 0.5 x the floor's rate. Usage: .venv/bin/python bench/collectors.py [--items N] [--rounds R]

Fairness: one warm-up round of both sides is run and discarded (the first writes after idle pay for cold
caches and disk), then the rounds alternate which side goes first; medians and min-max are reported.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "configs"))

from common import write_results  # noqa: E402

from components.sensors import SimulatedSensorFeed  # noqa: E402

from dataspace_assets.storage.blobs import LocalBlobStore  # noqa: E402
from dataspace_assets.storage.database import create_engine  # noqa: E402
from dataspace_assets.storage.store import CONTENT_TYPES, DataStore, serialise  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)


def payloads(count: int) -> list[bytes]:
    """The bytes the example collector produces for `count` consecutive ticks."""
    out = []
    for i in range(count):
        feed = SimulatedSensorFeed(stations=4, seed=42)
        feed.run_time = START + timedelta(seconds=i)
        out.append(serialise(feed.run()))
    return out


def ours(folder: Path, count: int) -> float:
    """Items per second through the collector path and `DataStore.write`."""
    store = DataStore(LocalBlobStore(folder / "blobs"), create_engine(f"sqlite:///{folder / 'index.db'}"))
    store.write("bench_warmup", b"{}")  # table creation and connection pool are not what we measure
    store.index.table("bench_feed")
    started = time.perf_counter()
    for i in range(count):
        feed = SimulatedSensorFeed(stations=4, seed=42)
        feed.run_time = START + timedelta(seconds=i)
        store.write("bench_feed", serialise(feed.run()), date=feed.run_time, content_type=CONTENT_TYPES["json"])
    elapsed = time.perf_counter() - started
    assert store.count("bench_feed") == count
    store.close()
    return count / elapsed


def floor(folder: Path, data: list[bytes]) -> float:
    """Items per second for a plain file write plus a sqlite3 INSERT + commit of the same bytes."""
    blobs = folder / "blobs"
    blobs.mkdir(parents=True)
    conn = sqlite3.connect(folder / "index.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE feed (id INTEGER PRIMARY KEY, date TEXT, location TEXT, size INTEGER)")
    conn.commit()
    started = time.perf_counter()
    for i, payload in enumerate(data):
        path = blobs / f"item-{i}"
        with open(path, "wb") as handle:
            handle.write(payload)
        conn.execute("INSERT INTO feed (date, location, size) VALUES (?, ?, ?)", (str(i), str(path), len(payload)))
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return len(data) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    data = payloads(args.items)
    ours_rates, floor_rates = [], []

    def measure_floor() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            return floor(Path(tmp), data)

    def measure_ours() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            return ours(Path(tmp), args.items)

    measure_floor(), measure_ours()  # warm-up, discarded
    for round_index in range(args.rounds):
        # Rotate which side runs first, so neither always meets the disk after the other's burst.
        order = [(measure_floor, floor_rates), (measure_ours, ours_rates)]
        for measure, rates in order if round_index % 2 == 0 else reversed(order):
            rates.append(measure())
    ours_rate, floor_rate = statistics.median(ours_rates), statistics.median(floor_rates)
    ratio = ours_rate / floor_rate
    result = {
        "benchmark": "collectors",
        "items": args.items,
        "rounds": args.rounds,
        "payload_bytes_mean": round(sum(map(len, data)) / len(data)),
        "ours_items_per_s": round(ours_rate, 1),
        "floor_items_per_s": round(floor_rate, 1),
        "ratio": round(ratio, 3),
        "ratio_spread": [round(min(ours_rates) / max(floor_rates), 3), round(max(ours_rates) / min(floor_rates), 3)],
        "ours_items_per_s_range": [round(min(ours_rates), 1), round(max(ours_rates), 1)],
        "floor_items_per_s_range": [round(min(floor_rates), 1), round(max(floor_rates), 1)],
        "goal": 0.5,
        "passed": ratio >= 0.5,
    }
    out = write_results("collectors", result)
    print(f"ours  {ours_rate:9.1f} items/s  (collector run + serialise + DataStore.write, SQLite + local blobs)")
    print(f"floor {floor_rate:9.1f} items/s  (file write + sqlite3 INSERT/commit of the same bytes)")
    print(f"ratio {ratio:.3f} (goal >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}); written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
