"""Publishing the catalogue as DCAT-AP: the `catalog/dcat` asset, paged HTTP routes and the export command."""

from dataspace_assets.harvest.publish.components import PublishedComponent

__all__ = ["PublishedComponent"]
