"""Runs the `dataspace` command executes in process: quiet console logs, failures named by their cause."""

from __future__ import annotations

import os
import socket

import dagster as dg

# The command prints its own summary (failures included, by `failure_messages`): Dagster's console
# log would only repeat it, a failed step as a stack trace. Every event stays in the run's log (UI).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# A run executed by a `dataspace` command carries the process that runs it, so that a run whose
# process died (kill -9) can be told from one still running (harvest/reaper.py).
PROCESS_TAG = "dataspace/run-process"
LAUNCHED_BY_TAG = "dataspace/launched-by"


def process_identity(pid: int | None = None) -> str:
    """`host:pid:start time` of a process (this one by default): what a dead process is told apart by."""
    import psutil

    process = psutil.Process(pid or os.getpid())
    return f"{socket.gethostname()}:{process.pid}:{process.create_time():.2f}"


def process_tags() -> dict[str, str]:
    """The tag of a run executed in this process."""
    return {PROCESS_TAG: process_identity()}


def failure_messages(result: dg.ExecuteInProcessResult) -> list[tuple[str, str]]:
    """(step key, message) of every failed step: a `dg.Failure`'s description, else the innermost cause."""
    failures = []
    for event in result.get_step_failure_events():
        user = event.step_failure_data.user_failure_data
        if user is not None and user.description:  # a dg.Failure: its description is written for the user
            failures.append((event.step_key or "run", user.description.strip()))
            continue
        failures.append((event.step_key or "run", _innermost(event.step_failure_data.error)))
    if not failures and not result.success:
        # No step failed: the run itself did (Dagster's own machinery, e.g. its storage): say why, not "failed".
        for event in result.all_events:
            if event.event_type == dg.DagsterEventType.RUN_FAILURE:
                error = getattr(event.event_specific_data, "error", None)
                failures.append(("run", f"{event.message}: {_innermost(error)}" if error else event.message or "failed"))
    return failures


def _innermost(error) -> str:  # noqa: ANN001 (Dagster's serialisable error info)
    """The message of the innermost cause of an error: what went wrong, not the wrappers around it."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "failed"


# --------------------------------------------------------------------------- the run queue's tag limits

# What the run queue counts against a tag concurrency limit: runs the daemon has launched or that run
# in a command's process (a QUEUED run holds no slot yet).
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def tag_limits(instance: dg.DagsterInstance) -> list[dict]:
    """The instance's run tag concurrency limits (`concurrency.runs.tag_concurrency_limits` of dagster.yaml)."""
    queue = instance.get_concurrency_config().run_queue_config
    return list(queue.tag_concurrency_limits or []) if queue is not None else []


def _applies(rule: dict, tags: dict[str, str]) -> bool:
    value = rule.get("value")
    return rule["key"] in tags and (value is None or isinstance(value, dict) or value == tags[rule["key"]])


def _holds(rule: dict, tags: dict[str, str], run: dg.DagsterRun) -> bool:
    """Whether `run` takes a slot of `rule` that a run of `tags` would take too."""
    key, value = rule["key"], rule.get("value")
    if key not in run.tags:
        return False
    return value is None or run.tags[key] == tags[key]  # a per-unique-value or an exact-value rule: same value


def full_limits(instance: dg.DagsterInstance, tags: dict[str, str]) -> list[tuple[str, int, list[str]]]:
    """Each tag limit a run of `tags` would go past now: (tag=value, limit, ids of the runs holding it)."""
    rules = [r for r in tag_limits(instance) if _applies(r, tags)]
    if not rules:
        return []
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    full = []
    for rule in rules:
        holders = [run.run_id for run in runs if _holds(rule, tags, run)]
        if len(holders) >= int(rule["limit"]):
            full.append((f"{rule['key']}={tags[rule['key']]}", int(rule["limit"]), holders))
    return full
