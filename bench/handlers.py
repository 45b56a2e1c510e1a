"""The latest-item endpoint through `dataspace serve` against a bare starlette app returning the same bytes.

Ours: `dataspace serve` (a subprocess) answering `GET /bench-feed/` (the v0.0.2 latest-item route): the
allow-list, the method check, routing, an index query on SQLite for the newest item, the (cached) blob.
Floor: a bare starlette app on uvicorn (same uvicorn options) returning the same bytes from memory.
Load: 16 concurrent keep-alive connections on 127.0.0.1 from one asyncio client, a bounded number of requests
per round (and a time cap); warm-up, rounds interleaved (floor, ours, ...), medians and spread reported.
Goal: ours >= 0.5 x the floor's requests/s, and p99 <= 4 x the floor's p99.
Usage: .venv/bin/python bench/handlers.py [--requests 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
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

CONNECTIONS = 16
PATH = "/bench-feed/"
BARE = textwrap.dedent(
    """
    import sys, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    body = open(sys.argv[2], "rb").read()
    async def latest(request):
        return Response(body, media_type="application/json")
    app = Starlette(routes=[Route("/bench-feed/", latest, methods=["GET"])])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
                server_header=False, lifespan="on")
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(folder: Path, items: int) -> tuple[dict[str, str], bytes]:
    """A deployment with one collector holding `items` snapshots; its environment and the newest bytes."""
    configs = folder / "configs"
    (configs / "dataspace").mkdir(parents=True)
    (configs / "components").mkdir()
    (configs / "components" / "__init__.py").touch()
    (configs / "components" / "feed.py").write_text(
        "from dataspace_assets.dataspace.components import Collector\n\n\nclass Feed(Collector):\n"
        "    def run(self):\n        return {}\n"
    )
    (configs / "dataspace" / "bench.toml").write_text(
        '[collectors.feed]\nPATH = "feed.Feed"\nDATA_TYPE = "json"\nDATA_FORMAT = "x"\n'
    )
    home = folder / "home"
    env = {
        **os.environ,
        "DATASPACE_HOME": str(home),
        "DATASPACE_CONFIGS": str(configs),
        "DATASPACE_DATABASE_URL": f"sqlite:///{home / 'dataspace.db'}",
        "DAGSTER_HOME": str(home / "dagster"),
    }
    env.pop("DATASPACE_AZURE_CONNECTION_STRING", None)
    env.pop("DATASPACE_BLOBS_DIR", None)
    store = DataStore(LocalBlobStore(home / "blobs"), create_engine(env["DATASPACE_DATABASE_URL"]))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    payload = b""
    for i in range(items):
        feed = SimulatedSensorFeed(stations=4, seed=42)
        feed.run_time = start + timedelta(seconds=10 * i)
        payload = serialise(feed.run())
        store.write("bench_feed", payload, date=feed.run_time, content_type=CONTENT_TYPES["json"])
    store.close()
    return env, payload


def wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


async def _worker(port: int, budget: list[int], latencies: list[float], deadline: float, expected: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200") or body != expected:
                raise RuntimeError(f"unexpected answer: {head[:40]!r}")
    finally:
        writer.close()


async def load(port: int, requests: int, expected: bytes, cap: float = 20.0) -> dict[str, float]:
    """Requests/s and latency percentiles of `requests` GETs over 16 connections (at most `cap` seconds)."""
    latencies: list[float] = []
    budget = [requests]
    started = time.perf_counter()
    await asyncio.gather(*(_worker(port, budget, latencies, started + cap, expected) for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "requests": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-handlers-") as tmp:
        folder = Path(tmp)
        env, payload = prepare(folder, args.items)
        (folder / "body.json").write_bytes(payload)
        ours_port, bare_port = free_port(), free_port()
        dataspace = str(Path(sys.executable).parent / "dataspace")
        ours = subprocess.Popen([dataspace, "serve", "--port", str(ours_port)], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL)
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port), str(folder / "body.json")],
                                start_new_session=True)
        try:
            wait_ready(ours_port, ours)
            wait_ready(bare_port, bare)
            for port in (bare_port, ours_port):  # warm-up: connections, caches, the SQLite page cache
                asyncio.run(load(port, 500, payload))
            results: dict[str, list[dict[str, float]]] = {"bare": [], "ours": []}
            for round_index in range(args.rounds):
                order = [("bare", bare_port), ("ours", ours_port)]
                if round_index % 2:
                    order.reverse()
                for label, port in order:
                    results[label].append(asyncio.run(load(port, args.requests, payload)))
        finally:
            for process in (ours, bare):
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    summary = {}
    for label, rounds in results.items():
        summary[label] = {
            key: {"median": statistics.median(r[key] for r in rounds), "min": min(r[key] for r in rounds),
                  "max": max(r[key] for r in rounds)}
            for key in ("rps", "p50_ms", "p99_ms")
        }
    rps_ratio = summary["ours"]["rps"]["median"] / summary["bare"]["rps"]["median"]
    p99_ratio = summary["ours"]["p99_ms"]["median"] / summary["bare"]["p99_ms"]["median"]
    report = {"connections": CONNECTIONS, "requests_per_round": args.requests, "rounds": args.rounds,
              "body_bytes": len(payload), "summary": summary, "rps_ratio": rps_ratio, "p99_ratio": p99_ratio,
              "goal": {"rps_ratio_min": 0.5, "p99_ratio_max": 4.0},
              "met": rps_ratio >= 0.5 and p99_ratio <= 4.0}
    write_results("handlers", report)
    for label in ("bare", "ours"):
        s = summary[label]
        print(f"{label:5} {s['rps']['median']:8.0f} req/s ({s['rps']['min']:.0f}-{s['rps']['max']:.0f})  "
              f"p50 {s['p50_ms']['median']:6.2f} ms  p99 {s['p99_ms']['median']:6.2f} ms "
              f"({s['p99_ms']['min']:.2f}-{s['p99_ms']['max']:.2f})")
    print(f"ratio rps {rps_ratio:.2f} (goal >= 0.5), p99 {p99_ratio:.2f} (goal <= 4): "
          f"{'met' if report['met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
