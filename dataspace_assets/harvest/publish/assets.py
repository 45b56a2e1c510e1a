"""The `catalog/dcat` asset: the data space's own DCAT-AP catalogue, refreshed from the catalogue and the components."""


from collections import Counter
from collections.abc import Sequence

import dagster as dg
import sqlalchemy as sa

from dataspace_assets.harvest.admin import HARVEST_ASSET_KEY
from dataspace_assets.harvest.catalog import models as m
from dataspace_assets.harvest.publish.components import KINDS, PublishedComponent, PublishedFile
from dataspace_assets.harvest.publish.pages import DEFAULT_PAGE_SIZE, FORMATS, PageRequest, render_page
from dataspace_assets.harvest.publish.store import PublicationStore, public_datasets
from dataspace_assets.settings import Settings
from dataspace_assets.storage.parquet import ParquetIndex
from dataspace_assets.storage.store import DataStore

DCAT_ASSET_KEY = dg.AssetKey(["catalog", "dcat"])
PREVIEW_LINES = 40
PREVIEW_BASE = "http://127.0.0.1:8888"


def with_item_dates(components: Sequence[PublishedComponent], data: DataStore) -> list[PublishedComponent]:
    """Each component with the dates of its first and last stored item (none when nothing is stored yet)."""
    dated = []
    for component in components:
        if not component.index_table:
            dated.append(component)
            continue
        first = data.first(component.index_table)
        last = data.last_date(component.index_table, markers=False)
        dated.append(component.with_dates(first.date if first else None, last))
    return dated


def with_parquet_files(components: Sequence[PublishedComponent], data: DataStore) -> list[PublishedComponent]:
    """Each component with PARQUETIZE with the Parquet files its table records now (none before the first)."""
    out = []
    for component in components:
        if not (component.index_table and component.parquet_route):
            out.append(component)
            continue
        recorded = ParquetIndex(data.engine, component.index_table, create=False).files()
        base = component.parquet_route.rstrip("/") + "/"
        out.append(component.with_files(tuple(
            PublishedFile(route=base + f.path, level=f.level, start=f.start, end=f.end, byte_size=f.compressed_size,
                          rows=f.rows, keys={k: str(v) for k, v in f.keys.items()}, sha256=f.sha256)
            for f in recorded
        )))
    return out


def catalogue_metadata(store: PublicationStore, components: Sequence[PublishedComponent]) -> dict[str, dg.MetadataValue]:
    """Counts per kind of published entry, and a preview of the first page."""
    counts = store.counts()
    by_kind = Counter(c.kind for c in components)
    with store.engine.connect() as conn:
        resources = conn.execute(
            sa.select(sa.func.count())
            .select_from(m.resources.join(m.datasets, m.datasets.c.id == m.resources.c.dataset_id))
            .where(public_datasets())
        ).scalar() or 0
    pages = max(1, -(-counts.total // DEFAULT_PAGE_SIZE))
    preview = render_page(store, PageRequest(page_size=5, base_url=PREVIEW_BASE), FORMATS["ttl"]).decode()
    head = "\n".join(preview.splitlines()[:PREVIEW_LINES])
    metadata: dict[str, dg.MetadataValue] = {
        "datasets": dg.MetadataValue.int(counts.datasets),
        "dataservices": dg.MetadataValue.int(counts.dataservices),
        "resources": dg.MetadataValue.int(int(resources)),
        **{f"components_{kind.replace('-', '_')}s": dg.MetadataValue.int(by_kind.get(kind, 0)) for kind in KINDS},
        "parquet_files": dg.MetadataValue.int(sum(len(c.parquet_files) for c in components)),
        "entries_total": dg.MetadataValue.int(counts.total),
        "pages": dg.MetadataValue.int(pages),
        "page_size": dg.MetadataValue.int(DEFAULT_PAGE_SIZE),
        "routes": dg.MetadataValue.text("/catalog, /catalog.ttl, /catalog.rdf, /catalog.jsonld, /datasets/<id>"),
        "preview": dg.MetadataValue.md(f"```turtle\n{head}\n```"),
        "dagster/row_count": dg.MetadataValue.int(counts.total),
    }
    return metadata


def build_catalog_asset(
    settings: Settings, components: Sequence[PublishedComponent], deps: Sequence[dg.AssetKey] = ()
) -> dg.AssetsDefinition:
    """The `catalog/dcat` asset over the harvested catalogue and these data-space components and twin outputs."""
    components = list(components)

    @dg.asset(
        key=DCAT_ASSET_KEY,
        deps=[HARVEST_ASSET_KEY, *dict.fromkeys(deps)],
        group_name="catalog",
        kinds={"rdf"},
        description=(
            "The data space's own DCAT-AP catalogue: every public harvested dataset and dataservice, one dataset per "
            "collector, harvester and twin output, served with Hydra paging at /catalog."
        ),
    )
    def catalog_dcat(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """Store the components with their item dates; the pages are then built from the database on request."""
        data = DataStore.from_settings(settings)
        try:
            dated = with_parquet_files(with_item_dates(components, data), data)
        finally:
            data.close()
        store = PublicationStore.from_url(settings.database_url)
        try:
            store.replace_components(dated)
            metadata = catalogue_metadata(store, dated)
        finally:
            store.close()
        context.log.info(
            f"catalogue: {metadata['datasets'].value} dataset(s), {metadata['dataservices'].value} dataservice(s), "
            f"{len(dated)} component(s), {metadata['parquet_files'].value} Parquet file(s)"
        )
        return dg.MaterializeResult(metadata=metadata)

    return catalog_dcat


__all__ = ["DCAT_ASSET_KEY", "build_catalog_asset", "with_item_dates", "with_parquet_files"]
