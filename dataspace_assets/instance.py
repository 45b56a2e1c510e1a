"""The Dagster instance a deployment runs on: `$DAGSTER_HOME`, seeded with the embedded dagster_embedded.yaml.

Its storage is created once, under an exclusive lock on `$DAGSTER_HOME/.instance.lock`: Dagster creates its
SQLite schemas (runs, event log index, schedules) when an instance is first opened, with no guard against a
second process doing the same at that moment ("table ... already exists"). The first process to take the lock
creates them and leaves a marker; the others wait for it, then open the ready instance.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import dagster as dg

from dataspace_assets.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).resolve().parent / "dagster_embedded.yaml"  # package data, not ./dagster.yaml
LOCK_FILE = ".instance.lock"
LOCK_POLL_SECONDS = 0.1  # how often a lock with `while_busy` is tried again
READY_FILE = ".instance-ready"  # the storage was created; delete it with the storage to have it created again


@contextmanager
def file_lock(path: Path, *, while_busy: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path`, released when the file is closed, also when the process dies.

    Without `while_busy` it waits for the process that holds it; with it, `while_busy` runs between tries
    and gives up by raising.
    """
    with open(path, "a") as handle:
        if while_busy is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    pass
                while_busy()  # outside the except: what it raises is not chained to BlockingIOError
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
