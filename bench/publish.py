"""Benchmark: serving page 1 and page 50 (100 datasets each) of a 10,000-dataset catalogue in Turtle vs rdflib.

Run: .venv/bin/python bench/publish.py [--copies 100] [--rounds 15]
Writes bench/results/publish.json and prints, per page, ours / floor where
* ours  = the page built from the catalogue database and serialised (`render_page`, no cache), and the same
          page fetched over HTTP from the catalogue routes on uvicorn (cache off);
* floor = rdflib serialising the same 100 datasets (the page's own triples) from an in-memory graph to Turtle.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from copy import deepcopy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common import write_results  # noqa: E402

import requests  # noqa: E402
from rdflib import Graph  # noqa: E402

PAGE_SIZE = 100
PAGES = (1, 50)


def shared_dir() -> Path:
    return Path(os.environ.get("DATASPACE_SHARED", ROOT.parent / "shared"))


def build_catalogue(url: str, copies: int, workdir: Path) -> int:
    """Harvest dcat-historical/ckan.ttl (100 real datasets) once, then copy its rows `copies - 1` times in SQL."""
    import sqlalchemy as sa

    from dataspace_assets.harvest import actions, engine
    from dataspace_assets.harvest.catalog import Catalog
    from dataspace_assets.harvest.catalog import models as m

    # Page 2 of the fixture lives on demo.ckan.org: point it at an empty local page (no network).
    empty = workdir / "page-2.ttl"
    empty.write_text("@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<http://demo.ckan.org/catalog> a dcat:Catalog .\n")
    page1 = workdir / "ckan.ttl"
    text = (shared_dir() / "fixtures/udata/dcat-historical/ckan.ttl").read_text()
    page1.write_text(text.replace("http://demo.ckan.org/catalog.ttl?page=2", empty.as_uri()))
    catalog = Catalog.open(url)
    source = actions.create_source(
        catalog, backend="dcat", url=page1.as_uri(), name="ckan", validation_state="accepted",
        config={"allow_local_files": True},
    )
    engine.run_job(catalog, source)

    def copied(table: sa.Table, suffix: str, changes: dict) -> sa.Insert:
        columns = [c.name for c in table.columns]
        values = [changes[c](table.c[c], suffix).label(c) if c in changes else table.c[c] for c in columns]
        return table.insert().from_select(columns, sa.select(*values).where(~table.c[next(iter(changes))].like("%-c%")))

    def tag(column, suffix: str):  # noqa: ANN001, ANN202
        return column + suffix

    with catalog.engine.begin() as conn:
        for copy in range(1, copies):
            suffix = f"-c{copy}"
            conn.execute(copied(m.datasets, suffix, {
                "id": tag, "slug": tag, "title": lambda c, s, n=copy: c + f" #{n}", "harvest_remote_id": tag}))
            conn.execute(copied(m.resources, suffix, {"id": tag, "dataset_id": tag}))
            conn.execute(copied(m.dataset_contact_points, suffix, {"dataset_id": tag}))
    total = catalog.count("datasets")
    catalog.close()
    return total


class Server:
    """The catalogue routes on uvicorn, 127.0.0.1, cache off."""

    def __init__(self, database_url: str) -> None:
        import uvicorn
        from starlette.applications import Starlette

        from dataspace_assets.harvest.publish.routes import CatalogApp

        self.app = CatalogApp(database_url, cache_size=0)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(Starlette(routes=self.app.routes()), log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def timed(action) -> float:  # noqa: ANN001
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100, help="copies of the 100 CKAN datasets (100 → 10,000)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    from dataspace_assets.harvest.publish.pages import FORMATS, PageRequest, render_page
    from dataspace_assets.harvest.publish.store import PublicationStore

    ttl = FORMATS["ttl"]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/catalogue.db"
        started = time.perf_counter()
        total = build_catalogue(url, args.copies, Path(tmp))
        print(f"catalogue: {total} datasets stored in {time.perf_counter() - started:.0f} s")
        store = PublicationStore.from_url(url)
        server = Server(url)
        base = server.url
        floors: dict[int, Graph] = {}
        for page in PAGES:  # the floor's input: the very triples of that page, in an rdflib graph (untimed)
            body = render_page(store, PageRequest(page=page, page_size=PAGE_SIZE, base_url=base), ttl)
            floors[page] = Graph().parse(data=body, format="turtle")
        samples: dict[str, list[float]] = {f"{kind}{page}": [] for page in PAGES for kind in ("floor", "ours", "http")}
        for round_ in range(args.rounds + 2):  # 2 warm-up rounds, then interleaved rounds
            for page in PAGES:
                request = PageRequest(page=page, page_size=PAGE_SIZE, base_url=base)
                page_url = f"{base}/catalog.ttl?page={page}&page_size={PAGE_SIZE}"
                results = {
                    f"floor{page}": timed(lambda g=floors[page]: g.serialize(format="turtle")),
                    f"ours{page}": timed(lambda r=request: render_page(store, r, ttl)),
                    f"http{page}": timed(lambda u=page_url: requests.get(u, timeout=60).raise_for_status()),
                }
                if round_ >= 2:
                    for key, value in results.items():
                        samples[key].append(value)
        server.stop()
        store.close()

    report: dict = {"datasets": total, "page_size": PAGE_SIZE, "rounds": args.rounds,
                    "python": platform.python_version(), "pages": {}}
    for page in PAGES:
        floor = statistics.median(samples[f"floor{page}"])
        row = {"floor_ms": round(floor * 1000, 1)}
        for kind in ("ours", "http"):
            values = samples[f"{kind}{page}"]
            median = statistics.median(values)
            row[f"{kind}_ms"] = round(median * 1000, 1)
            row[f"{kind}_ratio"] = round(median / floor, 2)
            row[f"{kind}_ratio_spread"] = [round(min(values) / floor, 2), round(max(values) / floor, 2)]
        row["floor_spread_ms"] = [round(min(samples[f"floor{page}"]) * 1000, 1),
                                  round(max(samples[f"floor{page}"]) * 1000, 1)]
        report["pages"][str(page)] = row
        print(f"page {page}: floor {row['floor_ms']} ms; ours {row['ours_ms']} ms ({row['ours_ratio']}x); "
              f"over HTTP {row['http_ms']} ms ({row['http_ratio']}x)")
    write_results("publish", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
