"""Fixtures of the publication tests: a real uvicorn server serving the catalogue routes, and one-call harvests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.catalog import Catalog, HarvestSource
from dataspace_assets.harvest.publish.routes import CatalogApp

LOOPBACK = {"allow_private_addresses": True, "retries": 0}


@dataclass
class CatalogServer:
    """uvicorn on 127.0.0.1 serving the catalogue routes of one database."""

    database_url: str
    app: CatalogApp = field(init=False)
    url: str = ""
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, query) of every request

    async def _recorded(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"], scope["query_string"].decode()))
        await self._app(scope, receive, send)

    def start(self) -> "CatalogServer":
        self.app = CatalogApp(self.database_url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._app = Starlette(routes=self.app.routes())
        config = uvicorn.Config(self._recorded, log_level="warning", lifespan="off", interface="asgi3")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the catalogue server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
        if self.app._store is not None:
            self.app._store.close()


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[Catalog, CatalogServer]]:
    """A catalogue (SQLite) and a real server publishing it."""
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'published.db'}")
    server = CatalogServer(f"sqlite:///{tmp_path / 'published.db'}").start()
    yield catalog, server
    server.stop()
    catalog.close()


def harvest(
    catalog: Catalog, url: str, *, name: str, config: dict | None = None, backend: str = "dcat"
) -> tuple[HarvestSource, engine.JobReport]:
    """Create an accepted source (DCAT by default) for this URL and run one job."""
    source = actions.create_source(
        catalog, backend=backend, url=url, name=name, validation_state="accepted", config={**LOOPBACK, **(config or {})}
    )
    return source, engine.run_job(catalog, source)
