"""Real services for the tests, each started on 127.0.0.1 and a free port, stopped by its owner.

- `PostgresCluster`: a private cluster (`initdb` in a temp dir), one fresh database per test.
- `Azurite`: the Azure Blob emulator from the project-local `node_modules/`.
- `FixtureServer`: a threaded HTTP server over `../shared/fixtures/` that can be told, per path,
  to answer with a status, a delay, a content type, a truncated body or bytes of its own.
"""

from __future__ import annotations

import glob
import http.server
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Ask the kernel for a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"service exited with code {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a service started in its own process group: TERM, then KILL after a grace period."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=timeout)


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bin_dir() -> Path:
    """Where Debian keeps initdb and pg_ctl (not on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    if which:
        return Path(which).parent
    raise RuntimeError("PostgreSQL binaries not found: run scripts/setup.sh (it installs postgresql)")


class PostgresCluster:
    """A throw-away PostgreSQL cluster owned by this test session."""

    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="dataspace-pg-"))
        self.data = self.dir / "data"
        self._counter = itertools.count(1)
        # initdb refuses to run as root: run the cluster as the postgres system user when we are root.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, user="postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, text=True)

    def start(self) -> PostgresCluster:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "start",
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F",
        )
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import sqlalchemy as sa

        name = f"test_{os.getpid()}_{next(self._counter)}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


# --------------------------------------------------------------------------- Azurite

AZURITE_ACCOUNT = "devstoreaccount1"
# The published key of Azurite's well-known development account.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Azurite:
    """The Azure Blob emulator, installed by the project's setup under node_modules/."""

    def __init__(self) -> None:
        self.binary = PROJECT_ROOT / "node_modules" / ".bin" / "azurite-blob"
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} is missing: run scripts/setup.sh (npm ci installs Azurite)")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="dataspace-azurite-"))
        self.process: subprocess.Popen | None = None
        self._counter = itertools.count(1)

    @property
    def account_name(self) -> str:
        return AZURITE_ACCOUNT

    @property
    def account_key(self) -> str:
        return AZURITE_KEY

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.account_url};"
        )

    def start(self) -> Azurite:
        self.process = subprocess.Popen(
            [
                str(self.binary), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                "--inMemoryPersistence",
                # The SDK speaks a newer API version than the emulator knows; telemetry would call out.
                "--skipApiVersionCheck", "--disableTelemetry", "--loose",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for_port(self.port, timeout=60, process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_container(self) -> str:
        """Create a fresh container and return its name."""
        from azure.storage.blob import BlobServiceClient

        name = f"test-{os.getpid()}-{next(self._counter)}"
        BlobServiceClient.from_connection_string(self.connection_string).create_container(name)
        return name


# --------------------------------------------------------------------------- fixture HTTP server


@dataclass
class Route:
    """How to answer one path instead of serving the file as it is."""

    status: int | None = None
    delay: float | None = None
    content_type: str | None = None
    truncate: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _guess_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return {
        ".ttl": "text/turtle",
        ".xml": "application/rdf+xml",
        ".rdf": "application/rdf+xml",
        ".jsonld": "application/ld+json",
        ".json": "application/json",
        ".n3": "text/n3",
        ".nt": "application/n-triples",
        ".trig": "application/trig",
        ".csv": "text/csv",
        ".html": "text/html",
    }.get(suffix, "application/octet-stream")


class FixtureServer:
    """Serves `root` on 127.0.0.1 with per-path overrides; logs every request."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def _answer(self, send_body: bool) -> None:
                server._handle(self, send_body)

            def do_GET(self) -> None:
                self._answer(True)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                # Clients that give up (timeout tests) reset the connection: expected, not worth a traceback.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "") -> str:
        return self.base_url + path.lstrip("/")

    def route(
        self,
        path: str,
        *,
        status: int | None = None,
        delay: float | None = None,
        content_type: str | None = None,
        truncate: int | None = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Override the answer for `path` (relative to the fixtures root, query string ignored)."""
        if isinstance(body, str):
            body = body.encode()
        self.routes[path.lstrip("/")] = Route(status, delay, content_type, truncate, body, dict(headers or {}))

    def reset(self) -> None:
        self.routes.clear()
        with self._lock:
            self.requests.clear()

    def _handle(self, handler: http.server.BaseHTTPRequestHandler, send_body: bool) -> None:
        with self._lock:
            self.requests.append((handler.command, handler.path, dict(handler.headers.items())))
        rel = urllib.parse.unquote(urllib.parse.urlsplit(handler.path).path).lstrip("/")
        route = self.routes.get(rel, Route())
        if route.delay:
            time.sleep(route.delay)
        if route.body is not None:
            body, ctype, status = route.body, route.content_type or "application/octet-stream", 200
        else:
            target = (self.root / rel).resolve()
            if self.root not in target.parents or not target.is_file():
                body, ctype, status = b"not found", "text/plain", 404
            else:
                body, ctype, status = target.read_bytes(), _guess_type(target), 200
        status = route.status or status
        ctype = route.content_type or ctype
        declared_length = len(body)
        if route.truncate is not None:
            body = body[: route.truncate]  # announce the full length, send less: a cut connection
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(declared_length))
        for key, value in route.headers.items():
            handler.send_header(key, value)
        if route.truncate is not None:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        if send_body:
            try:
                handler.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass


# --------------------------------------------------------------------------- Redis


class RedisServer:
    """A private redis-server for the Celery executor tests."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server not found: run scripts/setup.sh (it installs redis-server)")
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="dataspace-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- Dagster webserver


class DagsterWebserver:
    """`dagster-webserver` on the project's workspace, in its own process group, stopped by PID."""

    def __init__(self, dagster_home: Path, env: dict[str, str] | None = None) -> None:
        self.dagster_home = dagster_home
        self.port = free_port()
        self.env = {**os.environ, **(env or {}), "DAGSTER_HOME": str(dagster_home)}
        self.process: subprocess.Popen | None = None
        self.log = dagster_home / "webserver.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    name = "dagster-webserver"

    def command(self) -> list[str]:
        """The command line that serves the UI on 127.0.0.1:port."""
        binary = Path(os.environ.get("VIRTUAL_ENV", PROJECT_ROOT / ".venv")) / "bin" / "dagster-webserver"
        if not binary.exists():
            binary = PROJECT_ROOT / ".venv" / "bin" / "dagster-webserver"
        return [str(binary), "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(self.port)]

    def start(self, timeout: float = 90.0) -> DagsterWebserver:
        import requests

        self.dagster_home.mkdir(parents=True, exist_ok=True)
        # A new session (process group) so TERM reaches the webserver and its code server alike.
        self.process = subprocess.Popen(
            self.command(),
            cwd=PROJECT_ROOT, env=self.env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/server_info", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer in {timeout} s: {self.log.read_text()[-2000:]}")

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        import requests

        answer = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
        answer.raise_for_status()
        payload = answer.json()
        if payload.get("errors"):
            raise RuntimeError(payload["errors"])
        return payload["data"]

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=20)


class DgDev(DagsterWebserver):
    """`dg dev` in the project (webserver, daemon and code server), in its own process group, stopped by PGID."""

    name = "dg dev"

    def command(self) -> list[str]:
        dg = PROJECT_ROOT / ".venv" / "bin" / "dg"
        return [str(dg), "dev", "--host", "127.0.0.1", "--port", str(self.port)]

    def stop(self, timeout: float = 60.0) -> bool:
        """TERM to the group, then wait until every process of it is gone; False when some needed a KILL."""
        if self.process is None:
            return True
        stop_process(self.process, timeout=20)  # the leader (dg) first: it stops its children in turn
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.2)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        return False


# --------------------------------------------------------------------------- Celery worker


class CeleryWorker:
    """A dagster-celery worker on a Redis broker, sharing the test's instance (DAGSTER_HOME)."""

    def __init__(self, broker_url: str, env: dict[str, str], workdir: Path) -> None:
        self.broker_url = broker_url
        self.workdir = workdir
        self.log = workdir / "celery-worker.log"
        bin_dir = PROJECT_ROOT / ".venv" / "bin"
        self.env = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        import redis

        config = self.workdir / "celery.yaml"
        config.write_text(f"execution:\n  config:\n    broker: {self.broker_url}\n    backend: {self.broker_url}\n")
        self.process = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv" / "bin" / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
             "-y", str(config), "-n", "dataspace-test", "--", "--concurrency=1"],
            cwd=PROJECT_ROOT, env=self.env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Ready once the worker has registered itself on the broker (celery keeps a bindings key).
        client = redis.Redis.from_url(self.broker_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited: {self.log.read_text()[-2000:]}")
            if "ready." in self.log.read_text(errors="replace"):
                return self
            time.sleep(0.2)
        client.close()
        raise RuntimeError(f"celery worker not ready after {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=20)
