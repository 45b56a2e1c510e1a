"""Item fetches in a bounded pool per remote domain: plain threads, at most N requests in flight to one host.

Every source on the same domain shares the domain's counter in this process, and each caller waits until
fewer than its own limit are in flight, so no source ever goes past the limit of its config (`concurrency`).
Across processes the harvest's Dagster pool per domain bounds how many steps fetch at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32

K = TypeVar("K")
V = TypeVar("V")


class DomainLimiter:
    """How many requests are in flight per domain, and a wait until one more is allowed."""

    def __init__(self) -> None:
        self._active: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self._changed = threading.Condition()

    @contextmanager
    def slot(self, domain: str, limit: int) -> Iterator[None]:
        """Hold one request slot of the domain while the block runs (waits while `limit` are in flight)."""
        with self._changed:
            while self._active.get(domain, 0) >= limit:
                self._changed.wait()
            active = self._active.get(domain, 0) + 1
            self._active[domain] = active
            self._peak[domain] = max(self._peak.get(domain, 0), active)
        try:
            yield
        finally:
            with self._changed:
                self._active[domain] -= 1
                self._changed.notify_all()

    def peak(self, domain: str) -> int:
        """The most requests seen in flight at once for the domain in this process."""
        with self._changed:
            return self._peak.get(domain, 0)


LIMITER = DomainLimiter()


def concurrency_of(config: dict | None) -> int:
    """The per-domain request limit of a source config (`concurrency`), default 4."""
    value = (config or {}).get("concurrency", DEFAULT_CONCURRENCY)
    return max(1, min(int(value), MAX_CONCURRENCY))


def check_concurrency(config: dict, backend: str) -> list[str]:
    """Errors of the `concurrency` key of a source config (a whole number from 1 to 32)."""
    if "concurrency" not in config:
        return []
    value = config["concurrency"]
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_CONCURRENCY:
        return [f'Config key "concurrency" of "{backend}" backend must be a whole number from 1 to {MAX_CONCURRENCY}']
    return []


def fetch_all(
    domain: str, limit: int, fetch: Callable[[K], V], keys: Iterable[K]
) -> dict[K, V | BaseException]:
    """Fetch every key, at most `limit` at once for the domain; each key maps to its result or its exception."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}

    def guarded(key: K) -> V | BaseException:
        with LIMITER.slot(domain, limit):
            try:
                return fetch(key)
            except Exception as exc:  # noqa: BLE001 - reported on its item, the others go on
                return exc

    if limit == 1 or len(keys) == 1:
        return {key: guarded(key) for key in keys}
    with ThreadPoolExecutor(max_workers=min(limit, len(keys)), thread_name_prefix=f"fetch-{domain}") as pool:
        return dict(zip(keys, pool.map(guarded, keys), strict=True))


__all__ = ["DEFAULT_CONCURRENCY", "LIMITER", "MAX_CONCURRENCY", "DomainLimiter", "check_concurrency", "concurrency_of", "fetch_all"]
