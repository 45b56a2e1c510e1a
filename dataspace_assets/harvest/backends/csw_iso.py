"""The CSW-ISO-19139 backend: page through a CSW 2.0.2 GetRecords endpoint answering in ISO 19139 (gmd)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

from lxml import etree

from dataspace_assets.harvest.backends.base import (
    BaseBackend,
    HarvestExtraConfig,
    HarvestValidationError,
    ItemRef,
)
from dataspace_assets.harvest.backends.csw import get_records, local_name, next_start, records_cap_error
from dataspace_assets.harvest.backends.dcat import PAGE_CACHE
from dataspace_assets.harvest.dcat.guards import DEFAULT_MAX_PAGES, limits_config_errors
from dataspace_assets.harvest.backends.options import HTTP_KEYS, check_config_keys
from dataspace_assets.harvest.iso.mapping import (
    dataservice_from_iso,
    dataset_from_iso,
    is_record,
    is_service,
    parse_record,
    remote_id_of,
)
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

ISO_SCHEMA = "http://www.isotc211.org/2005/gmd"


class CswIsoBackend(BaseBackend):
    """Harvests a CSW catalogue (GeoNetwork, geo-ide ...) asking for ISO 19139 records."""

    name = "csw-iso-19139"
    config_keys = frozenset(HTTP_KEYS) | {"max_pages", "max_triples"}
    display_name = "CSW-ISO-19139"
    extra_configs = [
        HarvestExtraConfig(
            "Remote URL prefix", "remote_url_prefix", str, "Public record pages: prefix + '/' + file identifier"
        )
    ]

    @classmethod
    def validate_config(cls, config: dict) -> list[str]:
        """The base checks plus the HTTP options and `concurrency`."""
        errors = super().validate_config(config)
        if isinstance(config, dict):
            errors += check_config_keys(config, cls.name, HTTP_KEYS)
            errors += limits_config_errors(config)
        return errors

    @property
    def max_pages(self) -> int:
        """How many GetRecords pages one listing may walk (config `max_pages`, as for csw-dcat)."""
        return int(self.config.get("max_pages") or DEFAULT_MAX_PAGES)

    # ------------------------------------------------------------ CSW
    def fetch_records(self, start: int) -> ET.Element | None:
        """POST one GetRecords request (ISO output); the SearchResults element, or None when there is none."""
        return get_records(self.http, self.source.url, start, ISO_SCHEMA)

    def _records(self, results: ET.Element) -> list[bytes]:
        return [ET.tostring(record, encoding="utf-8") for record in results]

    def _page(self, start: int) -> list[bytes]:
        """The records of a page (their XML), cached for the job."""
        token = self.job_data.get("token", "")
        cached = PAGE_CACHE.get(token, start)
        if cached is None:
            results = self.fetch_records(start)
            cached = self._records(results) if results is not None else []
            PAGE_CACHE.put(token, start, cached)
        return cached

    # ------------------------------------------------------------ listing
    def initialize(self) -> None:
        """Page through GetRecords by startPosition, following nextRecord; datasets first, then services."""
        token = uuid.uuid4().hex
        self.job_data.update({"token": token, "format": "csw-iso"})
        start = 1
        truncated = False
        services: list[tuple[str | None, int, int]] = []
        pages = 0
        while True:
            if pages >= self.max_pages:  # a CSW whose nextRecord never ends must not hold the job forever
                raise records_cap_error(self.max_pages, start)
            pages += 1
            results = self.fetch_records(start)
            if results is None:
                break
            records = self._records(results)
            PAGE_CACHE.put(token, start, records)
            for index, data in enumerate(records):
                if self.has_reached_max_items():
                    truncated = True
                    break
                try:
                    record = parse_record(data)
                except etree.XMLSyntaxError as exc:
                    self.add_item(f"csw-record-{start + index}", start=start, record=index, broken=str(exc))
                    continue
                if not is_record(record):
                    self.add_item(
                        f"csw-record-{start + index}", start=start, record=index,
                        broken=f"record {start + index} is not an ISO 19139 record ({local_name(record.tag)})",
                    )
                elif is_service(record):
                    services.append((remote_id_of(record), start, index))
                else:
                    self.add_item(remote_id_of(record), start=start, record=index)
            if truncated:
                break
            next_record = next_start(results, records, start)
            if next_record is None:
                break
            if self.has_reached_max_items():
                truncated = True
                break
            start = next_record
        for remote_id, page, index in services:  # second pass: a service may operate on datasets of any page
            if self.has_reached_max_items():
                truncated = True
                break
            self.add_item(remote_id, kind="dataservice", start=page, record=index)
        if truncated and not self.dry_run:
            self.add_job_error(f"{self.max_items} max items reached, not all datasets/dataservices were retrieved")

    # ------------------------------------------------------------ mapping
    def _record(self, item: ItemRef):  # noqa: ANN202
        if item.kwargs.get("broken"):
            raise HarvestValidationError(item.kwargs["broken"])
        records = self._page(int(item.kwargs.get("start", 1)))
        index = int(item.kwargs.get("record", 0))
        if index >= len(records):
            raise HarvestValidationError(f"record {item.remote_id} is no longer in the CSW answer")
        return parse_record(records[index])

    def process_dataset(self, item: ItemRef, dataset: DatasetRecord) -> DatasetRecord:
        """Map one ISO record onto the dataset."""
        return dataset_from_iso(
            self._record(item), dataset, licenses=self.licenses,
            remote_url_prefix=self.get_extra_config_value("remote_url_prefix"),
        )

    def process_dataservice(
        self, item: ItemRef, dataservice: DataserviceRecord, dataset_ids: dict[str, str]
    ) -> DataserviceRecord:
        """Map one ISO service record, linked to the datasets of this job it operates on."""
        return dataservice_from_iso(self._record(item), dataservice, licenses=self.licenses, dataset_ids=dataset_ids)

    def finalize(self) -> None:
        """Forget the pages of this job."""
        token = self.job_data.get("token")
        if token:
            PAGE_CACHE.drop(token)


__all__ = ["ISO_SCHEMA", "CswIsoBackend"]
