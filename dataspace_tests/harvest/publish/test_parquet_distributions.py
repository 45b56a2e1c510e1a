"""The example collector's Parquet files in the published catalogue: one distribution per file, URLs that answer."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import datetime

import dagster as dg
import pyarrow.parquet as pq
from rdflib import Graph, Literal, URIRef

from dataspace_assets.dataspace.config import dataspace_folder, load_config
from dataspace_assets.dataspace.parquetize import parquet_levels
from dataspace_assets.dataspace.server import build_app
from dataspace_assets.definitions import build_definitions
from dataspace_assets.harvest.dcat.namespaces import DCAT, DCTERMS, SPDX
from dataspace_assets.harvest.publish.assets import DCAT_ASSET_KEY
from dataspace_assets.run_command import extra_routes
from dataspace_assets.storage.store import DataStore
from dataspace_tests.dataspace.http_helpers import running

COLLECTOR = "example_air_quality"
PARQUET = URIRef("https://www.iana.org/assignments/media-types/application/vnd.apache.parquet")
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _materialize(settings, instance) -> None:
    """The collector's first run (a simulated day), every pending Parquet window lowest level first, the catalogue."""
    defs = build_definitions(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(["dataspace", COLLECTOR])]).success
    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    store = DataStore.from_settings(settings)
    try:
        for level in parquet_levels(config, [COLLECTOR]):
            keys = level.pending(store)
            if not keys:  # the weekly level: only when a week closed within the simulated day
                continue
            result = job.execute_in_process(instance=instance, asset_selection=[level.key],
                                            tags={RANGE_START: keys[0], RANGE_END: keys[-1]})
            assert result.success
    finally:
        store.close()
    assert job.execute_in_process(instance=instance, asset_selection=[DCAT_ASSET_KEY]).success


def _readings(store: DataStore, start: datetime, end: datetime) -> int:
    return sum(len(json.loads(item.content)["readings"]) for item in store.in_window(COLLECTOR, start, end))


def test_the_catalogue_lists_each_parquet_file_with_its_size_window_and_a_url_that_answers(
    project_settings, dagster_instance
) -> None:
    _materialize(project_settings, dagster_instance)
    store = DataStore.from_settings(project_settings)
    app = build_app(project_settings, extra_routes=extra_routes(project_settings))
    try:
        with running(app) as server:
            base = f"http://127.0.0.1:{server.port}"
            listing = server.get(f"/parquet/{COLLECTOR}/").json()["files"]
            # A closed day rolled up (the simulated history spans one), hours of today (after its first hour).
            assert "1d" in {f["level"] for f in listing}

            answer = server.get("/catalog.ttl?page_size=500")
            assert answer.status == 200
            graph = Graph().parse(data=answer.body, format="turtle")
            dataset = URIRef(f"{base}/datasets/dataspace/{COLLECTOR}")
            published = {}
            for distribution in graph.objects(dataset, DCAT.distribution):
                if graph.value(distribution, DCAT.mediaType) == PARQUET:
                    published[str(graph.value(distribution, DCAT.downloadURL))] = distribution
            assert set(published) == {f["url"] for f in listing}

            for entry in listing:
                distribution = published[entry["url"]]
                assert graph.value(distribution, DCTERMS["format"]) == URIRef(
                    "http://publications.europa.eu/resource/authority/file-type/PARQUET")
                size = graph.value(distribution, DCAT.byteSize)
                assert isinstance(size, Literal) and int(size) == entry["byte_size"]
                period = graph.value(distribution, DCTERMS.temporal)
                start = graph.value(period, DCAT.startDate).toPython()
                end = graph.value(period, DCAT.endDate).toPython()
                assert (start.isoformat(), end.isoformat()) == (entry["start"], entry["end"])

                download = server.get(entry["url"][len(base):])  # the published URL answers with the file
                assert download.status == 200 and len(download.body) == int(size)
                assert download.headers["content-type"] == "application/vnd.apache.parquet"
                # Its SHA-256 is the listing's, the catalogue's spdx:checksum and the download's Repr-Digest.
                digest = hashlib.sha256(download.body)
                checksum = graph.value(distribution, SPDX.checksum)
                assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
                assert str(graph.value(checksum, SPDX.checksumValue)) == entry["sha256"] == digest.hexdigest()
                assert download.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest.digest()).decode()}:"
                rows = pq.read_table(io.BytesIO(download.body)).to_pylist()
                assert len(rows) == entry["rows"]
                if entry["level"] != "1w":  # the unsplit levels hold every reading of their window once
                    assert len(rows) == _readings(store, start, end)
                else:
                    assert {r["station"] for r in rows} == {entry["keys"]["station"]}
            # the page of the dataset itself lists the same files
            single = Graph().parse(data=server.get(f"/datasets/dataspace/{COLLECTOR}").body, format="turtle")
            assert len({d for d in single.objects(dataset, DCAT.distribution)
                        if single.value(d, DCAT.mediaType) == PARQUET}) == len(listing)
            # a harvester without PARQUETIZE publishes no Parquet distribution
            hourly = URIRef(f"{base}/datasets/dataspace/{COLLECTOR}_hourly")
            media = {graph.value(d, DCAT.mediaType) for d in graph.objects(hourly, DCAT.distribution)}
            assert media and PARQUET not in media
    finally:
        store.close()
