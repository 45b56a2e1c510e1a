"""The OpenDataSoft backend (API v1): page through the dataset search, then GET each dataset with its metadata.

Each dataset GET runs in the domain's bounded pool (config `concurrency`); exports, alternative exports and
attachments become resources, matched by URL across runs so their ids stay the same.
"""

from __future__ import annotations

import json
import mimetypes
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from dateutil import parser as dateparser

from dataspace_assets.harvest.backends.base import (
    BaseBackend,
    HarvestException,
    HarvestFeature,
    HarvestFilter,
    HarvestSkipException,
    HarvestValidationError,
    ItemRef,
)
from dataspace_assets.harvest.backends.options import (
    HTTP_KEYS,
    check_config_keys,
    check_max_pages,
    max_pages_of,
    page_cap_error,
)
from dataspace_assets.harvest.dcat.mapping import now_utc
from dataspace_assets.harvest.dcat.tags import normalize_tag
from dataspace_assets.harvest.dcat.text import html_to_markdown
from dataspace_assets.harvest.records import DatasetRecord, ResourceRecord

PAGE_ROWS = 50
SHAPEFILE_RECORDS_LIMIT = 50_000
# ODS licence names → catalogue licence ids (tried after the name itself).
LICENSES = {
    "Open Database License (ODbL)": "odc-odbl",
    "Licence Ouverte (Etalab)": "fr-lo",
    "Licence ouverte / Open Licence": "fr-lo",
    "CC BY-SA": "cc-by-sa",
    "Public Domain": "other-pd",
}
# (label, export format, catalogue format, mime) of the record exports, in resource order.
EXPORTS = [
    ("CSV", "csv", "csv", "text/csv"),
    ("JSON", "json", "json", "application/json"),
]
GEO_EXPORTS = [("GeoJSON", "geojson", "geojson", "application/vnd.geo+json")]
SHAPEFILE_EXPORT = ("Shapefile", "shp", "shp", None)


def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = dateparser.parse(str(value))
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _strings(value: Any) -> list[str]:
    """A string or a list of strings as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v is not None]


def tags_of(metas: dict) -> list[str]:
    """Tags from `keyword` and from `theme` split on commas, normalised, de-duplicated and sorted."""
    words = _strings(metas.get("keyword"))
    for theme in _strings(metas.get("theme")):
        words += theme.split(",")
    tags = {normalize_tag(w.strip().lower()) for w in words if w.strip()}
    return sorted(t for t in tags if t)


def fields_description(fields: list[dict]) -> str:
    """The field list of an export: one `- *label*: name[type] description` line per field."""
    lines = []
    for field in fields or []:
        line = f"- *{field.get('label') or field.get('name')}*: {field.get('name')}[{field.get('type')}]"
        if field.get("description"):
            line += f" {field['description']}"
        lines.append(line)
    return "\n".join(lines)


def file_format(mime: str | None, url: str) -> tuple[str | None, str | None]:
    """(format, mime) of an attached file: the format from the MIME type, else from the URL's extension."""
    extension = mimetypes.guess_extension(mime) if mime else None
    if not extension:
        name = url.rsplit("/", 1)[-1]
        extension = "." + name.rsplit(".", 1)[-1] if "." in name else None
    known = mime if mime and mimetypes.guess_extension(mime) else None
    guessed = mimetypes.guess_type(url.replace("odsfile://", "file:///"))[0]
    return (extension.lstrip(".").lower() if extension else None), known or guessed


class OdsBackend(BaseBackend):
    """Harvests an OpenDataSoft portal through its API v1."""

    name = "ods"
    config_keys = frozenset(HTTP_KEYS) | {"max_pages"}
    display_name = "OpenDataSoft"
    filters = [
        HarvestFilter("Tag", "tags", str, "An ODS keyword (facet keyword)"),
        HarvestFilter("Publisher", "publisher", str, "An ODS publisher (facet publisher)"),
    ]
    features = [HarvestFeature("inspire", "Harvest INSPIRE datasets", "Also harvest datasets with INSPIRE metadata")]
    facets = {"tags": "keyword", "publisher": "publisher"}

    @classmethod
    def validate_config(cls, config: dict) -> list[str]:
        """The base checks plus the HTTP options, `concurrency` and `max_pages`."""
        errors = super().validate_config(config)
        if isinstance(config, dict):
            errors += check_config_keys(config, cls.name, HTTP_KEYS) + check_max_pages(config)
        return errors

    @property
    def max_pages(self) -> int:
        """How many search pages one listing may walk (config `max_pages`, as for DCAT and CSW)."""
        return max_pages_of(self.config)

    # ------------------------------------------------------------ URLs
    @property
    def root(self) -> str:
        return self.source.url.rstrip("/")

    def explore_url(self, dataset_id: str) -> str:
        return f"{self.root}/explore/dataset/{dataset_id}/"

    def export_url(self, dataset_id: str, fmt: str) -> str:
        query = urlencode({"format": fmt, "timezone": "Europe/Berlin", "use_labels_for_header": "false"})
        return f"{self.root}/explore/dataset/{dataset_id}/download?{query}"

    def file_url(self, dataset_id: str, kind: str, file_id: str) -> str:
        return f"{self.root}/api/datasets/1.0/{dataset_id}/{kind}/{file_id}"

    def get_json(self, url: str, params: list[tuple[str, Any]] | dict) -> Any:
        """GET a JSON answer; an unreadable one is a clear error naming the URL."""
        response = self.http.get(url, params=params)  # type: ignore[arg-type]
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise HarvestException(f"Invalid JSON returned by {url}: {exc}") from exc

    # ------------------------------------------------------------ listing
    def search_params(self, start: int) -> list[tuple[str, Any]]:
        """The search parameters of one page: paging, interop metadata, refine/exclude facets."""
        params: list[tuple[str, Any]] = [("start", start), ("rows", PAGE_ROWS), ("interopmetas", "true")]
        for entry in self.get_filters():
            facet = self.facets.get(entry["key"], entry["key"])
            kind = "exclude" if entry.get("type") == "exclude" else "refine"
            params.append((f"{kind}.{facet}", entry["value"]))
        return params

    def initialize(self) -> None:
        """Page through the search (50 a page) while fewer than min(nhits, max_items) are listed, at most `max_pages`.

        The cap holds the job to a bound when a portal's `nhits` keeps growing.
        """
        url = f"{self.root}/api/datasets/1.0/search/"
        start = 0
        pages = 0
        while True:
            params = self.search_params(start)
            if pages >= self.max_pages:
                raise page_cap_error(self.max_pages, url, params)
            pages += 1
            data = self.get_json(url, params)
            if not isinstance(data, dict):
                raise HarvestException(f"{url} did not return an ODS search answer")
            datasets = data.get("datasets") or []
            for dataset in datasets:
                if self.has_reached_max_items():
                    break
                self.add_item(dataset.get("datasetid"))
            total = int(data.get("nhits") or 0)
            wanted = total if self.max_items is None else min(total, self.max_items)
            start += len(datasets)
            if not datasets or len(self.items) >= wanted:
                return

    # ------------------------------------------------------------ items
    def fetch(self, item: ItemRef) -> Any:
        """The dataset with its interop metadata (runs in the domain's bounded pool)."""
        return self.get_json(f"{self.root}/api/datasets/1.0/{item.remote_id}/", {"interopmetas": "true"})

    def process_dataset(self, item: ItemRef, dataset: DatasetRecord) -> DatasetRecord:
        """Skip empty and (unless asked) INSPIRE datasets; map the rest with their exports and files."""
        try:
            ods = self.fetched(item)
        except HarvestException as exc:
            raise HarvestValidationError(str(exc)) from None
        if not isinstance(ods, dict):
            raise HarvestValidationError(f"Dataset {item.remote_id}: not an ODS dataset answer")
        dataset_id = ods.get("datasetid") or item.remote_id
        metas = ods.get("metas") or {}
        interop = ods.get("interop_metas") or {}
        if not any((ods.get("has_records"), ods.get("attachments"), ods.get("alternative_exports"))):
            raise HarvestSkipException(f"Dataset {dataset_id} has no record")
        if "inspire" in interop and not self.has_feature("inspire"):
            raise HarvestSkipException(f"Dataset {dataset_id} has INSPIRE metadata")

        dataset.title = metas.get("title") or ""
        dataset.description = html_to_markdown(metas.get("description") or "")
        dataset.frequency = "unknown"
        dataset.private = False
        dataset.tags = tags_of(metas)
        licence = metas.get("license")
        current = self.licenses.get(dataset.license) if dataset.license else None
        found = self.licenses.guess(
            licence, LICENSES.get(licence or ""), default=current or self.licenses.default_license()
        )
        dataset.license = found.id if found else None
        meta = dataset.harvest
        meta.modified_at = _datetime(metas.get("modified"))
        meta.remote_url = meta.ods_url = self.explore_url(dataset_id)
        meta.ods_references = metas.get("references")
        meta.ods_has_records = bool(ods.get("has_records"))
        meta.ods_geo = "geo" in (ods.get("features") or [])
        self._merge_resources(dataset, self._resources(dataset_id, ods, metas))
        return dataset

    def _resources(self, dataset_id: str, ods: dict, metas: dict) -> list[ResourceRecord]:
        """CSV, JSON (GeoJSON, Shapefile for geo data), then alternative exports, then attachments."""
        resources: list[ResourceRecord] = []
        modified = _datetime(metas.get("modified"))
        if ods.get("has_records"):
            exports = list(EXPORTS)
            if "geo" in (ods.get("features") or []):
                exports += GEO_EXPORTS
                if int(metas.get("records_count") or 0) <= SHAPEFILE_RECORDS_LIMIT:
                    exports.append(SHAPEFILE_EXPORT)
            description = fields_description(ods.get("fields") or [])
            for label, export, fmt, mime in exports:
                resources.append(
                    ResourceRecord(
                        url=self.export_url(dataset_id, export),
                        title=f"{label} format export",
                        description=description,
                        format=fmt,
                        mime=mime,
                        filetype="remote",
                        harvest={"ods_type": "api", "modified_at": modified},
                    )
                )
        for kind, ods_type in (("alternative_exports", "alternative_export"), ("attachments", "attachment")):
            for entry in ods.get(kind) or []:
                url = self.file_url(dataset_id, kind, entry.get("id", ""))
                fmt, mime = file_format(entry.get("mimetype"), entry.get("url") or "")
                resources.append(
                    ResourceRecord(
                        url=url,
                        title=entry.get("title") or "No title",
                        description=entry.get("description") or "",
                        format=fmt,
                        mime=mime,
                        filetype="remote",
                        harvest={"ods_type": ods_type},
                    )
                )
        return resources

    @staticmethod
    def _merge_resources(dataset: DatasetRecord, fresh: list[ResourceRecord]) -> None:
        """The fresh resources in order, each keeping the id of the existing resource with its URL."""
        by_url = {r.url: r for r in dataset.resources}
        merged = []
        for resource in fresh:
            previous = by_url.pop(resource.url, None)
            if previous is not None:
                resource.id = previous.id
            resource.harvest = {**resource.harvest, "last_update": now_utc()}
            merged.append(resource)
        dataset.resources = merged + list(by_url.values())  # files gone from the portal are kept, at the end


__all__ = ["LICENSES", "OdsBackend", "fields_description", "file_format", "tags_of"]
