"""A pool per remote domain: harvest steps hold a slot of `harvest_<domain>` while they query it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import dagster as dg

from dataspace_assets.harvest import actions
from dataspace_assets.harvest.assets import HARVEST_JOB_NAME
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.definitions import build_defs
from dataspace_assets.harvest.pools import domain_pool, domain_slot
from dataspace_assets.harvest.sources_config import add_partitions
from dataspace_assets.settings import Settings

LIMITED = {"concurrency": {"pools": {"default_limit": 1}}}


def test_pool_names() -> None:
    assert domain_pool("data.Gouv.fr") == "harvest_data_gouv_fr"
    assert domain_pool("") == "harvest_local"


def test_unlimited_pools_bound_nothing() -> None:
    with dg.instance_for_test() as instance:
        with domain_slot(instance, "run", "step", "portal.test") as pool:
            assert pool is None


def test_a_busy_domain_makes_the_harvest_wait_for_its_slot(tmp_settings: Settings, plugin_path: Path) -> None:
    catalog = Catalog.from_settings(tmp_settings)
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted",
        config={"count": 3},
    )
    job = build_defs(tmp_settings).resolve_job_def(HARVEST_JOB_NAME)
    with dg.instance_for_test(overrides=LIMITED) as instance:
        add_partitions(instance, [source.id])
        storage = instance.event_log_storage
        # another run holds the only slot of this domain
        with domain_slot(instance, "other-run", "other-step", "portal.test") as pool:
            assert pool == "harvest_portal_test"
            assert storage.get_concurrency_info(pool).slot_count == 1
            results: list[dg.ExecuteInProcessResult] = []
            worker = threading.Thread(
                target=lambda: results.append(job.execute_in_process(instance=instance, partition_key=source.id))
            )
            worker.start()

            def waiting() -> list[str]:
                steps = storage.get_concurrency_info(pool).pending_steps
                return [p.step_key for p in steps if p.run_id != "other-run"]

            deadline = time.monotonic() + 60
            while not waiting() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert waiting() == [
                "catalog__harvest.harvest_initialize/harvest_portal_test"
            ]
            assert catalog.count("jobs") == 0  # nothing was listed while the domain was busy
        worker.join(timeout=120)
        assert results and results[0].success
        assert catalog.list_jobs(source.id)[0].status == "done"
        info = storage.get_concurrency_info("harvest_portal_test")
        assert info.claimed_slots == [] and info.slot_count == 1  # every slot given back
