"""Instances: the embedded default under .dataspace/, and the production config on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from dataspace_assets.instance import INSTANCE_TEMPLATE, LOCK_FILE, get_instance, home_lock, prepare_dagster_home
from dataspace_tests.services import PROJECT_ROOT

# Opens the instance of the environment's homes once the file argv[1] exists, and queries each storage.
OPENER = """
import sys, time
from pathlib import Path
from dataspace_assets.instance import get_instance
from dataspace_assets.settings import load_settings

settings = load_settings()
print("ready", flush=True)  # everything imported: what follows is the instance's first opening only
while not Path(sys.argv[1]).exists():
    time.sleep(0.001)
instance = get_instance(settings)
instance.get_runs(limit=1)
instance.get_asset_keys()
instance.get_dynamic_partitions("probe")
print("opened", flush=True)
"""


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


def start_openers(home: Path, go: Path, count: int) -> list[subprocess.Popen]:
    """`count` processes on the fresh home `home`, each waiting for `go` to open its instance; all ready."""
    env = {**os.environ, "DATASPACE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    processes = []
    for _ in range(count):
        log = tempfile.TemporaryFile()
        process = subprocess.Popen(
            [sys.executable, "-c", OPENER, str(go)], cwd=PROJECT_ROOT, env=env, start_new_session=True,
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        process.log = log  # type: ignore[attr-defined]
        processes.append(process)
    for process in processes:
        assert process.stdout.readline().strip() == "ready", log_of(process)  # type: ignore[union-attr]
    return processes


def log_of(process: subprocess.Popen) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read().decode(errors="replace")[-3000:]  # type: ignore[attr-defined]


@pytest.mark.parametrize("attempt", range(2))  # a race is a matter of timing: two fresh homes
def test_processes_opening_a_fresh_home_at_once_all_succeed(tmp_path, attempt) -> None:
    home, go = tmp_path / "home", tmp_path / "go"
    processes = start_openers(home, go, 4)
    go.touch()  # released together: each opens the instance of a home that has none yet
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0 and out.strip() == "opened", log_of(process)
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        assert instance.get_runs() == []


def test_the_first_opening_waits_for_the_home_lock(tmp_path) -> None:
    home, go = tmp_path / "home", tmp_path / "go"
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    with home_lock(dagster_home):
        [process] = start_openers(home, go, 1)
        go.touch()
        # While this test holds the lock the opener waits: no config copied, no storage created.
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=3)
        assert sorted(p.name for p in dagster_home.iterdir()) == [LOCK_FILE]
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0 and out.strip() == "opened", log_of(process)
    assert (dagster_home / "dagster.yaml").is_file() and (dagster_home / "history").is_dir()


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
