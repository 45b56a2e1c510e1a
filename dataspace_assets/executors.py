"""Where the steps of a run execute: in the run's process, in subprocesses, or on Celery workers."""

from __future__ import annotations

import dagster as dg

from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import Settings

EXECUTORS = ("multiprocess", "in_process", "celery")


class _SingleStepInProcess(dg.Executor):
    """Runs a one-step plan in the run's own process, any other plan on the multiprocess executor."""

    def __init__(self, single: dg.Executor, multi: dg.Executor) -> None:
        self._single, self._multi = single, multi

    @property
    def retries(self):
        return self._multi.retries

    @property
    def step_dependency_config(self):
        return self._multi.step_dependency_config

    def execute(self, plan_context, execution_plan):
        # A scheduled collector tick is one step: a subprocess would only add its start-up time.
        single_step = len(execution_plan.step_keys_to_execute) <= 1
        return (self._single if single_step else self._multi).execute(plan_context, execution_plan)


@dg.executor(
    name="multiprocess",
    config_schema={
        "max_concurrent": dg.Field(int, is_required=False, description="steps at once (default: CPU count)"),
        "retries": dg.Field(dg.Permissive(), default_value={"enabled": {}}, description="as the multiprocess executor"),
    },
    requirements=dg.multiple_process_executor_requirements(),
)
def single_step_in_process_executor(init_context):
    """The multiprocess executor, except that a run of one step executes in the run's process."""
    single = dg.in_process_executor.executor_creation_fn(init_context)
    multi = dg.multiprocess_executor.executor_creation_fn(init_context)
    return _SingleStepInProcess(single, multi)


def select_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor named by `DATASPACE_EXECUTOR`, configured from the settings."""
    if settings.executor == "multiprocess":
        return single_step_in_process_executor
    if settings.executor == "in_process":
        return dg.in_process_executor
    if settings.executor == "celery":
        if not settings.celery_broker:
            raise DataspaceError("DATASPACE_EXECUTOR=celery needs DATASPACE_CELERY_BROKER (e.g. redis://host:6379/0)")
        # Imported only here: workers and code servers that never use Celery do not pay for it.
        from dagster_celery import celery_executor

        return celery_executor.configured(
            {"broker": settings.celery_broker, "backend": settings.celery_backend or settings.celery_broker}
        )
    raise DataspaceError(f"DATASPACE_EXECUTOR={settings.executor!r} is not one of {', '.join(EXECUTORS)}")
