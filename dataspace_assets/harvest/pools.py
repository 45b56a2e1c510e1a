"""A Dagster pool per remote domain, claimed at run time by the steps that query that domain.

Pools given to `@op(pool=...)` are fixed when the op is defined, but a harvest's domain is only
known from its partition. So the harvest steps claim a slot of the pool `harvest_<domain>`
themselves, through the instance's concurrency storage (the same slots `dagster instance
concurrency set` configures and the UI shows). A domain pool without a limit (no
`concurrency.pools.default_limit` and nothing set for it) bounds nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

POLL_SECONDS = 1.0


def domain_pool(domain: str) -> str:
    """The pool name of a remote domain: `harvest_` plus the domain with non-word characters as `_`."""
    return "harvest_" + (re.sub(r"[^A-Za-z0-9_]", "_", domain.lower()) or "local")


def _limited(storage, pool: str) -> bool:
    storage.initialize_concurrency_limit_to_default(pool)  # applies concurrency.pools.default_limit once
    return storage.get_concurrency_info(pool).slot_count > 0


@contextmanager
def domain_slot(
    instance: dg.DagsterInstance, run_id: str, step_key: str, domain: str, log=None
) -> Iterator[str | None]:
    """Hold one slot of the domain's pool while the block runs; yields the pool name or None when unbounded."""
    storage = instance.event_log_storage
    pool = domain_pool(domain)
    if not storage.supports_global_concurrency_limits or not _limited(storage, pool):
        yield None
        return
    claim_key = f"{step_key}/{pool}"  # distinct from the step's own claims on its static pool
    waited = False
    while not storage.claim_concurrency_slot(pool, run_id, claim_key).is_claimed:
        if log is not None and not waited:
            log.info(f"waiting for a slot of pool {pool}")
        waited = True
        time.sleep(POLL_SECONDS)
    try:
        yield pool
    finally:
        storage.free_concurrency_slot_for_step(run_id, claim_key)
