"""The harvest catalogue database: records (entities), tables and migrations (models), the `Catalog` store."""

from dataspace_assets.harvest.catalog.entities import (
    HarvestItem,
    HarvestJob,
    HarvestSource,
    new_id,
    source_domain,
    utcnow,
)
from dataspace_assets.harvest.catalog.models import SCHEMA_VERSION, upgrade
from dataspace_assets.harvest.catalog.store import Catalog

__all__ = [
    "SCHEMA_VERSION",
    "Catalog",
    "HarvestItem",
    "HarvestJob",
    "HarvestSource",
    "new_id",
    "source_domain",
    "upgrade",
    "utcnow",
]
