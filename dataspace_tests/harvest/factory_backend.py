"""A tiny custom harvest backend used by the tests and documented in docs/harvest.md.

It makes up its remote catalogue from the source config: `count` datasets named "0".."count-1",
or an explicit `ids` list (None, "" and repeats allowed), plus knobs to make records fail or slow.
"""

from __future__ import annotations

import logging
import time

from dataspace_assets.harvest.backends.base import (
    BaseBackend,
    HarvestException,
    HarvestExtraConfig,
    HarvestFeature,
    HarvestFilter,
    HarvestSkipException,
    HarvestValidationError,
    ItemRef,
)
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord, ResourceRecord

log = logging.getLogger("dataspace_assets.harvest.factory")


class FactoryBackend(BaseBackend):
    """Generates datasets from its config instead of reading a remote."""

    name = "factory"
    display_name = "Factory"
    filters = [HarvestFilter(label="Tag", key="tag", type=str)]
    features = [HarvestFeature(key="uppercase", label="Upper-case titles", default=False)]
    extra_configs = [HarvestExtraConfig(label="Title prefix", key="prefix", type=str)]

    def initialize(self) -> None:
        config = self.config
        ids = config.get("ids")
        if ids is None:
            ids = [str(i) for i in range(int(config.get("count", 3)))]
        for remote_id in ids:
            if self.has_reached_max_items():
                if not self.dry_run:  # a preview does not report the cap (spec 6)
                    self.add_job_error(f"{self.max_items} max items reached")
                break
            self.add_item(remote_id, page=0)
        self.job_data["listed"] = len(self.items)
        for remote_id in config.get("dataservices", []):
            self.add_item(remote_id, kind="dataservice")
        if config.get("fail_listing"):
            raise HarvestException(config["fail_listing"])

    def process_dataset(self, item: ItemRef, dataset: DatasetRecord) -> DatasetRecord:
        remote_id = item.remote_id
        if self.config.get("delay"):  # a slow remote: seconds per dataset
            time.sleep(float(self.config["delay"]))
        if self.config.get("hold_until"):  # a remote that answers once a file exists (at most a minute)
            from pathlib import Path

            for _ in range(1200):
                if Path(self.config["hold_until"]).exists():
                    break
                time.sleep(0.05)
        if remote_id in self.config.get("crash", []):
            raise RuntimeError(f"boom on {remote_id}")
        if remote_id in self.config.get("invalid", []):
            raise HarvestValidationError(f"invalid record {remote_id}")
        if remote_id in self.config.get("skip", []):
            raise HarvestSkipException(f"not wanted: {remote_id}")
        if remote_id in self.config.get("warn", []):
            log.warning("odd record %s", remote_id)
        prefix = self.get_extra_config_value("prefix") or "Dataset"
        title = "" if remote_id in self.config.get("untitled", []) else f"{prefix} {remote_id}"
        if remote_id in self.config.get("blank_title", []):
            title = " \t "
        dataset.title = title.upper() if self.has_feature("uppercase") else title
        dataset.description = f"Made up from {self.source.url} ({self.job_data.get('listed')} listed)"
        dataset.tags = ["factory"]
        if remote_id in self.config.get("licenses", {}):
            dataset.license = self.config["licenses"][remote_id]
        dataset.harvest.remote_url = f"http://factory.test/{remote_id}"
        known = {r.url: r for r in dataset.resources}
        url = f"http://factory.test/{remote_id}.csv"
        resource = known.get(url) or ResourceRecord(url=url, title=f"{remote_id}.csv", format="csv")
        if remote_id in self.config.get("resource_ids", {}):  # forced ids: two records can collide in the database
            resource.id = self.config["resource_ids"][remote_id]
        dataset.resources = [resource]
        return dataset

    def finalize(self) -> None:
        if self.config.get("fail_finalize"):
            raise RuntimeError(self.config["fail_finalize"])

    def process_dataservice(
        self, item: ItemRef, dataservice: DataserviceRecord, dataset_ids: dict[str, str]
    ) -> DataserviceRecord:
        untitled = item.remote_id in self.config.get("untitled_services", [])
        dataservice.title = "  " if untitled else f"Service {item.remote_id}"
        dataservice.base_api_url = f"http://factory.test/api/{item.remote_id}"
        dataservice.datasets = sorted(dataset_ids.values())
        return dataservice
