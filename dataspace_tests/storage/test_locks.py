"""File and harvester locks: held against other real processes, released when their holder dies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dataspace_assets.storage.locks import exclusive, file_lock

# Holds an exclusive lock on argv[1] until its stdin closes or it is killed (at the latest after a minute, so
# a lock that waits instead of calling `while_busy` fails the test rather than hanging it).
HOLDER = """
import fcntl, signal, sys
signal.alarm(60)
with open(sys.argv[1], "a") as handle:
    fcntl.flock(handle, fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.read()
"""


# Prints whether the lock on argv[1] could be taken at once.
TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("taken")
    except BlockingIOError:
        print("busy")
"""


def hold_lock(path: Path) -> subprocess.Popen:
    """Another process holding the lock on `path` (started, and holding it, when this returns)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


class GiveUp(Exception):
    """Raised by the test's `while_busy` to stop waiting."""


def test_a_lock_held_by_another_process_calls_while_busy_until_it_is_free(tmp_path) -> None:
    path = tmp_path / "source.lock"
    holder = hold_lock(path)
    try:
        tries: list[int] = []

        def give_up_on_the_third_try() -> None:
            tries.append(1)
            if len(tries) == 3:
                raise GiveUp

        with pytest.raises(GiveUp) as raised:
            with file_lock(path, while_busy=give_up_on_the_third_try):
                pytest.fail("the lock was taken while another process held it")
        assert len(tries) == 3 and raised.value.__context__ is None  # not chained to the BlockingIOError
        holder.kill()  # the lock goes with the process, also when it is killed
        holder.wait(timeout=30)
        with file_lock(path, while_busy=lambda: pytest.fail("the dead process's lock was still held")):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_harvester_lock_on_sqlite_waits_for_its_holder_and_says_so_once(sqlite_store) -> None:
    folder = Path(sqlite_store.engine.url.database + ".locks")
    folder.mkdir()
    holder = hold_lock(folder / "feed.lock")
    try:
        waits: list[int] = []

        def release_on_wait() -> None:  # the holder ends while this process waits
            waits.append(1)
            holder.kill()

        with exclusive(sqlite_store, "feed", on_wait=release_on_wait, poll_seconds=0.01):
            # Held here: a third process cannot take it.
            other = subprocess.run(
                [sys.executable, "-c", TRY_LOCK, str(folder / "feed.lock")], capture_output=True, text=True, timeout=60
            )
            assert other.stdout.strip() == "busy"
        assert waits == [1]
    finally:
        holder.kill()
        holder.wait(timeout=30)
