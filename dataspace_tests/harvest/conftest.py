"""Fixtures of the harvest tests: the factory backend installed as a real plugin, and a catalogue."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataspace_assets.harvest.catalog import Catalog

ENTRY_POINT = "factory = dataspace_tests.harvest.factory_backend:FactoryBackend\n"


def install_plugin(root: Path, name: str = "dataspace_factory_plugin", entry: str = ENTRY_POINT) -> Path:
    """Write a minimal installed distribution declaring a harvest backend entry point under root."""
    dist = root / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[dataspace.harvest.backends]\n{entry}")
    return root


@pytest.fixture(scope="session")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder on sys.path holding the factory backend's distribution metadata (a real entry point)."""
    root = install_plugin(tmp_path_factory.mktemp("plugins"))
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    yield root
    sys.path.remove(str(root))


@pytest.fixture
def catalog(tmp_path: Path, plugin_path: Path) -> Iterator[Catalog]:
    """A fresh SQLite catalogue with the factory backend available."""
    cat = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield cat
    cat.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def harvest_env(request: pytest.FixtureRequest, tmp_settings, monkeypatch: pytest.MonkeyPatch, plugin_path: Path):
    """(settings, Dagster instance) on SQLite (test instance), or on PostgreSQL (deploy/dagster.yaml, catalogue too)."""
    import dagster as dg

    from dataspace_assets.settings import load_settings

    if request.param == "sqlite":
        with dg.instance_for_test() as instance:
            yield tmp_settings, instance
        return
    monkeypatch.setenv("DATASPACE_DATABASE_URL", request.getfixturevalue("pg_url"))
    yield load_settings(), request.getfixturevalue("pg_dagster_instance")
