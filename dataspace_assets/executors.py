"""Where the steps of a run execute: in the run's process, in subprocesses, or on Celery workers."""

from __future__ import annotations

import dagster as dg

from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import Settings

EXECUTORS = ("multiprocess", "in_process", "celery")


def select_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor named by `DATASPACE_EXECUTOR`, configured from the settings."""
    if settings.executor == "multiprocess":
        return dg.multiprocess_executor
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
