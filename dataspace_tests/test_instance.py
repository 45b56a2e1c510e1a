"""Instances: the embedded default under .dataspace/, and the production config on PostgreSQL."""

from __future__ import annotations

import shutil

import dagster as dg
import sqlalchemy as sa
import yaml

from dataspace_assets.instance import INSTANCE_TEMPLATE, get_instance, prepare_dagster_home
from dataspace_tests.services import PROJECT_ROOT


def test_embedded_instance_is_sqlite_under_dataspace_home(tmp_settings) -> None:
    instance = get_instance(tmp_settings)
    assert (tmp_settings.dagster_home / "dagster.yaml").read_text() == INSTANCE_TEMPLATE.read_text()
    assert type(instance.run_storage).__name__ == "SqliteRunStorage"
    assert instance.root_directory == str(tmp_settings.dagster_home)
    config = yaml.safe_load(INSTANCE_TEMPLATE.read_text())
    assert config["nux"] == {"enabled": False}
    assert config["concurrency"]["runs"]["max_concurrent_runs"] > 0


def test_prepare_keeps_an_existing_instance_config(tmp_settings) -> None:
    tmp_settings.dagster_home.mkdir(parents=True)
    (tmp_settings.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_dagster_home(tmp_settings)
    assert (tmp_settings.dagster_home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_production_instance_stores_runs_in_postgres(pg_url, tmp_path, monkeypatch) -> None:
    home = tmp_path / "dagster-home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DATASPACE_PG_URL", pg_url)

    @dg.asset
    def probe() -> int:
        """A one-value asset to prove runs land in PostgreSQL."""
        return 42

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = dg.materialize([probe], instance=instance)
        assert result.success
        assert instance.get_latest_materialization_event(dg.AssetKey("probe")) is not None

    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM asset_keys")).scalar() >= 1
    engine.dispose()
