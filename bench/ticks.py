"""The cost of one scheduled collector tick (a one-step run) by executor, against a floor measured in the same run.

Floor: `execute_in_process` of the one-asset job (the least a recorded Dagster run costs).
Multiprocess: `execute_job` with Dagster's multiprocess executor (the step in a spawned subprocess).
Ours: `execute_job` with the project's default executor (`single_step_in_process_executor`), which runs
a one-step plan in the run's own process. Each run materializes the same asset (a 50 ms step).
Rounds are interleaved (floor, multiprocess, ours, ...) after a warm-up; medians and spread are reported.
Usage: .venv/bin/python bench/ticks.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import write_results  # noqa: E402

from dataspace_assets.executors import single_step_in_process_executor  # noqa: E402

STEP_SECONDS = 0.05


@dg.asset
def tick() -> None:
    """A collector tick that does 50 ms of work."""
    time.sleep(STEP_SECONDS)


def _job(executor: dg.ExecutorDefinition) -> dg.JobDefinition:
    return dg.Definitions(assets=[tick], jobs=[dg.define_asset_job("tick_job", executor_def=executor)]).resolve_job_def(
        "tick_job"
    )


def multiprocess_job() -> dg.JobDefinition:
    return _job(dg.multiprocess_executor)


def ours_job() -> dg.JobDefinition:
    return _job(single_step_in_process_executor)


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"floor": [], "multiprocess": [], "ours": []}
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        in_process = _job(dg.in_process_executor)

        def floor() -> None:
            assert in_process.execute_in_process(instance=instance).success

        def recon(fn) -> None:
            with dg.execute_job(dg.reconstructable(fn), instance=instance) as result:
                assert result.success

        sides = {"floor": floor, "multiprocess": lambda: recon(multiprocess_job), "ours": lambda: recon(ours_job)}
        for run in sides.values():  # warm-up: imports, instance tables
            run()
        for _ in range(args.rounds):
            for name, run in sides.items():
                times[name].append(_timed(run))
    median = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "rounds": args.rounds,
        "step_seconds": STEP_SECONDS,
        "median_seconds": median,
        "spread_seconds": {name: [min(v), max(v)] for name, v in times.items()},
        "ratio_ours_to_floor": median["ours"] / median["floor"],
        "ratio_multiprocess_to_floor": median["multiprocess"] / median["floor"],
        "overhead_per_tick_seconds": {name: median[name] - STEP_SECONDS for name in median},
    }
    write_results("ticks", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
