"""Fixtures of the DCAT tests: graphs from fixture files, one-call harvests, and a CSW GetRecords server."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rdflib import Graph

from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.catalog import Catalog, HarvestSource
from dataspace_assets.harvest.dcat.rdf import format_from_url, parse_graph

LOOPBACK = {"allow_private_addresses": True}


@pytest.fixture
def load_graph(fixtures_dir: Path) -> Callable[..., Graph]:
    """Parse a fixture file (path relative to the fixtures root) the way the backend parses a page."""

    def load(rel: str, fmt: str | None = None, *, base: str | None = None) -> Graph:
        path = fixtures_dir / rel
        return parse_graph(path.read_bytes(), fmt or format_from_url(rel), url=base or f"http://data.test.org/{path.name}")

    return load


@dataclass
class Harvester:
    """Creates sources on the fixture server and runs them through the real engine."""

    catalog: Catalog
    server: object
    sources: dict[str, HarvestSource] = field(default_factory=dict)

    def source(self, path_or_url: str, *, backend: str = "dcat", config: dict | None = None, name: str | None = None) -> HarvestSource:
        url = path_or_url if "://" in path_or_url else self.server.url(path_or_url)
        key = name or path_or_url
        if key not in self.sources:
            self.sources[key] = actions.create_source(
                self.catalog, backend=backend, url=url, name=key, validation_state="accepted",
                config={**LOOPBACK, "retries": 0, **(config or {})},
            )
        return self.sources[key]

    def run(self, path_or_url: str, **kwargs) -> engine.JobReport:
        max_items = kwargs.pop("max_items", None)
        return engine.run_job(self.catalog, self.source(path_or_url, **kwargs), max_items=max_items)

    def datasets(self, source: HarvestSource) -> dict[str, object]:
        """Datasets of a source by remote id."""
        return {d.harvest.remote_id: d for d in self.catalog.list_datasets(source_id=source.id)}


@pytest.fixture
def harvester(catalog: Catalog, http_server) -> Harvester:
    """Harvest fixture files served by the local HTTP server through `engine.run_job`."""
    return Harvester(catalog, http_server)


# ------------------------------------------------------------------ CSW server
@dataclass
class CswServer:
    """A CSW endpoint on loopback answering GetRecords POSTs with `<prefix>-page-<startPosition>.xml` fixture files."""

    root: Path
    prefix: str = "udata/csw_dcat/geonetwork-dcat"
    bodies: list[str] = field(default_factory=list)
    override: bytes | None = None

    def __post_init__(self) -> None:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                server.bodies.append(body)
                match = re.search(r'startPosition="(\d+)"', body)
                path = server.root / f"{server.prefix}-page-{match.group(1) if match else 'x'}.xml"
                if server.override is not None:
                    data, status = server.override, 200
                elif path.is_file():
                    data, status = path.read_bytes(), 200
                else:
                    data, status = b"no such page", 404
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/geonetwork/srv/eng/csw"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def csw_server(fixtures_dir: Path) -> Iterator[CswServer]:
    """A real local CSW endpoint serving the geonetwork DCAT GetRecords pages by startPosition."""
    server = CswServer(fixtures_dir)
    yield server
    server.stop()
