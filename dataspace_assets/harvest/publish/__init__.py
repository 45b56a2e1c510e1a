"""Publishing the catalogue as DCAT-AP: the `catalog/dcat` asset, paged HTTP routes and the export command."""

from dataspace_assets.harvest.publish.components import PublishedComponent, PublishedFile

__all__ = ["PublishedComponent", "PublishedFile"]
