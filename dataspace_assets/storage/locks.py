"""One process at a time per harvester: a lock held by the database session (PostgreSQL) or a file (SQLite).

Dagster's run queue limits harvester runs to one per harvester (a tag concurrency limit), but runs the
command line executes in process bypass the queue: this lock covers them too. Both kinds are released by
the operating system or the database when their holder dies, so a `kill -9` never leaves a stale lock.
`file_lock` is also the file lock of the other modules (the Dagster home, a harvest source's start, a twin's
environment build).
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from dataspace_assets.storage.index import check_name

if TYPE_CHECKING:
    from dataspace_assets.storage.store import DataStore


def _key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    return int.from_bytes(hashlib.blake2b(f"dataspace:{name}".encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def exclusive(
    store: DataStore, name: str, *, on_wait: Callable[[], None] | None = None, poll_seconds: float = 0.2
) -> Iterator[None]:
    """Hold the lock of component `name` for the block; wait (calling `on_wait` once) while another holds it."""
    check_name(name)
    engine = store.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = _key(name)
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
                if on_wait:
                    on_wait()
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield  # one process owns an in-memory database: nothing to share
        return
    folder = Path(database).with_name(Path(database).name + ".locks")
    folder.mkdir(parents=True, exist_ok=True)
    waited = False

    def wait_once() -> None:
        nonlocal waited
        if on_wait and not waited:
            on_wait()
        waited = True

    with file_lock(folder / f"{name}.lock", while_busy=wait_once, poll_seconds=poll_seconds):
        yield


@contextmanager
def file_lock(
    path: Path, *, while_busy: Callable[[], None] | None = None, poll_seconds: float = 0.1
) -> Iterator[None]:
    """Hold an exclusive lock on `path`, released when the file is closed, also when the process dies.

    Without `while_busy` it waits for the process that holds it; with it, `while_busy` runs between tries
    (every `poll_seconds`) and gives up by raising.
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
                time.sleep(poll_seconds)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
