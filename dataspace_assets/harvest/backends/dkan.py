"""The DKAN backend: CKAN's action API as DKAN serves it (type "Dataset", French dates, list results)."""

from __future__ import annotations

from typing import Any, ClassVar

from voluptuous import Schema

from dataspace_assets.harvest.backends.ckan import CkanBackend
from dataspace_assets.harvest.ckan.schema import DKAN_PACKAGE, DKAN_RESOURCE


class DkanBackend(CkanBackend):
    """Harvests a DKAN portal: no filters; packages checked by the DKAN schema."""

    name = "dkan"
    display_name = "DKAN"
    filters = []
    schema: ClassVar[Schema] = DKAN_PACKAGE
    resource_schema: ClassVar[Schema] = DKAN_RESOURCE

    def package_of(self, result: Any) -> Any:
        """DKAN answers package_show with a list holding the package: unwrapped."""
        if isinstance(result, list):
            return result[0] if result else None
        return result


__all__ = ["DkanBackend"]
