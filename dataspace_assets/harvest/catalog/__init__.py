"""The harvest catalogue database: tables, migrations and the `Catalog` store."""

from dataspace_assets.harvest.catalog.models import SCHEMA_VERSION, upgrade
from dataspace_assets.harvest.catalog.store import (
    Catalog,
    HarvestItem,
    HarvestJob,
    HarvestSource,
    new_id,
    source_domain,
    utcnow,
)

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
