"""Executor selection from DATASPACE_EXECUTOR."""

from __future__ import annotations

import dagster as dg
import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.executors import select_executor, single_step_in_process_executor
from dataspace_assets.settings import load_settings


def test_default_is_multiprocess_with_single_steps_in_process(tmp_settings) -> None:
    assert select_executor(tmp_settings) is single_step_in_process_executor


def test_in_process(tmp_settings, monkeypatch) -> None:
    monkeypatch.setenv("DATASPACE_EXECUTOR", "in_process")
    assert select_executor(load_settings()) is dg.in_process_executor


def test_celery_needs_a_broker(tmp_settings, monkeypatch) -> None:
    monkeypatch.setenv("DATASPACE_EXECUTOR", "celery")
    with pytest.raises(DataspaceError, match="DATASPACE_EXECUTOR=celery needs DATASPACE_CELERY_BROKER"):
        select_executor(load_settings())
    monkeypatch.setenv("DATASPACE_CELERY_BROKER", "redis://127.0.0.1:1/0")
    executor = select_executor(load_settings())
    assert executor.name == "celery"


def test_unknown_executor_is_named(tmp_settings, monkeypatch) -> None:
    monkeypatch.setenv("DATASPACE_EXECUTOR", "k8s")
    with pytest.raises(DataspaceError, match="DATASPACE_EXECUTOR='k8s' is not one of multiprocess, in_process, celery"):
        select_executor(load_settings())


def one_step_job() -> dg.JobDefinition:
    """A one-asset job on the default executor (rebuilt by reconstructable in the run)."""

    @dg.asset
    def tick() -> int:
        import os

        return os.getpid()

    @dg.asset(deps=[tick])
    def after() -> int:
        import os

        return os.getpid()

    job = dg.define_asset_job("ticks", executor_def=single_step_in_process_executor)
    return dg.Definitions(assets=[tick, after], jobs=[job]).resolve_job_def("ticks")


def test_a_single_step_runs_in_the_run_process_and_more_steps_in_subprocesses(tmp_path, monkeypatch) -> None:
    import os

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        with dg.execute_job(dg.reconstructable(one_step_job), instance=instance, asset_selection=[dg.AssetKey("tick")]) as one:
            assert one.success
            [step] = [e for e in one.all_events if e.is_step_success]
            assert step.pid == os.getpid()  # no subprocess for a one-step run
        with dg.execute_job(dg.reconstructable(one_step_job), instance=instance) as two:
            assert two.success
            pids = {e.pid for e in two.all_events if e.is_step_success}
            assert os.getpid() not in pids and len(pids) == 2
