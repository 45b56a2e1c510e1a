"""Harvests under faults: a `dataspace harvest run` killed with SIGKILL, and two runs of one source at once.

Each test runs the real `dataspace` console script in subprocesses, on SQLite (the embedded
instance) and on PostgreSQL (deploy/dagster.yaml and a PostgreSQL catalogue).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from dataspace_assets.harvest import actions
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.catalog import models as m
from dataspace_assets.settings import PROJECT_ROOT, load_settings

SCRIPT = Path(sys.executable).parent / "dataspace"


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(request: pytest.FixtureRequest, tmp_settings, plugin_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(environment of the subprocesses, catalogue, instance) of a deployment on SQLite or on PostgreSQL."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(PROJECT_ROOT)])}
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        home = Path(tmp_settings.dagster_home)
        home.mkdir(parents=True)
        shutil.copyfile(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
        monkeypatch.setenv("DATASPACE_PG_URL", cluster.create_database())
        monkeypatch.setenv("DATASPACE_DATABASE_URL", cluster.create_database())
        env.update(DATASPACE_PG_URL=os.environ["DATASPACE_PG_URL"], DATASPACE_DATABASE_URL=os.environ["DATASPACE_DATABASE_URL"])
    settings = load_settings()
    from dataspace_assets.instance import get_instance

    instance = get_instance(settings)
    catalog = Catalog.from_settings(settings)
    yield env, catalog, instance
    catalog.close()
    instance.dispose()


def _start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCRIPT), "harvest", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )


def _wait_for(condition, timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _assert_consistent(catalog: Catalog) -> None:
    """No duplicate dataset per remote id, no orphan resource or contact link, every done item at its dataset."""
    with catalog.engine.connect() as conn:
        dupes = conn.execute(
            sa.select(m.datasets.c.harvest_source_id, m.datasets.c.harvest_remote_id)
            .where(m.datasets.c.harvest_remote_id.is_not(None))
            .group_by(m.datasets.c.harvest_source_id, m.datasets.c.harvest_remote_id)
            .having(sa.func.count() > 1)
        ).all()
        assert dupes == []
        ids = set(conn.execute(sa.select(m.datasets.c.id)).scalars())
        assert set(conn.execute(sa.select(m.resources.c.dataset_id)).scalars()) <= ids
        assert set(conn.execute(sa.select(m.dataset_contact_points.c.dataset_id)).scalars()) <= ids
        done = conn.execute(sa.select(m.items.c.dataset_id).where(m.items.c.status == "done", m.items.c.kind == "dataset"))
        assert set(done.scalars()) <= ids


def test_a_killed_run_is_closed_and_the_next_run_harvests(deployment) -> None:
    env, catalog, instance = deployment
    source = actions.create_source(
        catalog, backend="factory", url="http://slow.test/", name="Slow", validation_state="accepted",
        config={"count": 120, "delay": 0.05},
    )
    process = _start(env, "run", "slow")
    try:
        _wait_for(
            lambda: any((j.items_by_status or {}).get("done", 0) > 0 for j in catalog.list_jobs(source.id)),
            what="the first chunk to be stored",
        )
        os.kill(process.pid, signal.SIGKILL)  # the process only, as the kernel's OOM killer would
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    [job] = catalog.list_jobs(source.id)
    assert job.status == "processing"
    [run] = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.STARTED  # nobody is left to end it
    assert catalog.source_lock(source.id)["run_id"] == run.run_id

    # the harvest sensor's tick reaps it
    from dataspace_assets.harvest.definitions import build_defs

    defs = build_defs(load_settings())
    defs.resolve_sensor_def("harvest_schedule_sensor").evaluate_tick(
        dg.build_sensor_context(instance=instance, definitions=defs)
    )
    closed = catalog.get_job(job.id)
    assert closed.status == "failed" and closed.ended is not None
    assert closed.errors[-1]["message"] == (
        f"harvest job closed: the process of its Dagster run {run.run_id} (pid {process.pid}) is gone "
        "before the job ended"
    )
    assert not {"pending", "started"} & {i.status for i in catalog.get_items(job.id)}
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE  # its queue place is free
    assert catalog.source_lock(source.id) is None

    again = _start(env, "run", "slow")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    newest = catalog.list_jobs(source.id)[0]
    assert newest.id != job.id and f"job {newest.id} of slow: done" in out
    assert catalog.count("datasets") == 120
    _assert_consistent(catalog)


def test_a_dead_job_is_closed_at_the_start_of_the_next_run(deployment) -> None:
    env, catalog, instance = deployment
    source = actions.create_source(
        catalog, backend="factory", url="http://slow.test/", name="Slow", validation_state="accepted",
        config={"count": 60, "delay": 0.05},
    )
    process = _start(env, "run", "slow")
    try:
        _wait_for(lambda: bool(catalog.list_jobs(source.id)), what="the job")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    [dead] = catalog.list_jobs(source.id)
    again = _start(env, "run", "slow")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert catalog.get_job(dead.id).status == "failed"
    assert f"job {dead.id}" not in out  # the command reports its own job, never the dead one
    _assert_consistent(catalog)


def test_two_runs_of_one_source_at_once_harvest_once(deployment) -> None:
    env, catalog, instance = deployment
    source = actions.create_source(
        catalog, backend="factory", url="http://slow.test/", name="Slow", validation_state="accepted",
        config={"count": 60, "delay": 0.1},
    )
    first, second = _start(env, "run", "slow"), _start(env, "run", "slow")
    results = [p.communicate(timeout=300) for p in (first, second)]
    codes = sorted((first.returncode, second.returncode))
    assert codes == [0, 1], results
    refused = results[0] if first.returncode == 1 else results[1]
    assert 'harvest source "slow" is already being harvested by Dagster run ' in refused[1]
    assert "job " not in refused[0]  # it prints no job: not the other run's
    [job] = catalog.list_jobs(source.id)
    assert job.status == "done" and job.items_by_status["done"] == 60
    assert catalog.count("datasets") == 60
    _assert_consistent(catalog)
