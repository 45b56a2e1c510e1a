"""The `catalog/dcat` asset: its place in the graph, counts per kind, and the components it publishes."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from rdflib import Graph, URIRef
from rdflib.namespace import PROV

from dataspace_assets.harvest.dcat.namespaces import DCAT, DCTERMS, RDF

from dataspace_assets.definitions import build_definitions, published_components
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.publish.assets import DCAT_ASSET_KEY
from dataspace_assets.harvest.publish.pages import FORMATS, PageRequest, render_page
from dataspace_assets.harvest.publish.store import PublicationStore
from dataspace_assets.harvest.records import DatasetRecord
from dataspace_assets.storage.store import DataStore

BASE = "http://dataspace.test"


def test_catalog_dcat_depends_on_the_harvest_and_the_components(project_settings) -> None:
    graph = build_definitions(project_settings).resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(DCAT_ASSET_KEY).parent_keys}
    harvesters = {f"dataspace/example_air_quality_{n}" for n in ("hourly", "peaks", "alerts")}
    twin = {"deltatwin/example-word-count/counts", "deltatwin/example-word-count/summary"}
    parquet = {f"dataspace/example_air_quality_parquet{level}" for level in ("", "_1d", "_1w")}  # the files it lists
    assert parents == {"catalog/harvest", "dataspace/example_air_quality", *harvesters, *twin, *parquet}
    assert graph.get(DCAT_ASSET_KEY).group_name == "catalog"


def test_published_components_of_the_example_configs(project_settings) -> None:
    by_key = {c.key: c for c in published_components(project_settings)}
    assert set(by_key) == {
        "dataspace/example_air_quality", *(f"dataspace/example_air_quality_{n}" for n in ("hourly", "peaks", "alerts")),
        "deltatwin/example-word-count/counts", "deltatwin/example-word-count/summary",
    }
    collector = by_key["dataspace/example_air_quality"]
    assert (collector.kind, collector.period_seconds, collector.data_format) == ("collector", 600, "air-quality-readings")
    assert (collector.route, collector.latest_route) == ("/example_latest_readings", "/example-air-quality/")
    assert (collector.index_table, collector.parquet_route) == ("example_air_quality", "/parquet/example_air_quality/")
    harvester = by_key["dataspace/example_air_quality_hourly"]
    assert (harvester.kind, harvester.derived_from) == ("harvester", ("dataspace/example_air_quality",))
    assert collector.derived_from == ()
    # a harvester that reads its own previous output is not published as derived from itself
    assert by_key["dataspace/example_air_quality_peaks"].derived_from == ("dataspace/example_air_quality",)
    twin = by_key["deltatwin/example-word-count/counts"]
    assert (twin.kind, twin.generated_by, twin.used) == ("twin-output", "example-word-count", ("text", "readings", "pollutant"))


def _materialize(settings) -> dg.MaterializeResult:
    defs = build_definitions(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=[DCAT_ASSET_KEY])
        [event] = result.get_asset_materialization_events()
        return {k: v.value for k, v in event.materialization.metadata.items()}


def test_materialization_counts_each_kind_and_dates_the_components(project_settings) -> None:
    catalog = Catalog.from_settings(project_settings)
    catalog.save_dataset(DatasetRecord(title="Trees", license="lov2"))
    catalog.save_dataset(DatasetRecord(title="Hidden", private=True))
    data = DataStore.from_settings(project_settings)
    first, last = datetime(2026, 3, 1, 8, tzinfo=UTC), datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    for when in (last, first):
        data.write("example_air_quality", b"{}", date=when, content_type="application/json")
    data.close()

    metadata = _materialize(project_settings)
    assert metadata["datasets"] == 1 and metadata["dataservices"] == 0
    assert (metadata["components_collectors"], metadata["components_harvesters"], metadata["components_twin_outputs"]) == (1, 3, 2)
    assert metadata["entries_total"] == 7 and metadata["dagster/row_count"] == 7
    assert "dcat:Catalog" in metadata["preview"]

    store = PublicationStore(catalog)
    body = render_page(store, PageRequest(base_url=BASE), FORMATS["ttl"])
    graph = Graph().parse(data=body, format="turtle")
    collector = URIRef(f"{BASE}/datasets/dataspace/example_air_quality")
    period = graph.value(collector, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2026-03-01" and str(graph.value(period, DCAT.endDate)) == "2026-03-02"
    assert str(graph.value(collector, DCTERMS.accrualPeriodicity)).endswith("/frequency/10MIN")
    urls = {str(graph.value(d, DCAT.accessURL)) for d in graph.objects(collector, DCAT.distribution)}
    assert urls == {f"{BASE}/example_latest_readings", f"{BASE}/example-air-quality/"}
    assert graph.value(URIRef(f"{BASE}/datasets/dataspace/example_air_quality_hourly"), DCTERMS.temporal) is None
    hourly = URIRef(f"{BASE}/datasets/dataspace/example_air_quality_hourly")
    assert list(graph.objects(hourly, PROV.wasDerivedFrom)) == [collector]
    twin = URIRef(f"{BASE}/datasets/deltatwin/example-word-count/counts")
    run = graph.value(twin, PROV.wasGeneratedBy)
    assert (run, RDF.type, PROV.Activity) in graph
    assert len(list(graph.objects(run, PROV.used))) == 3

    metadata = _materialize(project_settings)  # a second run keeps one entry per component
    assert metadata["entries_total"] == 7
    catalog.close()
