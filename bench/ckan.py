"""Benchmark: a CKAN harvest of 2,000 packages from a local server that waits 20 ms per request, pool of 8 vs one at a time.

The server runs in its own process. Both runs are the whole harvest (package_list, 2,000 package_show, schema, mapping, storing in SQLite)
through `engine.run_job`; only the source's `concurrency` differs (8 against 1, the floor measured in the
same run). The server counts the requests it has in flight: the pooled run must never show more than 8.
Goal: pooled >= 4x faster. Packages are copies of a real datasud.fr package_show answer.

Run: .venv/bin/python bench/ckan.py [--packages 2000] [--delay 0.02] [--rounds 1]
Writes bench/results/ckan.json and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import write_results  # noqa: E402

from dataspace_assets.harvest import actions, engine  # noqa: E402
from dataspace_assets.harvest.catalog import Catalog  # noqa: E402
from dataspace_tests.harvest.backends.apiserver import ApiServer  # noqa: E402

API = "ckan/api/3/action/"
TEMPLATE = "fixtures/udata/snapshots/ckan-datasud/package_show-parkings-ville-de-gap.json"


def shared_dir() -> Path:
    return Path(os.environ.get("DATASPACE_SHARED", ROOT.parent / "shared"))


def build_packages(count: int) -> dict[str, bytes]:
    """`count` package_show answers: the datasud.fr package with a new id, name, title and resource ids."""
    template = json.loads((shared_dir() / TEMPLATE).read_text(encoding="utf-8"))["result"]
    answers = {}
    for i in range(count):
        package = json.loads(json.dumps(template))
        name = f"{template['name']}-{i:05d}"
        package.update(id=f"00000000-0000-4000-8000-{i:012d}", name=name, title=f"{template['title']} {i}")
        package["url"] = f"https://www.datasud.fr/explorer/fr/jeux-de-donnees/{name}"
        for position, resource in enumerate(package["resources"]):
            resource["id"] = f"{i}-{position}"
        answers[name] = json.dumps({"success": True, "result": package}).encode()
    return answers


def serve(server: ApiServer, answers: dict[str, bytes]) -> None:
    names = json.dumps({"success": True, "result": list(answers)}).encode()
    server.on(API + "package_list", lambda q, b: (200, "application/json", names))
    server.on(API + "package_show", lambda q, b: (200, "application/json", answers[q["id"][0]]))

    def stats(query, _body):
        with server.stats.lock:
            peak = server.stats.peak
            if query.get("reset"):
                server.stats.peak = 0
        return 200, "application/json", json.dumps({"peak": peak}).encode()

    server.on("_stats", stats)
    server.uncounted.add("_stats")


def run_server(port_file: Path, packages: int, delay: float) -> None:
    """The catalogue server, in its own process (its own interpreter and GIL, like a real portal)."""
    server = ApiServer(delay=delay)
    serve(server, build_packages(packages))
    server.start()
    port_file.write_text(str(server.port))
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


@contextmanager
def catalogue_server(folder: Path, packages: int, delay: float) -> Iterator[str]:
    """Start the server process (its own session), yield its URL, stop it by its PID."""
    port_file = folder / "port"
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port_file), "--packages", str(packages), "--delay", str(delay)],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the catalogue server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}/"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def peak(url: str, reset: bool = False) -> int:
    """The most requests the server had in flight at once (since the last reset)."""
    return requests.get(url + "_stats", params={"reset": "1"} if reset else None, timeout=10).json()["peak"]


def harvest(url: str, folder: Path, concurrency: int, label: str, max_items: int | None = None) -> tuple[float, int, int]:
    """Seconds for one whole harvest into a fresh catalogue, the server's peak concurrency, datasets stored."""
    catalog = Catalog.open(f"sqlite:///{folder / f'{label}.db'}")
    try:
        source = actions.create_source(
            catalog, backend="ckan", url=url + "ckan/", name=label, validation_state="accepted",
            config={"allow_private_addresses": True, "retries": 0, "concurrency": concurrency},
        )
        peak(url, reset=True)
        started = time.perf_counter()
        report = engine.run_job(catalog, source, max_items=max_items)
        elapsed = time.perf_counter() - started
        assert report.job.status == "done", report.job.errors
        return elapsed, peak(url), catalog.count("datasets")
    finally:
        catalog.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds the server waits per request")
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: be the server process
    args = parser.parse_args()
    if args.serve:
        run_server(args.serve, args.packages, args.delay)
        return 0

    with tempfile.TemporaryDirectory() as tmp, catalogue_server(Path(tmp), args.packages, args.delay) as url:
        folder = Path(tmp)
        for concurrency in (1, args.pool):  # warm-up: imports, schema, licence registry, connections
            harvest(url, folder, concurrency, f"warmup-{concurrency}", max_items=50)
        serial, pooled, peaks = [], [], []
        for round_ in range(args.rounds):  # interleaved: each round times both, so load drifts hit both
            seconds, seen, count = harvest(url, folder, 1, f"serial-{round_}")
            assert count == args.packages and seen == 1, (count, seen)
            serial.append(seconds)
            seconds, seen, count = harvest(url, folder, args.pool, f"pooled-{round_}")
            assert count == args.packages and seen <= args.pool, (count, seen)
            pooled.append(seconds)
            peaks.append(seen)

    ratios = [s / p for s, p in zip(serial, pooled, strict=True)]
    result = {
        "benchmark": "ckan-pool",
        "packages": args.packages,
        "server_delay_s": args.delay,
        "pool": args.pool,
        "rounds": args.rounds,
        "serial_s": serial,
        "pooled_s": pooled,
        "peak_concurrent_requests": max(peaks),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "goal": ">= 4x with a pool of 8, never more than 8 requests in flight",
    }
    out = write_results("ckan", result)
    print(
        f"CKAN {args.packages} packages, {args.delay * 1000:.0f} ms/request: one at a time "
        f"{statistics.median(serial):.1f}s, pool of {args.pool} {statistics.median(pooled):.1f}s -> "
        f"{result['ratio_median']:.2f}x (min {result['ratio_min']:.2f}, max {result['ratio_max']:.2f}); "
        f"peak {result['peak_concurrent_requests']} requests in flight"
    )
    return 0 if result["ratio_min"] >= 4 and result["peak_concurrent_requests"] <= args.pool else 1


if __name__ == "__main__":
    sys.exit(main())
