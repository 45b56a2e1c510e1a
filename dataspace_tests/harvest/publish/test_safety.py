"""Published text is safe: no source config or secrets, no internal ids, nothing private, archived or deleted."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from rdflib import Graph

from dataspace_assets.harvest.dcat.namespaces import HYDRA

from dataspace_assets.harvest.publish.components import PublishedComponent
from dataspace_assets.harvest.publish.graph import text
from dataspace_assets.harvest.publish.store import PublicationStore
from dataspace_tests.harvest.publish.conftest import harvest

SECRET = "s3cr3t-token-4711"


def bodies(server, *paths: str) -> list[bytes]:
    out = []
    for path in paths:
        for ext in ("ttl", "rdf", "jsonld"):
            response = requests.get(f"{server.url}{path.replace('{ext}', ext)}", timeout=30)
            assert response.status_code == 200, path
            out.append(response.content)
    return out


def test_no_source_config_secret_or_internal_id_is_published(published, http_server) -> None:
    catalog, server = published
    url = http_server.url("udata/dcat/flat.jsonld") + f"?token={SECRET}"
    source, report = harvest(catalog, url, name="Secret source", config={"default_language": "fr", "max_triples": 987654})
    assert report.job.status == "done"
    datasets = catalog.list_datasets(source_id=source.id)
    ids = [d.id for d in datasets]
    everything = b"".join(bodies(server, "/catalog.{ext}", *(f"/datasets/{i}" for i in ids)))
    forbidden = [SECRET, source.id, source.slug, report.job.id, "Secret source", "987654", "max_triples", "flat.jsonld",
                 *(r.id for d in datasets for r in d.resources)]
    for value in forbidden:
        assert value.encode() not in everything, value
    for dataset_id in ids:  # the public dataset ids are the only ids shown
        assert dataset_id.encode() in everything


@pytest.mark.parametrize("hidden", ["private", "archived", "deleted"])
def test_private_archived_and_deleted_datasets_are_left_out(published, http_server, hidden: str) -> None:
    catalog, server = published
    source, _report = harvest(catalog, http_server.url("udata/dcat/flat.jsonld"), name="Flat")
    [first, *others] = sorted(catalog.list_datasets(source_id=source.id), key=lambda d: d.id)
    value = True if hidden == "private" else datetime.now(timezone.utc)
    catalog.set_dataset_fields(first.id, **{hidden: value})
    everything = b"".join(bodies(server, "/catalog.{ext}"))
    assert first.id.encode() not in everything and first.title.encode() not in everything
    assert all(d.id.encode() in everything for d in others)
    graph = Graph().parse(data=requests.get(f"{server.url}/catalog.ttl", timeout=30).content, format="turtle")
    assert [int(v) for v in graph.objects(None, HYDRA.totalItems)] == [len(others)]
    assert requests.get(f"{server.url}/datasets/{first.id}", timeout=30).status_code == 404


def test_a_dataservice_never_points_at_a_hidden_dataset(published, http_server) -> None:
    catalog, server = published
    source, _report = harvest(catalog, http_server.url("udata/dcat/bnodes.xml"), name="Bnodes")
    [service] = catalog.list_dataservices(source_id=source.id)
    hidden = service.datasets[0]
    catalog.set_dataset_fields(hidden, private=True)
    body = requests.get(f"{server.url}/dataservices/{service.id}", timeout=30).content
    assert hidden.encode() not in body
    assert service.datasets[1].encode() in body


def test_component_settings_are_never_published(published) -> None:
    catalog, server = published
    # The component description carries what the config declares for the public; nothing else is a field.
    PublicationStore(catalog).replace_components(
        [PublishedComponent(key="dataspace/feed", kind="collector", title="feed", index_table="feed_internal_table")]
    )
    everything = b"".join(bodies(server, "/catalog.{ext}", "/datasets/dataspace/feed"))
    assert b"feed_internal_table" not in everything


def test_text_that_xml_cannot_carry_is_removed() -> None:
    assert text("a\x00b\x0bc\x1f d ") .value == "abc d"
    assert text(" \x01 ") is None
