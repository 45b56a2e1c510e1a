"""Benchmark: harvest (parse + map + store in SQLite) of a 5,000-dataset DCAT catalogue vs rdflib parsing it alone.

Run: .venv/bin/python bench/harvest.py [--copies 50] [--rounds 1]
Writes bench/results/harvest.json and prints the ratios (ours / floor) for Turtle and RDF/XML.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rdflib import BNode, Graph, Literal, URIRef  # noqa: E402
from rdflib.namespace import DCTERMS, RDF  # noqa: E402

HYDRA = "http://www.w3.org/ns/hydra/core#"
CKAN = "http://demo.ckan.org/"


def shared_dir() -> Path:
    return Path(os.environ.get("DATASPACE_SHARED", ROOT.parent / "shared"))


def build_catalogue(copies: int) -> Graph:
    """Replicate every dataset of dcat-historical/ckan.ttl `copies` times with new IRIs and identifiers."""
    source = Graph().parse(shared_dir() / "fixtures/udata/dcat-historical/ckan.ttl", format="turtle")
    paging = set(source.subjects(RDF.type, URIRef(HYDRA + "PagedCollection")))
    triples = [(s, p, o) for s, p, o in source if s not in paging]
    datasets = set(source.subjects(RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset")))
    out = Graph()
    out.bind("dcat", "http://www.w3.org/ns/dcat#")
    out.bind("dct", str(DCTERMS))
    out.bind("foaf", "http://xmlns.com/foaf/0.1/")
    for copy in range(copies):

        def rename(term, copy=copy):
            if isinstance(term, URIRef) and str(term).startswith(CKAN):
                return URIRef(f"{CKAN}copy{copy}/{str(term)[len(CKAN):]}")
            if isinstance(term, BNode):
                return BNode(f"{term}c{copy}")
            return term

        for s, p, o in triples:
            if p == DCTERMS.identifier and isinstance(o, Literal):
                o = Literal(f"{o}-{copy}")
            elif p == DCTERMS.title and copy and isinstance(o, Literal) and s in datasets:
                # Distinct titles, as in a real catalogue: 50 datasets sharing one title would time the
                # catalogue's slug de-duplication (one query per taken slug), not harvesting.
                o = Literal(f"{o} #{copy}", lang=o.language)
            out.add((rename(s), p, rename(o)))
    return out


def time_parse(path: Path, fmt: str) -> float:
    start = time.perf_counter()
    graph = Graph()
    graph.parse(path, format=fmt)
    elapsed = time.perf_counter() - start
    assert len(graph) > 0
    return elapsed


def time_backend(path: Path) -> tuple[float, int]:
    """Parse + list + map every dataset with the DCAT backend alone (no catalogue, no storage)."""
    from dataspace_assets.harvest.backends.base import SourceInfo
    from dataspace_assets.harvest.backends.dcat import DcatBackend
    from dataspace_assets.harvest.records import DatasetRecord

    source = SourceInfo(
        id="bench", slug="bench", name="bench", url=path.as_uri(), backend="dcat", domain="localhost",
        config={"allow_local_files": True},
    )
    start = time.perf_counter()
    backend = DcatBackend(source)
    backend.initialize()
    mapped = [backend.process_dataset(item, DatasetRecord()) for item in backend.items]
    backend.finalize()
    return time.perf_counter() - start, len(mapped)


def time_harvest(path: Path, workdir: Path, tag: str) -> tuple[float, dict]:
    from dataspace_assets.harvest import actions, engine
    from dataspace_assets.harvest.catalog import Catalog

    db = workdir / f"catalog-{tag}.db"
    catalog = Catalog.open(f"sqlite:///{db}")
    source = actions.create_source(
        catalog, backend="dcat", url=path.as_uri(), name=f"bench {tag}", validation_state="accepted",
        config={"allow_local_files": True},
    )
    start = time.perf_counter()
    report = engine.run_job(catalog, source)
    elapsed = time.perf_counter() - start
    counts = {
        "status": report.job.status,
        "items_done": sum(1 for i in report.items if i.status == "done"),
        "datasets": catalog.count("datasets"),
    }
    catalog.close()
    return elapsed, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50, help="copies of the 100 datasets of ckan.ttl (50 → 5,000)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    results: dict = {"copies": args.copies, "rounds": args.rounds, "python": platform.python_version(), "formats": {}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        graph = build_catalogue(args.copies)
        datasets = len(set(graph.subjects(RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset"))))
        files = {"turtle": workdir / "catalog.ttl", "xml": workdir / "catalog.rdf"}
        for fmt, path in files.items():
            graph.serialize(destination=path, format=fmt)
        results["datasets"] = datasets
        results["triples"] = len(graph)
        del graph
        for fmt, path in files.items():
            floors, mappings, ours, counts = [], [], [], {}
            for round_ in range(args.rounds):  # interleaved so machine noise hits every side alike
                floors.append(time_parse(path, fmt))
                elapsed, mapped = time_backend(path)
                mappings.append(elapsed)
                elapsed, counts = time_harvest(path, workdir, f"{fmt}-{round_}")
                ours.append(elapsed)
                assert mapped == counts["items_done"] == datasets, (mapped, counts, datasets)
            floor, backend, total = (statistics.median(x) for x in (floors, mappings, ours))
            results["formats"][fmt] = {
                "file_bytes": path.stat().st_size,
                "parse_s": round(floor, 3),
                "parse_map_s": round(backend, 3),
                "harvest_s": round(total, 3),
                "ratio_parse_map": round(backend / floor, 2),
                "ratio": round(total / floor, 2),
                **counts,
            }
            print(
                f"{fmt:7} {datasets} datasets, {path.stat().st_size / 1e6:.1f} MB: rdflib parse {floor:.2f}s | "
                f"parse+map (backend) {backend:.2f}s = {backend / floor:.2f}x | "
                f"full harvest (engine + SQLite) {total:.2f}s = {total / floor:.2f}x"
            )
    out = ROOT / "bench" / "results" / "harvest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
