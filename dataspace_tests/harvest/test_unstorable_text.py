"""NUL characters and lone surrogates from a remote catalogue: cleaned or refused once, alike on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.catalog.clean import clean_record, json_problems

CATALOG = r"""
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<http://ex.test/catalog> a dcat:Catalog ; dcat:dataset <http://ex.test/d1>, <http://ex.test/d2>, <http://ex.test/d3> .
<http://ex.test/d1> a dcat:Dataset ; dct:identifier "d1" ; dct:title "Nul\u0000 title" ;
    dct:description "Lone \uD800 surrogate" .
<http://ex.test/d2> a dcat:Dataset ; dct:identifier "bad\u0000id" ; dct:title "Refused" .
<http://ex.test/d3> a dcat:Dataset ; dct:identifier "d3" ; dct:title "Clean" .
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def any_catalog(request, tmp_path) -> Iterator[Catalog]:
    url = f"sqlite:///{tmp_path / 'c.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    catalog = Catalog.open(url)
    yield catalog
    catalog.close()


def test_nul_and_surrogates_from_a_remote(any_catalog: Catalog, http_server) -> None:
    http_server.route("nul.ttl", body=CATALOG.encode(), content_type="text/turtle")
    source = actions.create_source(
        any_catalog, backend="dcat", url=http_server.url("nul.ttl"), name="Nul", validation_state="accepted",
        config={"allow_private_addresses": True},
    )
    report = engine.run_job(any_catalog, source)
    job = any_catalog.get_job(report.job.id)
    assert job.status == "done-errors"  # the job ends: one item refused, the others stored
    items = {i.remote_id: i for i in any_catalog.get_items(job.id)}
    assert items["badid"].status == "failed"  # stored cleaned, for display; never matched to a dataset
    [refused] = items["badid"].errors
    assert refused["message"] == 'field "remote_id" contains a NUL character: record refused'
    assert items["d1"].status == "done" and items["d3"].status == "done"
    messages = sorted(e["message"] for e in items["d1"].errors)
    assert messages == [
        'field "description" held NUL or unpaired surrogate characters: removed',
        'field "title" held NUL or unpaired surrogate characters: removed',
    ]
    datasets = {d.title: d for d in any_catalog.list_datasets(source_id=source.id)}
    assert sorted(datasets) == ["Clean", "Nul title"]
    assert datasets["Nul title"].description == "Lone \ufffd surrogate"


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"timeout": float("nan")}, "config.timeout is nan, which JSON cannot hold"),
        ({"x": [float("inf")]}, "config.x[0] is inf, which JSON cannot hold"),
        ({"default_language": "fr\ud800"}, "config.default_language contains an unpaired surrogate"),
        ({"a\x00": 1}, "config: a key contains a NUL character"),
    ],
)
def test_unstorable_source_configs_are_refused(any_catalog: Catalog, config: dict, problem: str) -> None:
    with pytest.raises(DataspaceError) as info:
        actions.create_source(any_catalog, backend="dcat", url="https://x.example/c.ttl", name="X", config=config)
    assert problem in str(info.value)
    assert any_catalog.count("sources") == 0


def test_a_negative_job_limit_is_a_clear_error(any_catalog: Catalog) -> None:
    source = actions.create_source(any_catalog, backend="dcat", url="https://x.example/c.ttl", name="X")
    with pytest.raises(DataspaceError, match=r"the job limit must be 0 or more \(got -1\)"):
        any_catalog.list_jobs(source.id, limit=-1)


def test_clean_record_names_nested_fields() -> None:
    from dataspace_assets.harvest.records import DatasetRecord, ResourceRecord

    record = DatasetRecord(title="ok", resources=[ResourceRecord(url="http://x/\x00a", title="t\ud83d")])
    assert clean_record(record) == ["resources[0].url", "resources[0].title"]
    assert record.resources[0].url == "http://x/a" and record.resources[0].title == "t\ufffd"
    assert json_problems({"a": [{"b": "\x00"}]}) == ["config.a[0].b contains a NUL character"]
