"""The reaper: open jobs and source locks of dead Dagster runs are closed; live ones are left alone."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from dataspace_assets.harvest import actions
from dataspace_assets.harvest.assets import HARVEST_JOB_NAME, run_tags
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.definitions import build_defs
from dataspace_assets.harvest.reaper import reap, run_death
from dataspace_assets.runs import PROCESS_TAG, process_identity


def _dead_pid_identity() -> str:
    """The identity of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(child.pid)
    child.wait()
    return identity


def test_jobs_of_failed_runs_and_of_gone_processes_are_closed_live_ones_kept(harvest_env) -> None:
    settings, instance = harvest_env
    catalog = Catalog.from_settings(settings)
    job_def = build_defs(settings).resolve_job_def(HARVEST_JOB_NAME)
    sources = [
        actions.create_source(catalog, backend="factory", url=f"http://{n}.test/", name=n, validation_state="accepted")
        for n in ("failed", "gone", "live", "here")
    ]
    failed_run = instance.create_run_for_job(job_def, tags=run_tags("failed", "failed.test"))
    instance.report_run_failed(failed_run, message="database error")  # e.g. the step raised
    gone_run = instance.create_run_for_job(job_def, tags={PROCESS_TAG: _dead_pid_identity()})
    instance.report_run_canceling(gone_run)  # a live status: only the process tells it is dead
    live_run = instance.create_run_for_job(job_def)  # queued: alive
    here_run = instance.create_run_for_job(job_def, tags={PROCESS_TAG: process_identity()})
    instance.report_run_canceling(here_run)
    jobs = {}
    for source, run in zip(sources, (failed_run, gone_run, live_run, here_run)):
        job = catalog.create_job(source.id, status="processing")
        catalog.update_job(job.id, dagster_run_id=run.run_id)
        catalog.add_items(job.id, [{"remote_id": "a"}, {"remote_id": "b", "status": "done"}])
        assert catalog.claim_source(source.id, run.run_id) is None
        jobs[source.slug] = job.id
    assert run_death(instance, here_run.run_id) is None and run_death(instance, live_run.run_id) is None

    reaped = reap(catalog, instance)
    assert sorted(reaped.jobs) == sorted([jobs["failed"], jobs["gone"]])
    failed = catalog.get_job(jobs["failed"])
    assert failed.status == "failed"
    assert failed.errors[-1]["message"] == (
        f"harvest job closed: its Dagster run {failed_run.run_id} ended (FAILURE) before the job ended"
    )
    assert [i.status for i in catalog.get_items(jobs["failed"])] == ["failed", "done"]
    assert instance.get_run_by_id(gone_run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert catalog.get_job(jobs["live"]).status == "processing"
    assert catalog.get_job(jobs["here"]).status == "processing"
    assert {lock["source_id"] for lock in catalog.source_locks()} == {sources[2].id, sources[3].id}
    assert reap(catalog, instance).jobs == []  # nothing twice
    catalog.close()
