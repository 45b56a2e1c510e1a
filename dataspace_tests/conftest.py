"""Fixtures shared by every test package: real services on loopback and isolated settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataspace_assets.settings import Settings, load_settings
from dataspace_tests.services import PROJECT_ROOT, Azurite, FixtureServer, PostgresCluster, RedisServer


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only `shared/` folder beside the project (or `$DATASPACE_SHARED`)."""
    path = Path(os.environ.get("DATASPACE_SHARED") or PROJECT_ROOT.parent / "shared").resolve()
    if not (path / "fixtures").is_dir():
        pytest.fail(
            f"shared fixtures not found at {path}: clone the project beside shared/ "
            "or set DATASPACE_SHARED to its path",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def fixtures_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures"


@pytest.fixture(scope="session")
def deltatwin_examples_dir(shared_dir: Path) -> Path:
    return shared_dir / "deltatwin_examples"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> str:
    """URL of a fresh, empty PostgreSQL database."""
    return postgres_cluster.create_database()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    service = Azurite().start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    service = RedisServer().start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def _fixture_server(fixtures_dir: Path) -> Iterator[FixtureServer]:
    server = FixtureServer(fixtures_dir).start()
    yield server
    server.stop()


@pytest.fixture
def http_server(_fixture_server: FixtureServer) -> Iterator[FixtureServer]:
    """The fixture file server, with its per-path rules and request log reset for this test."""
    _fixture_server.reset()
    yield _fixture_server
    _fixture_server.reset()


@pytest.fixture
def dagster_instance():
    import dagster as dg

    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def pg_dagster_instance(postgres_cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The production Dagster instance: `deploy/dagster.yaml` as it is, its storage on a fresh PostgreSQL database."""
    import shutil

    import dagster as dg

    home = tmp_path / "pg-dagster-home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DATASPACE_PG_URL", postgres_cluster.create_database())
    instance = dg.DagsterInstance.from_config(str(home))
    yield instance
    instance.dispose()


@pytest.fixture
def tmp_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose state lives under tmp_path, also exported to the environment."""
    home = tmp_path / "home"
    configs = tmp_path / "configs"
    configs.mkdir()
    monkeypatch.setenv("DATASPACE_HOME", str(home))
    monkeypatch.setenv("DATASPACE_CONFIGS", str(configs))
    monkeypatch.setenv("DATASPACE_DATABASE_URL", f"sqlite:///{home / 'dataspace.db'}")
    monkeypatch.delenv("DATASPACE_AZURE_CONNECTION_STRING", raising=False)
    monkeypatch.delenv("DATASPACE_BLOBS_DIR", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    return load_settings()


@pytest.fixture
def project_settings(tmp_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """`tmp_settings` reading the project's example `configs/`."""
    monkeypatch.setenv("DATASPACE_CONFIGS", str(PROJECT_ROOT / "configs"))
    return load_settings()
