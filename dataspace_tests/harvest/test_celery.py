"""DATASPACE_EXECUTOR=celery: `dataspace harvest run` and `dataspace run` send their steps to a Celery worker on Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from dataspace_assets.harvest import actions
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.instance import get_instance
from dataspace_assets.settings import PROJECT_ROOT, Settings
from dataspace_tests.services import CeleryWorker


@pytest.mark.timeout(600)
def test_harvest_run_steps_run_on_the_celery_worker_and_stopping_it_leaves_no_orphan(
    tmp_settings: Settings, plugin_path: Path, redis_server, tmp_path: Path
) -> None:
    env = {
        "PYTHONPATH": os.pathsep.join([str(plugin_path), str(PROJECT_ROOT)]),
        "DATASPACE_EXECUTOR": "celery",
        "DATASPACE_CELERY_BROKER": redis_server.url,
        "DATASPACE_HARVEST_CHUNK_SIZE": "50",  # two process steps, so the fan-out crosses the worker too
    }
    instance = get_instance(tmp_settings)  # the persistent instance the worker shares
    catalog = Catalog.from_settings(tmp_settings)
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Portal", validation_state="accepted",
        config={"count": 60},
    )
    worker = CeleryWorker(redis_server.url, env, tmp_path).start()
    try:
        command = subprocess.Popen(
            [str(Path(sys.executable).parent / "dataspace"), "harvest", "run", "portal"],
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        out, err = command.communicate(timeout=400)
        assert command.returncode == 0, out + err + worker.log.read_text()[-3000:]
        tree = [psutil.Process(worker.process.pid), *psutil.Process(worker.process.pid).children(recursive=True)]
        [job] = catalog.list_jobs(source.id)
        assert job.status == "done" and job.items_by_status["done"] == 60
        [run] = instance.get_runs()
        steps = [e for e in instance.all_logs(run.run_id) if e.is_dagster_event and e.dagster_event.is_step_success]
        assert len(steps) == 4  # initialize, two chunks, finalize
        step_pids = {e.dagster_event.pid for e in steps}
        assert command.pid not in step_pids  # no step ran in the command's process
        assert step_pids <= {p.pid for p in tree}  # every step ran in the worker
        assert run.tags["dataspace/run-process"]  # the run itself is the command's: the reaper can watch it
    finally:
        worker.stop()
    gone, alive = psutil.wait_procs(tree, timeout=30)
    assert alive == []  # stopping the worker's process group leaves no orphan


@pytest.mark.timeout(600)
def test_dataspace_run_steps_run_on_the_celery_worker(project_settings: Settings, redis_server, tmp_path: Path) -> None:
    env = {
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATASPACE_EXECUTOR": "celery",
        "DATASPACE_CELERY_BROKER": redis_server.url,
    }
    instance = get_instance(project_settings)
    worker = CeleryWorker(redis_server.url, env, tmp_path).start()
    try:
        command = subprocess.Popen(
            [str(Path(sys.executable).parent / "dataspace"), "run"],
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        out, err = command.communicate(timeout=400)
        assert command.returncode == 0, out + err + worker.log.read_text()[-3000:]
        assert out.splitlines()[0] == "declared harvest sources synced: 1"
        assert "FAILED" not in out and "materialized " in out
        tree = {worker.process.pid, *(p.pid for p in psutil.Process(worker.process.pid).children(recursive=True))}
        runs = instance.get_runs()
        # one run of the unpartitioned assets, one per partition (harvest source, latest hour) and Parquet level
        assert {run.job_name for run in runs} == {"dataspace_main_job"} and len(runs) >= 3
        steps = [
            e for run in runs for e in instance.all_logs(run.run_id)
            if e.is_dagster_event and e.dagster_event.is_step_success
        ]
        step_pids = {e.dagster_event.pid for e in steps}
        assert steps and command.pid not in step_pids and step_pids <= tree
    finally:
        worker.stop()
