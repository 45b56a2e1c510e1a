"""Executor selection from DATASPACE_EXECUTOR."""

from __future__ import annotations

import dagster as dg
import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.executors import select_executor
from dataspace_assets.settings import load_settings


def test_default_is_multiprocess(tmp_settings) -> None:
    assert select_executor(tmp_settings) is dg.multiprocess_executor


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
