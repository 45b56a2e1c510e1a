"""The catalogue routes on a real uvicorn server: content negotiation, Hydra paging, one dataset, the page cache."""

from __future__ import annotations

import pytest
import requests
from rdflib import Graph, URIRef
from dataspace_assets.harvest.dcat.namespaces import DCAT, DCTERMS, RDF

from dataspace_assets.harvest.dcat.namespaces import HYDRA
from dataspace_assets.harvest.publish.components import PublishedComponent
from dataspace_assets.harvest.publish.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageBuilder, PageRequest
from dataspace_assets.harvest.publish.store import PublicationStore
from dataspace_assets.harvest.records import DatasetRecord, ResourceRecord

RDFLIB = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld"}


def add_datasets(catalog, n: int, **values) -> list[str]:
    ids = []
    for i in range(n):
        dataset = DatasetRecord(title=f"Dataset {i}", description=f"About {i}", tags=["air"], license="lov2",
                                resources=[ResourceRecord(url=f"https://example.org/{i}.csv", title=f"{i}.csv", format="csv")],
                                **values)
        ids.append(catalog.save_dataset(dataset))
    return ids


def get(server, path: str, accept: str | None = None) -> requests.Response:
    return requests.get(server.url + path, headers={"Accept": accept} if accept else {}, timeout=30)


def graph_of(response: requests.Response) -> Graph:
    media = response.headers["content-type"].split(";")[0]
    return Graph().parse(data=response.content, format=RDFLIB[media], publicID=response.url)


def view(graph: Graph) -> dict[str, str | None]:
    [node] = graph.subjects(RDF.type, HYDRA.PartialCollectionView)
    return {name: (str(v) if (v := graph.value(node, HYDRA[name])) is not None else None)
            for name in ("first", "last", "next", "previous")}


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "text/turtle"),
        ("*/*", "text/turtle"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/ld+json", "application/ld+json"),
        ("text/html;q=0.9, application/ld+json;q=0.5, text/turtle;q=0.8", "text/turtle"),
        ("application/json", "application/ld+json"),
    ],
)
def test_content_negotiation(published, accept, media) -> None:
    catalog, server = published
    add_datasets(catalog, 1)
    response = get(server, "/catalog", accept)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert response.headers["vary"] == "Accept"
    assert len(list(graph_of(response).subjects(RDF.type, DCAT.Dataset))) == 1


def test_html_only_clients_get_406(published) -> None:
    _catalog, server = published
    response = get(server, "/catalog", "text/html")
    assert response.status_code == 406
    assert "text/turtle" in response.text


@pytest.mark.parametrize(("ext", "media"), [("ttl", "text/turtle"), ("rdf", "application/rdf+xml"), ("jsonld", "application/ld+json")])
def test_extension_routes_ignore_accept(published, ext, media) -> None:
    catalog, server = published
    add_datasets(catalog, 2)
    response = get(server, f"/catalog.{ext}", "text/html")
    assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == media
    assert len(list(graph_of(response).subjects(RDF.type, DCAT.Dataset))) == 2


def test_hydra_paging(published) -> None:
    catalog, server = published
    ids = sorted(add_datasets(catalog, 5))
    seen = []
    pages = {}
    for number in (1, 2, 3):
        graph = graph_of(get(server, f"/catalog.ttl?page={number}&page_size=2"))
        pages[number] = view(graph)
        [collection] = graph.subjects(RDF.type, HYDRA.Collection)
        assert int(graph.value(collection, HYDRA.totalItems)) == 5
        seen += sorted(str(graph.value(d, DCTERMS.identifier)) for d in graph.subjects(RDF.type, DCAT.Dataset))
    assert seen == ids  # every dataset once, in id order
    base = server.url + "/catalog.ttl?page="
    assert pages[1] == {"first": base + "1&page_size=2", "last": base + "3&page_size=2", "next": base + "2&page_size=2",
                        "previous": None}
    assert pages[2]["previous"] == base + "1&page_size=2" and pages[2]["next"] == base + "3&page_size=2"
    assert pages[3]["next"] is None and pages[3]["previous"] == base + "2&page_size=2"


def test_default_page_size(published) -> None:
    catalog, server = published
    add_datasets(catalog, 3)
    graph = graph_of(get(server, "/catalog.ttl"))
    assert view(graph)["first"] == f"{server.url}/catalog.ttl?page=1&page_size={DEFAULT_PAGE_SIZE}"
    assert view(graph)["next"] is None


@pytest.mark.parametrize("query", ["page=0", "page=x", f"page_size={MAX_PAGE_SIZE + 1}", "page_size=0", "page_size=-3"])
def test_bad_paging_is_a_400(published, query) -> None:
    _catalog, server = published
    response = get(server, f"/catalog.ttl?{query}")
    assert response.status_code == 400
    assert response.text.startswith("bad request: page")


def test_max_page_size_is_accepted(published) -> None:
    catalog, server = published
    add_datasets(catalog, 1)
    assert get(server, f"/catalog.ttl?page_size={MAX_PAGE_SIZE}").status_code == 200


def test_one_dataset(published) -> None:
    catalog, server = published
    [dataset_id, other] = add_datasets(catalog, 2)
    response = get(server, f"/datasets/{dataset_id}", "application/ld+json")
    assert response.status_code == 200
    graph = graph_of(response)
    node = URIRef(f"{server.url}/datasets/{dataset_id}")
    assert list(graph.subjects(RDF.type, DCAT.Dataset)) == [node]
    assert str(graph.value(node, DCTERMS.identifier)) == dataset_id
    assert str(graph.value(node, DCTERMS.license)) == "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
    assert other not in response.text
    assert get(server, "/datasets/no-such-id").status_code == 404


def test_a_component_by_its_key(published) -> None:
    catalog, server = published
    store = PublicationStore(catalog)
    store.replace_components([PublishedComponent(key="dataspace/feed", kind="collector", title="feed",
                                                 latest_route="/feed/", media_type="application/json")])
    graph = graph_of(get(server, "/datasets/dataspace/feed"))
    node = URIRef(f"{server.url}/datasets/dataspace/feed")
    assert str(graph.value(node, DCTERMS.identifier)) == "dataspace/feed"
    [distribution] = graph.objects(node, DCAT.distribution)
    assert str(graph.value(distribution, DCAT.downloadURL)) == f"{server.url}/feed/"


def test_pages_are_cached_until_the_catalogue_changes(published) -> None:
    catalog, server = published
    [dataset_id] = add_datasets(catalog, 1)
    first = get(server, "/catalog.ttl")
    assert server.app.cache.misses == 1 and server.app.cache.hits == 0
    assert get(server, "/catalog.ttl").content == first.content
    assert server.app.cache.hits == 1
    record = catalog.get_dataset(dataset_id)
    record.title = "A new title"
    catalog.save_dataset(record)
    changed = get(server, "/catalog.ttl")
    assert server.app.cache.misses == 2
    assert b"A new title" in changed.content and b"A new title" not in first.content
    catalog.set_dataset_fields(dataset_id, archived=record.harvest.last_update or __import__("datetime").datetime.now())
    assert b"A new title" not in get(server, "/catalog.ttl").content  # archiving leaves no timestamp behind but is seen


class CountingStore(PublicationStore):
    """A store that records how many datasets each load asks for."""

    loads: list[int]

    def datasets(self, ids):  # noqa: ANN001, ANN201
        self.loads.append(len(ids))
        return super().datasets(ids)


def test_a_page_loads_only_its_own_datasets(published) -> None:
    catalog, _server = published
    add_datasets(catalog, 7)
    store = CountingStore(catalog)
    store.loads = []
    triples = PageBuilder(store).page_triples(PageRequest(page=2, page_size=3))
    assert store.loads == [3]
    assert sum(1 for t in triples if str(t.object) == "<http://www.w3.org/ns/dcat#Dataset>") == 3


def test_a_page_past_the_end_is_empty_and_links_back(published) -> None:
    catalog, server = published
    add_datasets(catalog, 3)
    graph = graph_of(get(server, "/catalog.ttl?page=9&page_size=2"))
    assert list(graph.subjects(RDF.type, DCAT.Dataset)) == []
    links = view(graph)
    assert links["next"] is None
    assert links["previous"] == links["last"] == f"{server.url}/catalog.ttl?page=2&page_size=2"


def test_the_public_url_setting_names_the_iris(published, monkeypatch) -> None:
    catalog, server = published
    [dataset_id] = add_datasets(catalog, 1)
    monkeypatch.setenv("DATASPACE_PUBLIC_URL", "https://data.example.org/")
    graph = graph_of(get(server, "/catalog.ttl"))
    assert (URIRef(f"https://data.example.org/datasets/{dataset_id}"), RDF.type, DCAT.Dataset) in graph
    assert view(graph)["first"] == "https://data.example.org/catalog.ttl?page=1&page_size=100"


def test_catalog_routes_from_settings(tmp_settings) -> None:
    from dataspace_assets.harvest.publish.routes import catalog_app, catalog_routes

    paths = [route.path for route in catalog_routes(tmp_settings)]
    assert paths == ["/catalog", "/catalog.ttl", "/catalog.rdf", "/catalog.jsonld", "/datasets/{identifier:path}",
                     "/dataservices/{identifier}"]
    assert not tmp_settings.home.exists()  # no database is opened before the first request
    assert [r.path for r in catalog_app(tmp_settings).routes] == paths
