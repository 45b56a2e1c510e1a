"""Harvester catch-up: windows per second through one asset materialization, against a floor in the same run.

Ours: N source items (SQLite index, local blobs), a harvester with 1-row windows and a trivial component
(copies the item), caught up by ONE materialization of its asset on a Dagster test instance (`MAX_WINDOWS`
above N): the whole run is timed, Dagster's own run overhead included. The engine alone (the same catch-up
through `HarvesterRun` without Dagster) is reported too.
Floor: the same reads and writes through `DataStore` in a plain loop: for each source item, read the next
one after the last (by date), read its blob, write the copy with `DataStore.write`.
Goal: ours >= 0.5 x the floor's windows per second. Usage: .venv/bin/python bench/harvesters.py [--rows N] [--rounds R]
One warm-up round is discarded; rounds rotate the order of the sides; medians and min-max are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import write_results  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
COMPONENT = '''
from dataspace_assets.dataspace.components import Harvester


class Copy(Harvester):
    def run(self, source_data, **dependencies):
        return source_data.content
'''
TOML = '''
[collectors.src]
PATH = "bench.Copy"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[harvesters.copy]
PATH = "bench.Copy"
DATA_TYPE = "json"
DATA_FORMAT = "x"
SOURCE = "src"
MAX_WINDOWS = 1000000
'''


def prepare(folder: Path, count: int):
    """A deployment folder with N source items; returns its settings (environment set for it)."""
    from dataspace_assets.settings import load_settings
    from dataspace_assets.storage.store import CONTENT_TYPES, DataStore

    configs = folder / "configs"
    (configs / "dataspace").mkdir(parents=True)
    (configs / "components").mkdir()
    (configs / "components" / "__init__.py").touch()
    (configs / "components" / "bench.py").write_text(textwrap.dedent(COMPONENT))
    (configs / "dataspace" / "b.toml").write_text(TOML)
    os.environ.update(
        DATASPACE_HOME=str(folder / "home"), DATASPACE_CONFIGS=str(configs),
        DATASPACE_DATABASE_URL=f"sqlite:///{folder / 'home' / 'index.db'}", DAGSTER_HOME=str(folder / "dagster"),
    )
    settings = load_settings()
    store = DataStore.from_settings(settings)
    for i in range(count):
        store.write("b_src", json.dumps({"i": i}).encode(), date=START + timedelta(seconds=i),
                    content_type=CONTENT_TYPES["json"])
    store.close()
    return settings


def ours(folder: Path, count: int) -> float:
    """Windows per second of one materialization of the harvester asset (the whole Dagster run)."""
    import dagster as dg

    from dataspace_assets.dataspace.definitions import build_defs
    from dataspace_assets.storage.store import DataStore

    settings = prepare(folder, count)
    job = build_defs(settings).resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey(["dataspace", "b_copy"])],
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
        elapsed = time.perf_counter() - started
    assert result.success
    store = DataStore.from_settings(settings)
    assert store.count("b_copy") == count
    store.close()
    return count / elapsed


def engine(folder: Path, count: int) -> float:
    """Windows per second of the same catch-up through `HarvesterRun`, without a Dagster run around it."""
    from dataspace_assets.dataspace.config import dataspace_folder, load_config
    from dataspace_assets.dataspace.harvesters import HarvesterRun, Progress
    from dataspace_assets.storage.store import DataStore

    settings = prepare(folder, count)
    (harvester,) = load_config(dataspace_folder(settings.configs_dir)).harvesters
    store = DataStore.from_settings(settings)
    started = time.perf_counter()
    HarvesterRun(harvester, store).catch_up(Progress(), limit=count + 1)
    elapsed = time.perf_counter() - started
    assert store.count("b_copy") == count
    store.close()
    return count / elapsed


def floor(folder: Path, count: int) -> float:
    """Windows per second of the same reads and writes through `DataStore` in a plain loop."""
    from dataspace_assets.storage.store import CONTENT_TYPES, DataStore

    settings = prepare(folder, count)
    store = DataStore.from_settings(settings)
    store.index.table("b_floor")
    last = START - timedelta(seconds=1)
    started = time.perf_counter()
    for _ in range(count):
        (item,) = store.after("b_src", last, limit=1)
        store.write("b_floor", item.content, date=item.date, content_type=CONTENT_TYPES["json"])
        last = item.date
    elapsed = time.perf_counter() - started
    assert store.count("b_floor") == count
    store.close()
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    sides = {"ours": ours, "engine": engine, "floor": floor}
    rates: dict[str, list[float]] = {name: [] for name in sides}

    def measure(name: str) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            return sides[name](Path(tmp), args.rows)

    for name in sides:  # warm-up, discarded
        with tempfile.TemporaryDirectory() as tmp:
            sides[name](Path(tmp), min(args.rows, 200))
    names = list(sides)
    for round_index in range(args.rounds):
        for name in names[round_index % 3:] + names[: round_index % 3]:  # rotate the order
            rates[name].append(measure(name))
    median = {name: statistics.median(values) for name, values in rates.items()}
    ratio = median["ours"] / median["floor"]
    result = {
        "benchmark": "harvesters",
        "rows": args.rows,
        "rounds": args.rounds,
        "ours_windows_per_s": round(median["ours"], 1),
        "engine_windows_per_s": round(median["engine"], 1),
        "floor_windows_per_s": round(median["floor"], 1),
        "ratio": round(ratio, 3),
        "ratio_spread": [round(min(rates["ours"]) / max(rates["floor"]), 3),
                         round(max(rates["ours"]) / min(rates["floor"]), 3)],
        "engine_ratio": round(median["engine"] / median["floor"], 3),
        "ranges": {name: [round(min(v), 1), round(max(v), 1)] for name, v in rates.items()},
        "goal": 0.5,
        "passed": ratio >= 0.5,
        "original_runner_windows_per_s": [220, 474],
    }
    out = write_results("harvesters", result)
    print(f"ours   {median['ours']:8.1f} windows/s  (one Dagster materialization, run overhead included)")
    print(f"engine {median['engine']:8.1f} windows/s  (HarvesterRun.catch_up alone)")
    print(f"floor  {median['floor']:8.1f} windows/s  (DataStore.after + read + DataStore.write in a loop)")
    print(f"ratio  {ratio:.3f} (goal >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}); written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
