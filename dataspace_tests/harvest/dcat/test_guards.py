"""No JSON-LD context reaches the parser except through the guarded client; pages and triples are bounded."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataspace_assets.harvest.backends.base import HarvestException, SourceInfo
from dataspace_assets.harvest.backends.dcat import DcatBackend
from dataspace_assets.harvest.dcat.guards import (
    ContextRefused,
    TripleLimitExceeded,
    default_max_triples,
    resolve_jsonld_contexts,
)
from dataspace_assets.harvest.dcat.rdf import parse_graph
from dataspace_assets.harvest.http import HarvestHttp, HarvestHttpError, HttpOptions

UA = "dataspace/test guard"
TITLE = "http://purl.org/dc/terms/title"


def fetcher(allow_private: bool):
    guarded = HarvestHttp(user_agent=UA, options=HttpOptions(allow_private_addresses=allow_private, retries=0))
    return lambda url: guarded.get(url).json()


def context_hits(server) -> list[tuple[str, str]]:
    return [(path, headers.get("User-Agent", "")) for _m, path, headers in server.requests if "/ctx/" in path]


def serve_context(server, name: str, context: dict) -> str:
    server.route(f"ctx/{name}", body=json.dumps({"@context": context}), content_type="application/ld+json")
    return server.url(f"ctx/{name}")


def doc(context, extra: dict | None = None) -> bytes:
    node = {"@context": context, "@id": "http://ex.test/d", "@type": "http://www.w3.org/ns/dcat#Dataset"}
    return json.dumps({**node, **(extra or {})}).encode()


# ------------------------------------------------------------------ each form of context reference


def _forms(server, tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """Documents referencing a context (served by the local server) in every way JSON-LD allows."""
    leaf = serve_context(server, "leaf.jsonld", {"title": TITLE})
    importer = serve_context(server, "importer.jsonld", {"@import": leaf})
    chain = serve_context(server, "chain.jsonld", {"meta": {"@id": "http://ex.test/meta", "@context": leaf}})
    return {
        "top-level": (doc(leaf, {"title": "A"}), leaf),
        "scoped-property": (
            doc({"meta": {"@id": "http://ex.test/meta", "@context": leaf}}, {"meta": {"title": "A"}}),
            leaf,
        ),
        "scoped-type": (
            doc({"Dataset": {"@id": "http://www.w3.org/ns/dcat#Dataset", "@context": leaf}}, {"@type": "Dataset", "title": "A"}),
            leaf,
        ),
        "embedded-node": (doc({}, {"http://ex.test/p": {"@context": leaf, "title": "A"}}), leaf),
        "import": (doc({"@import": leaf}, {"title": "A"}), leaf),
        "nested-import": (doc(importer, {"title": "A"}), importer),
        "nested-scoped": (doc(chain, {"meta": {"title": "A"}}), chain),
    }


FORMS = ["top-level", "scoped-property", "scoped-type", "embedded-node", "import", "nested-import", "nested-scoped"]


@pytest.mark.parametrize("form", FORMS)
def test_every_context_is_fetched_by_the_guarded_client(form: str, http_server, tmp_path: Path) -> None:
    data, _first = _forms(http_server, tmp_path)[form]
    graph = parse_graph(data, "json-ld", url="http://ex.test/catalog.jsonld", fetch_context=fetcher(True))
    assert any(str(p) == TITLE for p in graph.predicates()), "the context was used"
    hits = context_hits(http_server)
    assert hits and all(agent == UA for _path, agent in hits)  # nothing but our client asked


@pytest.mark.parametrize("form", FORMS)
def test_a_refused_context_is_never_fetched(form: str, http_server, tmp_path: Path) -> None:
    data, first = _forms(http_server, tmp_path)[form]
    with pytest.raises(HarvestHttpError, match="refused to connect to private address 127.0.0.1"):
        parse_graph(data, "json-ld", url="http://ex.test/catalog.jsonld", fetch_context=fetcher(False))
    assert context_hits(http_server) == []


@pytest.mark.parametrize("form", FORMS)
def test_no_context_is_fetched_without_a_loader(form: str, http_server, tmp_path: Path) -> None:
    data, _first = _forms(http_server, tmp_path)[form]
    with pytest.raises(ContextRefused, match=r"refused \(no context loader here\)"):
        parse_graph(data, "json-ld", url="http://ex.test/catalog.jsonld")
    assert context_hits(http_server) == []


@pytest.mark.parametrize("how", ["import", "top-level", "scoped"])
def test_a_remote_document_cannot_read_a_local_file(how: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jsonld"
    secret.write_text(json.dumps({"@context": {"title": TITLE}}))
    ref = secret.as_uri()
    context = {
        "import": {"@import": ref},
        "top-level": ref,
        "scoped": {"meta": {"@id": "http://ex.test/meta", "@context": ref}},
    }[how]
    asked: list[str] = []

    def fetch(url: str):
        asked.append(url)
        return HarvestHttp(user_agent=UA, options=HttpOptions(allow_local_files=True)).get(url).json()

    with pytest.raises(ContextRefused, match=r'JSON-LD context "file:.*" refused'):
        parse_graph(doc(context, {"title": "A"}), "json-ld", url="http://ex.test/c.jsonld", fetch_context=fetch)
    assert asked == []


def test_a_local_document_may_use_a_local_context_through_the_client(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx.jsonld"
    ctx.write_text(json.dumps({"@context": {"title": TITLE}}))
    page = tmp_path / "catalog.jsonld"
    guarded = HarvestHttp(user_agent=UA, options=HttpOptions(allow_local_files=True))
    graph = parse_graph(
        doc({"@import": "ctx.jsonld"}, {"title": "A"}), "json-ld", url=page.as_uri(),
        fetch_context=lambda u: guarded.get(u).json(),
    )
    assert len(graph) == 2


def test_context_references_are_bounded() -> None:
    def loop(url: str) -> dict:
        return {"@context": url + "x"}  # every context names another one

    with pytest.raises(ContextRefused, match="nested more than"):
        resolve_jsonld_contexts({"@context": "http://ex.test/c"}, loop, url="http://ex.test/")
    many = {"@context": [f"http://ex.test/c{i}" for i in range(40)]}
    with pytest.raises(ContextRefused, match="more than 32 JSON-LD context references"):
        resolve_jsonld_contexts(many, lambda u: {"@context": {}}, url="http://ex.test/")


def test_a_remote_context_base_does_not_apply() -> None:
    resolved = resolve_jsonld_contexts(
        {"@context": "http://ex.test/c", "@id": "x"}, lambda u: {"@context": {"@base": "http://evil/"}}, url="http://a/"
    )
    assert resolved["@context"] == {}


# ------------------------------------------------------------------ triples


def _turtle(n: int) -> bytes:
    lines = ["@prefix dct: <http://purl.org/dc/terms/> ."]
    lines += [f'<http://ex.test/d{i}> dct:title "t{i}" .' for i in range(n)]
    return "\n".join(lines).encode()


def _as(fmt: str, n: int) -> bytes:
    from rdflib import Graph

    graph = Graph()
    graph.parse(data=_turtle(n), format="turtle")
    return graph.serialize(format={"json-ld": "json-ld", "xml": "xml", "nt": "nt", "trig": "trig", "turtle": "turtle"}[fmt]).encode()


@pytest.mark.parametrize("fmt", ["turtle", "xml", "json-ld", "nt", "trig"])
@pytest.mark.parametrize("parser", ["auto", "rdflib"])  # Oxigraph first, rdflib as the fallback: both bounded
def test_a_page_with_too_many_triples_is_refused(fmt: str, parser: str) -> None:
    data = _as(fmt, 300)
    graph = parse_graph(data, fmt, url="http://ex.test/c", max_triples=300, parser=parser)
    # rdflib's TriG fills a named graph of the same store; Oxigraph's graph holds every triple itself
    assert (len(graph.store) if parser == "rdflib" else len(graph)) == 300
    with pytest.raises(TripleLimitExceeded) as info:
        parse_graph(data, fmt, url="http://ex.test/c", max_triples=299, parser=parser)
    assert str(info.value).startswith('http://ex.test/c: more than 299 triples on one page (config "max_triples"')


def test_the_default_triple_limit_follows_max_bytes() -> None:
    assert default_max_triples(200 * 1024 * 1024) == 524288
    assert default_max_triples(1024) == 100_000


# ------------------------------------------------------------------ through the backend


@pytest.fixture
def endless_server() -> Iterator[str]:
    """Every Turtle page names a next page one level deeper: Hydra paging without an end."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = (
                "@prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n"
                f'<{self.path}> a hydra:PartialCollectionView ; hydra:next "{self.path}x" .\n'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/catalog.ttl"
    server.shutdown()
    server.server_close()


def _backend(url: str, **config) -> DcatBackend:
    source = SourceInfo(
        id="s", slug="s", name="s", url=url, backend="dcat", domain="127.0.0.1",
        config={"allow_private_addresses": True, "retries": 0, **config},
    )
    return DcatBackend(source)


def test_endless_paging_stops_at_the_page_cap(endless_server: str) -> None:
    backend = _backend(endless_server, max_pages=25)
    with pytest.raises(HarvestException, match=r'^stopped after 25 pages \(config "max_pages"\)'):
        backend.initialize()
    assert len(backend.job_data["pages"]) == 25


def test_a_page_over_the_triple_limit_fails_the_listing(http_server) -> None:
    http_server.route("big.ttl", body=_turtle(500), content_type="text/turtle")
    backend = _backend(http_server.url("big.ttl"), max_triples=100)
    with pytest.raises(TripleLimitExceeded, match='more than 100 triples on one page'):
        backend.initialize()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"max_pages": 0}, 'Config key "max_pages" must be between 1 and 100000'),
        ({"max_pages": 10**9}, 'Config key "max_pages" must be between 1 and 100000'),
        ({"max_triples": "many"}, 'Config key "max_triples" of "dcat" backend must be int'),
        ({"retries": 10**6}, 'Config key "retries" must be between 0 and 10'),
        ({"timeout": 1e400}, 'Config key "timeout" must be a finite number'),
        ({"retry_backoff": 1e308}, 'Config key "retry_backoff" must be between 0 and 60'),
    ],
)
def test_dcat_config_bounds(config: dict, message: str) -> None:
    errors = DcatBackend.validate_config(config)
    assert any(e.startswith(message) for e in errors), errors
    assert len(errors) == 1
