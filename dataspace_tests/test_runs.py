"""Runs executed by the `dataspace` commands: failures are named by their cause."""

from __future__ import annotations

import dagster as dg

from dataspace_assets.runs import failure_messages


@dg.resource
def _broken(_) -> None:
    raise RuntimeError("the broker is down")


@dg.op(required_resource_keys={"broken"})
def _uses() -> int:
    return 1


@dg.job(resource_defs={"broken": _broken})
def _job() -> None:
    _uses()


@dg.op
def _fails() -> None:
    raise dg.Failure(description="the remote answered 503")


@dg.job
def _failing_step() -> None:
    _fails()


def test_a_failed_step_is_named_by_its_description() -> None:
    result = _failing_step.execute_in_process(raise_on_error=False)
    assert failure_messages(result) == [("_fails", "the remote answered 503")]


def test_a_run_that_fails_outside_its_steps_says_why() -> None:
    result = _job.execute_in_process(raise_on_error=False)
    [(where, message)] = failure_messages(result)
    assert where == "run" and message.endswith("RuntimeError: the broker is down")
