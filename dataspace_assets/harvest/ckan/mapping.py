"""A validated CKAN (or DKAN) package → a catalogue dataset and its resources (spec 3.4, 3.5)."""

from __future__ import annotations

import calendar
import json
import logging
import uuid
from datetime import date, datetime, time, timezone
from typing import Any
from urllib.parse import urljoin

from dateutil import parser as dateparser
from rdflib import Literal

from dataspace_assets.harvest.backends.base import HarvestException, HarvestSkipException
from dataspace_assets.harvest.dcat.frequency import DC_FREQUENCIES, EU_FREQUENCIES, frequency_from_rdf
from dataspace_assets.harvest.dcat.mapping import is_valid_url, now_utc
from dataspace_assets.harvest.dcat.text import html_to_markdown
from dataspace_assets.harvest.licenses import LicenseRegistry
from dataspace_assets.harvest.records import Checksum, DatasetRecord, ResourceRecord

log = logging.getLogger("dataspace_assets.harvest")

# Resource types a dataset keeps; documentation, image and visualization resources are not data.
KEPT_RESOURCE_TYPES = ("dkan", "file", "file.upload", "api", "metadata")
FREQUENCY_IDS = frozenset(DC_FREQUENCIES.values()) | frozenset(EU_FREQUENCIES.values())
_PERIOD_START = datetime(1, 1, 1)


def as_datetime(value: date | None) -> datetime | None:
    """A date as midnight UTC (CKAN dates carry no time of day once validated)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


# ------------------------------------------------------------------ extras
def spatial_geometry(value: Any) -> dict:
    """A GeoJSON Polygon or MultiPolygon (text or object) as a MultiPolygon; any other geometry fails the item."""
    geometry = value
    if isinstance(value, str):
        try:
            geometry = json.loads(value)
        except json.JSONDecodeError as exc:
            raise HarvestException(f"Unsupported spatial geometry (not GeoJSON): {value[:80]}") from exc
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        return {"type": "MultiPolygon", "coordinates": [geometry["coordinates"]]}
    if kind == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": geometry["coordinates"]}
    raise HarvestException(f"Unsupported spatial geometry {kind or '(no type)'}")


def frequency_of(value: str) -> str | None:
    """The catalogue frequency of an RDF frequency IRI or term, or of a catalogue frequency id; else None."""
    found = frequency_from_rdf(Literal(value.strip()))
    if found:
        return found
    return value if value in FREQUENCY_IDS else None


def period_bound(value: Any, *, end: bool) -> date | None:
    """A temporal bound: YYYY and YYYY-MM expand to the start (or end) of the period; None when unreadable."""
    text = str(value).strip()
    try:
        if text.isdigit() and len(text) == 4:
            year = int(text)
            return date(year, 12, 31) if end else date(year, 1, 1)
        parts = text.split("-")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            year, month = int(parts[0]), int(parts[1])
            return date(year, month, calendar.monthrange(year, month)[1] if end else 1)
        return dateparser.parse(text, default=_PERIOD_START).date()
    except (ValueError, OverflowError) as exc:
        log.warning("unreadable temporal bound %r: %s", text, exc)
        return None


def apply_extras(dataset: DatasetRecord, extras: list[dict]) -> None:
    """Map the package extras in order: spatial, spatial-text, spatial-uri, frequency, temporal; others kept."""
    kept = dict(dataset.extras or {})
    temporal: dict[str, date | None] = {}
    for extra in extras:
        key, value = extra["key"], extra["value"]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key == "spatial":
            dataset.spatial = spatial_geometry(value)
        elif key in ("spatial-text", "spatial-uri"):
            kept[f"ckan:{key}"] = value  # no zone registry here: kept for the record
        elif key == "frequency":
            frequency = frequency_of(str(value))
            if frequency:
                dataset.frequency = frequency
            else:
                kept["ckan:frequency"] = value
        elif key in ("temporal_start", "temporal_end"):
            temporal[key] = period_bound(value, end=key == "temporal_end")
        else:
            kept[key] = value
    if temporal.get("temporal_start") and temporal.get("temporal_end"):
        dataset.temporal_coverage = {"start": temporal["temporal_start"], "end": temporal["temporal_end"]}
    dataset.extras = kept


# ------------------------------------------------------------------ resources
def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _find_resource(resources: list[ResourceRecord], remote_id: str) -> ResourceRecord | None:
    """The resource harvested from this CKAN resource id before (by harvest.remote_id, else by its own UUID)."""
    for resource in resources:
        if (resource.harvest or {}).get("remote_id") == remote_id:
            return resource
    if _is_uuid(remote_id):
        for resource in resources:
            if resource.id == remote_id:
                return resource
    return None


def _fill_resource(resource: ResourceRecord, res: dict) -> None:
    resource.title = res.get("name") or ""
    resource.description = html_to_markdown(res.get("description") or "")
    resource.url = res["url"]
    resource.filetype = "remote"
    resource.format = res.get("format") or None
    resource.mime = res.get("mimetype") or None
    resource.filesize = res.get("size")
    checksum = res.get("hash")
    resource.checksum = Checksum(**checksum) if checksum else None
    resource.harvest = {
        **(resource.harvest or {}),
        "remote_id": res["id"],
        "issued_at": as_datetime(res.get("created")),
        "modified_at": as_datetime(res.get("last_modified")),
        "last_update": now_utc(),
    }


def merge_resources(dataset: DatasetRecord, resources: list[dict]) -> None:
    """Update the dataset's resources from the package's kept ones, matched by CKAN resource id; none removed."""
    current = list(dataset.resources)
    for res in resources:
        if res.get("resource_type") not in KEPT_RESOURCE_TYPES:
            continue
        resource = _find_resource(current, res["id"])
        if resource is None:  # a new resource: a fresh id, the CKAN one is kept as harvest.remote_id
            resource = ResourceRecord(url=res["url"], id=str(uuid.uuid4()))
            current.append(resource)
        _fill_resource(resource, res)  # two remote resources with one id: the second overwrites the first
    dataset.resources = current


# ------------------------------------------------------------------ dataset
def remote_url_of(data: dict, source_url: str) -> tuple[str, str | None]:
    """(remote_url, ckan_source): the package `url` when it is a URL, else `<source>/dataset/<name>`."""
    url = (data.get("url") or "").strip() if isinstance(data.get("url"), str) else ""
    if url and is_valid_url(url):
        return url, None
    return urljoin(source_url, f"dataset/{data['name']}"), url or None


def dataset_from_package(
    data: dict, dataset: DatasetRecord, *, source_url: str, licenses: LicenseRegistry
) -> DatasetRecord:
    """Fill the dataset from a validated package; a package without resources is skipped."""
    if not data["resources"]:
        raise HarvestSkipException(f"Dataset {data['name']} has no record")
    if dataset.id is None:
        dataset.slug = data["name"]
    dataset.title = data["title"]
    dataset.description = html_to_markdown(data.get("notes") or "")
    current = licenses.get(dataset.license) if dataset.license else None
    found = licenses.guess(
        data.get("license_id"), data.get("license_title"), default=current or licenses.default_license()
    )
    dataset.license = found.id if found else None
    dataset.tags = list(dict.fromkeys(t["name"] for t in data["tags"] if t["name"]))
    dataset.private = False  # private and deleted packages get no special treatment (spec 3.4)
    apply_extras(dataset, data.get("extras") or [])
    meta = dataset.harvest
    meta.created_at = as_datetime(data.get("metadata_created"))
    meta.modified_at = None  # metadata_modified is the metadata's date, not the data's
    meta.ckan_name = data["name"]
    meta.remote_url, meta.ckan_source = remote_url_of(data, source_url)
    merge_resources(dataset, data["resources"])
    return dataset


__all__ = ["KEPT_RESOURCE_TYPES", "dataset_from_package", "frequency_of", "merge_resources", "spatial_geometry"]
