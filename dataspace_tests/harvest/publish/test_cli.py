"""`dataspace catalog export`: the whole catalogue in each format, streamed to a file or stdout."""

from __future__ import annotations

import io

import pytest
from rdflib import Graph
from dataspace_assets.harvest.dcat.namespaces import DCAT, RDF

from dataspace_assets.cli import main
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.publish.cli import export_catalog
from dataspace_assets.harvest.publish.store import PublicationStore
from dataspace_assets.harvest.records import DatasetRecord, ResourceRecord

RDFLIB = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}


def _fill(settings, n: int) -> list[str]:
    catalog = Catalog.from_settings(settings)
    ids = [catalog.save_dataset(DatasetRecord(title=f"Dataset {i}", resources=[ResourceRecord(url=f"https://x.org/{i}")]))
           for i in range(n)]
    catalog.close()
    return ids


@pytest.mark.parametrize("fmt", ["ttl", "rdf", "jsonld"])
def test_export_writes_every_dataset(tmp_settings, tmp_path, fmt, capsys) -> None:
    ids = _fill(tmp_settings, 230)  # more than two chunks of 100
    out = tmp_path / f"catalog.{fmt}"
    assert main(["catalog", "export", "--format", fmt, "--output", str(out), "--base-url", "https://ds.example"]) == 0
    graph = Graph().parse(out, format=RDFLIB[fmt])
    found = sorted(str(s).rsplit("/", 1)[-1] for s in graph.subjects(RDF.type, DCAT.Dataset))
    assert found == sorted(ids)
    assert len(list(graph.objects(None, DCAT.dataset))) == 230
    assert not (tmp_path / f"catalog.{fmt}.partial").exists()
    assert "230 entries written to" in capsys.readouterr().err


def test_export_to_stdout_defaults_to_turtle(tmp_settings, capsysbinary) -> None:
    _fill(tmp_settings, 2)
    assert main(["catalog", "export"]) == 0
    body = capsysbinary.readouterr().out
    assert len(list(Graph().parse(data=body, format="turtle").subjects(RDF.type, DCAT.Dataset))) == 2


def test_export_into_a_missing_folder_is_a_clear_error(tmp_settings, tmp_path, capsys) -> None:
    assert main(["catalog", "export", "--output", str(tmp_path / "nope" / "c.ttl")]) == 1
    assert capsys.readouterr().err.startswith(f"error: --output {tmp_path / 'nope' / 'c.ttl'}: the folder")


class Chunks(io.BytesIO):
    """An output that records the size of every write (streaming writes many times)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data) -> int:  # noqa: ANN001
        self.writes += 1
        return super().write(data)


def test_export_streams(tmp_settings) -> None:
    _fill(tmp_settings, 300)
    store = PublicationStore.from_url(tmp_settings.database_url)
    out = Chunks()
    try:
        assert export_catalog(store, out, "ttl", "https://ds.example") == 300
    finally:
        store.close()
    assert out.writes > 3


def test_the_progress_bar_counts_entries(tmp_settings, capsys) -> None:
    _fill(tmp_settings, 150)
    store = PublicationStore.from_url(tmp_settings.database_url)
    try:
        export_catalog(store, io.BytesIO(), "rdf", "https://ds.example", progress=True)
        err = capsys.readouterr().err
        export_catalog(store, io.BytesIO(), "rdf", "https://ds.example", progress=False)
        quiet = capsys.readouterr().err
    finally:
        store.close()
    assert "catalogue" in err and "150/150" in err and "100/150" not in err.split("150/150")[-1]
    assert quiet == ""
