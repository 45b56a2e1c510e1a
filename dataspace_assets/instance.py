"""The Dagster instance a deployment runs on: `$DAGSTER_HOME`, seeded with the embedded dagster_embedded.yaml.

Its storage is created once, under an exclusive lock on `$DAGSTER_HOME/.instance.lock`: Dagster creates its
SQLite schemas (runs, event log index, schedules) when an instance is first opened, with no guard against a
second process doing the same at that moment ("table ... already exists"). The first process to take the lock
creates them and leaves a marker; the others wait for it, then open the ready instance.
"""

from __future__ import annotations

import os
import shutil
from contextlib import AbstractContextManager
from pathlib import Path

import dagster as dg

from dataspace_assets.settings import Settings
from dataspace_assets.storage.locks import file_lock

INSTANCE_TEMPLATE = Path(__file__).resolve().parent / "dagster_embedded.yaml"  # package data, not ./dagster.yaml
LOCK_FILE = ".instance.lock"
READY_FILE = ".instance-ready"  # the storage was created; delete it with the storage to have it created again


def home_lock(home: Path) -> AbstractContextManager[None]:
    """Hold the exclusive lock of a Dagster home (waiting for the process that holds it)."""
    return file_lock(home / LOCK_FILE)


def prepare_dagster_home(settings: Settings) -> None:
    """Create `$DAGSTER_HOME` with the embedded instance config and the instance's storage, once."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    target, ready = home / "dagster.yaml", home / READY_FILE
    if target.exists() and ready.exists():
        return
    with home_lock(home):
        if not target.exists():
            shutil.copyfile(INSTANCE_TEMPLATE, target)
        if not ready.exists():  # another process may have created it while this one waited
            instance = dg.DagsterInstance.get()  # opening it creates the storage (its SQLite schemas)
            instance.dispose()
            ready.write_text("the Dagster instance storage of this home was created\n")


def get_instance(settings: Settings) -> dg.DagsterInstance:
    """Open the persistent instance under `settings.dagster_home`."""
    prepare_dagster_home(settings)
    return dg.DagsterInstance.get()
