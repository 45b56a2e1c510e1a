"""The bounded fetch pool: never more requests in flight per domain than the source allows, counted by the server."""

from __future__ import annotations

import json
import threading
import time

import pytest

from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.backends.pool import DomainLimiter, concurrency_of, fetch_all
from dataspace_tests.harvest.backends.apiserver import ApiServer

API = "ckan/api/3/action/"


def package(name: str) -> dict:
    return {
        "id": f"id-{name}", "name": name, "title": name.title(), "notes": None, "license_id": "lov2",
        "license_title": None, "tags": [], "metadata_created": "2024-01-01", "metadata_modified": "2024-01-02",
        "organization": None, "private": False, "type": "dataset", "author": None, "author_email": None,
        "maintainer": None, "maintainer_email": None, "state": "active",
        "resources": [{
            "id": f"r-{name}", "position": 0, "name": "data", "description": "", "format": "CSV", "mimetype": None,
            "size": None, "hash": None, "created": "2024-01-01", "last_modified": None,
            "url": f"https://ckan.test/{name}.csv", "resource_type": None,
        }],
    }


def serve_catalogue(api: ApiServer, count: int) -> list[str]:
    names = [f"pkg-{i:03d}" for i in range(count)]
    api.answer(API + "package_list", 200, "application/json", json.dumps({"success": True, "result": names}))
    api.on(API + "package_show", lambda q, b: (200, "application/json", json.dumps({"success": True, "result": package(q["id"][0])}).encode()))
    return names


def harvest(catalog, api, concurrency: int, name: str):
    source = actions.create_source(
        catalog, backend="ckan", url=api.url("ckan/"), name=name, validation_state="accepted",
        config={"allow_private_addresses": True, "retries": 0, "concurrency": concurrency},
    )
    return engine.run_job(catalog, source)


@pytest.mark.parametrize("limit", [1, 3, 8])
def test_the_server_never_sees_more_than_the_limit(catalog, api, limit) -> None:
    serve_catalogue(api, 60)
    api.delay = 0.03  # every answer takes a while, so the fetches overlap as much as they are allowed to
    report = harvest(catalog, api, limit, f"pool-{limit}")
    assert report.job.status == "done" and len(report.items) == 60
    assert len(api.seen(API + "package_show")) == 60
    assert 1 <= api.peak <= limit
    if limit > 1:
        assert api.peak >= 2  # the pool really overlaps requests


def test_sources_of_one_domain_share_it() -> None:
    limiter = DomainLimiter()
    active, peak = [0], [0]
    lock = threading.Lock()

    def work(limit: int) -> None:
        with limiter.slot("ckan.test", limit):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.02)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work, args=(2 if i % 2 else 4,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2 <= peak[0] <= 4 and limiter.peak("ckan.test") == peak[0]


def test_failures_are_returned_per_key() -> None:
    def fetch(key: int) -> int:
        if key == 2:
            raise ValueError("boom")
        return key * 10

    results = fetch_all("x.test", 3, fetch, [1, 2, 3, 1])
    assert results[1] == 10 and results[3] == 30 and isinstance(results[2], ValueError)


def test_concurrency_of_the_config() -> None:
    assert concurrency_of({}) == 4 and concurrency_of({"concurrency": 8}) == 8 and concurrency_of({"concurrency": 99}) == 32
