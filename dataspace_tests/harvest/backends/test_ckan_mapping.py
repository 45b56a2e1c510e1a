"""The CKAN package mapping rules one by one: spatial, extras, temporal, remote_url, hashes, resource types and identity."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from voluptuous import MultipleInvalid

from dataspace_assets.harvest.backends.base import HarvestException, HarvestSkipException
from dataspace_assets.harvest.ckan.mapping import dataset_from_package, frequency_of, spatial_geometry
from dataspace_assets.harvest.ckan.schema import CKAN_PACKAGE, to_hash, to_size, validation_message
from dataspace_assets.harvest.licenses import LicenseRegistry
from dataspace_assets.harvest.records import DatasetRecord

SOURCE = "https://ckan.test/portal/"
POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}


def raw(**changes) -> dict:
    package = {
        "id": "p-1", "name": "my-package", "title": "My package", "notes": "Line one\r\nline two  ",
        "license_id": "cc-by", "license_title": "Creative Commons Attribution", "tags": [{"id": "t", "name": "Water Quality"}, {"id": "u", "name": "ab"}],
        "metadata_created": "2021-03-04T10:11:12", "metadata_modified": "2021-05-06", "organization": None,
        "private": "true", "type": "dataset", "author": None, "author_email": None, "maintainer": None,
        "maintainer_email": None, "state": "active", "url": None,
        "resources": [
            {"id": "r1", "position": 0, "name": "File", "description": "<b>bold</b>", "format": "CSV", "mimetype": "Text/CSV",
             "size": 12, "hash": "a" * 40, "created": "2021-03-04", "last_modified": "2021-03-05", "url": "data.test/f.csv",
             "resource_type": None},
            {"id": "r2", "position": 1, "name": "Docs", "description": "", "format": "HTML", "mimetype": None, "size": None,
             "hash": None, "created": "2021-03-04", "last_modified": None, "url": "https://data.test/docs", "resource_type": "documentation"},
        ],
    }
    package.update(changes)
    return package


def mapped(package: dict, dataset: DatasetRecord | None = None) -> DatasetRecord:
    return dataset_from_package(CKAN_PACKAGE(package), dataset or DatasetRecord(), source_url=SOURCE, licenses=LicenseRegistry.default())


def test_dataset_fields() -> None:
    ds = mapped(raw())
    assert (ds.slug, ds.title, ds.description) == ("my-package", "My package", "Line one\nline two")
    assert ds.tags == ["water-quality"] and ds.license == "cc-by" and ds.private is False
    assert ds.harvest.created_at.date() == date(2021, 3, 4) and ds.harvest.modified_at is None
    assert ds.harvest.ckan_name == "my-package"
    assert ds.harvest.remote_url == "https://ckan.test/portal/dataset/my-package" and ds.harvest.ckan_source is None
    [res] = ds.resources  # the documentation resource is not data
    assert (res.url, res.format, res.mime, res.description) == ("http://data.test/f.csv", "csv", "text/csv", "**bold**")
    assert (res.checksum.type, res.harvest["remote_id"]) == ("sha1", "r1")


def test_remote_url_rules() -> None:
    assert mapped(raw(url="https://portal.test/ds/1")).harvest.remote_url == "https://portal.test/ds/1"
    ds = mapped(raw(url="not a url"))
    assert ds.harvest.remote_url == "https://ckan.test/portal/dataset/my-package" and ds.harvest.ckan_source == "not a url"


@pytest.mark.parametrize("value", [POLYGON, '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}'])
def test_spatial_polygon_becomes_a_multipolygon(value) -> None:
    ds = mapped(raw(extras=[{"key": "spatial", "value": value}]))
    assert ds.spatial == {"type": "MultiPolygon", "coordinates": [POLYGON["coordinates"]]}


def test_other_geometries_fail() -> None:
    with pytest.raises(HarvestException, match="Unsupported spatial geometry Point"):
        spatial_geometry({"type": "Point", "coordinates": [0, 0]})
    with pytest.raises(HarvestException, match=r"\(no type\)"):
        spatial_geometry({"coordinates": []})
    multi = {"type": "MultiPolygon", "coordinates": [POLYGON["coordinates"]]}
    assert spatial_geometry(multi) == multi


def test_extras() -> None:
    extras = [
        {"key": "spatial-text", "value": "Gap"},
        {"key": "spatial-uri", "value": "http://zones.test/gap"},
        {"key": "frequency", "value": "http://purl.org/cld/freq/monthly"},
        {"key": "temporal_start", "value": "2019"},
        {"key": "temporal_end", "value": "2020-02"},
        {"key": "custom", "value": {"a": 1}},
        {"key": "blank", "value": "  "},
    ]
    ds = mapped(raw(extras=extras))
    assert ds.extras == {"ckan:spatial-text": "Gap", "ckan:spatial-uri": "http://zones.test/gap", "custom": {"a": 1}}
    assert ds.frequency == "monthly"
    assert ds.temporal_coverage == {"start": date(2019, 1, 1), "end": date(2020, 2, 29)}
    assert mapped(raw(extras=[{"key": "temporal_start", "value": "2019"}])).temporal_coverage is None
    assert mapped(raw(extras=[{"key": "frequency", "value": "every full moon"}])).extras == {"ckan:frequency": "every full moon"}
    assert frequency_of("daily") == "daily" and frequency_of("DAILY") == "daily" and frequency_of("punctual") == "punctual"


def test_no_resources_skips() -> None:
    with pytest.raises(HarvestSkipException, match="Dataset my-package has no record"):
        mapped(raw(resources=[]))


def test_resource_identity_across_runs() -> None:
    first = mapped(raw())
    first.id, first.slug = "existing", None  # as the catalogue loads it
    resource_id = first.resources[0].id
    changed = raw()
    changed["resources"][0]["url"] = "https://data.test/moved.csv"
    again = mapped(changed, copy.deepcopy(first))
    assert [(r.id, r.url) for r in again.resources] == [(resource_id, "https://data.test/moved.csv")]
    assert again.slug is None  # the slug is only wished for a new dataset


def test_schema_messages() -> None:
    package = raw(type="harvest", private=[], resources=[{**raw()["resources"][0], "url": "", "resource_type": "metadata"}])
    with pytest.raises(MultipleInvalid) as caught:
        CKAN_PACKAGE(package)
    message = validation_message(caught.value)
    assert message.startswith("Validation error:\n- [")
    lines = set(message.splitlines()[1:])
    assert "- [type] not a valid value" in lines
    assert any(line.startswith("- [resources.0.url]") for line in lines)
    assert any(line.startswith("- [resources.0.resource_type]") for line in lines)


def test_hash_and_size_typing() -> None:
    assert to_hash("a" * 32) == {"type": "md5", "value": "a" * 32}
    assert to_hash("b" * 64)["type"] == "sha256" and to_hash("c" * 12) is None
    assert to_size("42 octets") == 42 and to_size("1 Ko") == 1000 and to_size(7) == 7 and to_size("") is None
