"""Harvest runs that died: close their jobs as failed, free their source, and mark their Dagster run failed.

A run executed in the `dataspace` process (`dataspace harvest run`, `dataspace run`) carries the tag
`dataspace/run-process` = `host:pid:start` of that process: when that process is gone (kill -9,
out of memory, a closed terminal) the run can never end by itself. A run launched by the daemon
gets the tag from its first harvest step when its run worker runs on the same host (the step's
own process or its parent); otherwise it ends through Dagster (run monitoring).
The reaper runs on every tick of the harvest sensor and at the start of every run of a source.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import dagster as dg
import psutil

from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.runs import PROCESS_TAG, process_identity, process_tags

__all__ = ["PROCESS_TAG", "process_identity", "process_tags", "reap", "run_death", "tag_run_worker"]
START_TIME_SLACK = 2.0  # seconds
LIVE_STATUSES = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


def _process_gone(identity: str) -> bool:
    """Whether the process named by a `host:pid:start` tag has ended (only this host's processes can be told)."""
    host, _, rest = identity.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        process = psutil.Process(int(pid_text))
        # A recycled pid belongs to a process started later; a zombie is as dead as can be. Start
        # times are compared loosely: the kernel's boot time, which they derive from, can move by 1 s.
        recycled = abs(process.create_time() - float(started or 0)) > START_TIME_SLACK
        return recycled or process.status() == psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ValueError):
        return True


def tag_run_worker(instance: dg.DagsterInstance, run_id: str) -> None:
    """Give a run launched elsewhere (the daemon) the process tag, when its run worker is this step's process or parent."""
    import os

    run = instance.get_run_by_id(run_id)
    if run is None or PROCESS_TAG in run.tags:
        return
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    event = records[0].event_log_entry.dagster_event if records else None
    pid = event.pid if event is not None else None
    # Only a worker seen from here can be watched: with Celery or Kubernetes it runs on another host.
    if pid is not None and pid in (os.getpid(), os.getppid()):
        instance.add_run_tags(run_id, {PROCESS_TAG: process_identity(pid)})


def run_death(instance: dg.DagsterInstance, run_id: str | None) -> str | None:
    """Why the Dagster run is dead (finished, missing, or its process gone), or None while it may still run."""
    if not run_id:
        return None
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"its Dagster run {run_id} no longer exists"
    if run.status not in LIVE_STATUSES:
        return f"its Dagster run {run_id} ended ({run.status.value})"
    identity = run.tags.get(PROCESS_TAG)
    if identity and _process_gone(identity):
        pid = identity.split(":")[1]
        return f"the process of its Dagster run {run_id} (pid {pid}) is gone"
    return None


@dataclass
class Reaped:
    """What one pass of the reaper closed."""

    jobs: list[str]
    locks: list[str]
    runs: list[str]


def _fail_run(instance: dg.DagsterInstance, run_id: str, reason: str) -> bool:
    run = instance.get_run_by_id(run_id)
    if run is None or run.status not in LIVE_STATUSES:
        return False
    # Public instance API: the run ends FAILURE, which frees its place in the run queue (tag limits).
    instance.report_run_failed(run, message=f"dataspace: {reason}; marked failed")
    return True


def reap(catalog: Catalog, instance: dg.DagsterInstance, source_id: str | None = None) -> Reaped:
    """Close the jobs and free the sources whose run is dead (of one source, or all); mark those runs failed."""
    reaped = Reaped([], [], [])
    dead_runs: dict[str, str] = {}
    for job in catalog.open_jobs(source_id):
        reason = run_death(instance, job.dagster_run_id)
        if reason is None:
            continue
        catalog.close_dead_job(job.id, f"harvest job closed: {reason} before the job ended")
        reaped.jobs.append(job.id)
        dead_runs[job.dagster_run_id] = reason
    for lock in catalog.source_locks(source_id):
        reason = dead_runs.get(lock["run_id"]) or run_death(instance, lock["run_id"])
        if reason is None:
            continue
        catalog.release_source(lock["source_id"], lock["run_id"])
        reaped.locks.append(lock["source_id"])
        dead_runs[lock["run_id"]] = reason
    if source_id is None:
        # Runs killed before they took their source (or runs of other jobs) still hold their queue place.
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(LIVE_STATUSES))):
            identity = run.tags.get(PROCESS_TAG)
            if run.run_id not in dead_runs and identity and _process_gone(identity):
                dead_runs[run.run_id] = f"the process of this run (pid {identity.split(':')[1]}) is gone"
    for run_id, reason in dead_runs.items():
        if _fail_run(instance, run_id, reason):
            reaped.runs.append(run_id)
    return reaped
