"""Runs the `dataspace` command executes in process: quiet console logs, failures named by their cause."""

from __future__ import annotations

import dagster as dg

# The command prints its own summary (failures included, by `failure_messages`): Dagster's console
# log would only repeat it, a failed step as a stack trace. Every event stays in the run's log (UI).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def failure_messages(result: dg.ExecuteInProcessResult) -> list[tuple[str, str]]:
    """(step key, message) of every failed step: a `dg.Failure`'s description, else the innermost cause."""
    failures = []
    for event in result.get_step_failure_events():
        user = event.step_failure_data.user_failure_data
        if user is not None and user.description:  # a dg.Failure: its description is written for the user
            failures.append((event.step_key or "run", user.description.strip()))
            continue
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        failures.append((event.step_key or "run", error.message.strip() if error else "failed"))
    return failures
