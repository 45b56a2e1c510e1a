"""The inverse mapping's small rules: frequencies, schedule periods, dates, licences."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from pyoxigraph import NamedNode
from rdflib import URIRef

from dataspace_assets.harvest.dcat.frequency import DC_FREQUENCIES, EU_FREQUENCIES, frequency_from_rdf
from dataspace_assets.harvest.publish.graph import _resolution_triples, day, frequency_iri, period_iri, when


@pytest.mark.parametrize("value", sorted(set(EU_FREQUENCIES.values())))
def test_every_catalogue_frequency_reads_back(value: str) -> None:
    iri = frequency_iri(value)
    assert iri is not None
    assert frequency_from_rdf(URIRef(iri.value)) == value


def test_an_unknown_frequency_is_not_published() -> None:
    assert frequency_iri(None) is None and frequency_iri("fortnightly-ish") is None


@pytest.mark.parametrize(
    ("seconds", "code"),
    [(10, "UPDATE_CONT"), (60, "1MIN"), (600, "10MIN"), (3600, "HOURLY"), (5400, "BIHOURLY"), (86400, "DAILY"),
     (7 * 86400, "WEEKLY"), (400 * 86400, "OTHER")],
)
def test_schedule_periods(seconds: int, code: str) -> None:
    assert period_iri(seconds).value.endswith("/" + code)


def test_no_period_no_frequency() -> None:
    assert period_iri(None) is None and period_iri(0) is None


def test_dates_are_utc() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert when(moment).value == "2026-01-02T03:04:05+00:00"
    assert when(datetime(2026, 1, 2, 3, 4, 5)).value == "2026-01-02T03:04:05+00:00"
    assert when("2016-12-14T18:59:02.737480+00:00").value == "2016-12-14T18:59:02.737480+00:00"
    assert when("not a date") is None
    assert day(date(2016, 1, 1)).value == "2016-01-01" and day("2016-12-05").value == "2016-12-05"


@pytest.mark.parametrize("value", sorted(set(DC_FREQUENCIES.values())))
def test_every_dublin_core_frequency_reads_back(value: str) -> None:
    assert frequency_from_rdf(URIRef(frequency_iri(value).value)) == value


def _resolution(value: str) -> dict[str, str]:
    out: list = []
    _resolution_triples(out, NamedNode("http://x.test/d"), value)
    return {t.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]: t.object.value for t in out}


def test_resolutions() -> None:
    assert _resolution("25 m") == {"spatialResolutionInMeters": "25"}
    scale = _resolution("1/25000")
    assert scale["isMeasurementOf"].endswith("/spatialResolutionAsScale") and scale["value"] == "25000"
    distance = _resolution("2.5 km")
    assert distance["isMeasurementOf"].endswith("/spatialResolutionAsDistance") and distance["value"] == "2.5"
    assert distance["unitMeasure"].endswith("/kilometre")
    assert _resolution("about a street") == {}


def test_a_component_publishes_each_parquet_file_as_a_distribution() -> None:
    from dataspace_assets.harvest.publish import PublishedComponent, PublishedFile
    from dataspace_assets.harvest.publish.graph import component_triples

    start = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    files = (
        PublishedFile(route="/parquet/feed/1h/a.parquet", level="1h", start=start, end=start.replace(hour=11),
                      byte_size=1234, rows=10, sha256="0f" * 32),
        PublishedFile(route="/parquet/feed/1w/b.parquet", level="1w", start=start, end=start.replace(day=9),
                      byte_size=99, keys={"line": "7"}),
    )
    component = PublishedComponent(key="dataspace/feed", kind="collector", title="Parquet feed", data_format="json",
                                   media_type="application/json", latest_route="/feed/", parquet_files=files)
    triples = component_triples(component, NamedNode("http://a.test/datasets/dataspace/feed"), "http://a.test")
    by_node: dict = {}
    for t in triples:
        by_node.setdefault(t.subject, {})[t.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]] = t.object
    distributions = {v["accessURL"].value: v for v in by_node.values() if "accessURL" in v}
    assert set(distributions) == {"http://a.test/feed/", "http://a.test/parquet/feed/1h/a.parquet",
                                  "http://a.test/parquet/feed/1w/b.parquet"}
    assert distributions["http://a.test/feed/"]["format"].value == "json"
    hourly = distributions["http://a.test/parquet/feed/1h/a.parquet"]
    assert hourly["downloadURL"].value == "http://a.test/parquet/feed/1h/a.parquet"
    assert hourly["format"].value == "http://publications.europa.eu/resource/authority/file-type/PARQUET"
    assert hourly["mediaType"].value == "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
    size = hourly["byteSize"]
    assert (size.value, size.datatype.value.rsplit("#")[-1]) == ("1234", "nonNegativeInteger")
    period = by_node[hourly["temporal"]]
    assert period["startDate"].value == "2026-03-02T10:00:00+00:00"
    assert period["endDate"].value == "2026-03-02T11:00:00+00:00"
    assert "line=7" in distributions["http://a.test/parquet/feed/1w/b.parquet"]["title"].value
    checksum = by_node[hourly["checksum"]]
    assert checksum["algorithm"].value == "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
    assert (checksum["checksumValue"].value, checksum["checksumValue"].datatype.value.rsplit("#")[-1]) == (
        "0f" * 32, "hexBinary")
    assert "checksum" not in distributions["http://a.test/parquet/feed/1w/b.parquet"]  # recorded before checksums
