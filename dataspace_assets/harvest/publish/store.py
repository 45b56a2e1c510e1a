"""What the publication reads from the catalogue database: public entries, one page at a time, and the last change.

Entries are listed in one stable order: the data-space components (as `catalog/dcat` stored them), then the
public datasets by id, then the dataservices by id. Only one page of records is ever loaded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.catalog import models as m
from dataspace_assets.harvest.catalog.models import UTCDateTime
from dataspace_assets.harvest.publish.components import PublishedComponent, PublishedFile
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

# Our own table, beside the harvest tables (its own metadata: the harvest migrations never see it).
metadata = sa.MetaData()
components_table = sa.Table(
    "catalog_published_components",
    metadata,
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
KIND_ORDER = ("component", "dataset", "dataservice")


def public_datasets() -> sa.ColumnElement[bool]:
    """The datasets a public catalogue shows: not private, not archived, not deleted."""
    t = m.datasets
    return sa.and_(t.c.private.is_(False), t.c.archived.is_(None), t.c.deleted.is_(None))


def public_dataservices() -> sa.ColumnElement[bool]:
    """The dataservices a public catalogue shows: not archived, not deleted."""
    t = m.dataservices
    return sa.and_(t.c.archived_at.is_(None), t.c.deleted.is_(None))


def ensure_tables(engine: sa.Engine) -> None:
    """Create the components table when missing."""
    metadata.create_all(engine, checkfirst=True)


def _component_payload(component: PublishedComponent) -> dict:
    data = asdict(component)
    data["parquet_files"] = [f.payload() for f in component.parquet_files]
    for key in ("first_item", "last_item"):
        data[key] = data[key].isoformat() if data[key] else None
    return json.loads(json.dumps(data))  # tuples → lists, for the JSON column


def component_from_payload(payload: dict) -> PublishedComponent:
    """A stored component back as a PublishedComponent."""
    known = {f.name for f in fields(PublishedComponent)}
    values: dict[str, Any] = {k: v for k, v in payload.items() if k in known}
    for key in ("first_item", "last_item"):
        values[key] = datetime.fromisoformat(values[key]) if values.get(key) else None
    for key in ("asset_key", "used", "derived_from", "tags"):
        values[key] = tuple(values.get(key) or ())
    values["parquet_files"] = tuple(PublishedFile.from_payload(f) for f in values.get("parquet_files") or ())
    return PublishedComponent(**values)


@dataclass(frozen=True)
class Counts:
    """How many public entries of each kind the catalogue has."""

    components: int
    datasets: int
    dataservices: int

    @property
    def total(self) -> int:
        return self.components + self.datasets + self.dataservices


class PublicationStore:
    """Reads pages of the public catalogue and writes the published components."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.engine = catalog.engine
        ensure_tables(self.engine)

    @classmethod
    def from_url(cls, url: str) -> "PublicationStore":
        """The publication of the catalogue at this database URL (its schema brought up to date)."""
        return cls(Catalog.open(url))

    def close(self) -> None:
        self.catalog.close()

    # --- components
    def replace_components(self, components: list[PublishedComponent]) -> None:
        """Store exactly these components (the previous set is replaced); unchanged ones keep their time."""
        now = datetime.now(timezone.utc)
        t = components_table
        with self.engine.begin() as conn:
            old = {r.key: r.payload for r in conn.execute(sa.select(t.c.key, t.c.payload))}
            wanted = {c.key for c in components}
            gone = [k for k in old if k not in wanted]
            if gone:
                conn.execute(t.delete().where(t.c.key.in_(gone)))
            for position, component in enumerate(components):
                payload = _component_payload(component)
                values = {"position": position, "kind": component.kind, "payload": payload}
                if component.key not in old:
                    conn.execute(t.insert().values(key=component.key, updated_at=now, **values))
                elif old[component.key] != payload:
                    conn.execute(t.update().where(t.c.key == component.key).values(updated_at=now, **values))
                else:
                    conn.execute(t.update().where(t.c.key == component.key).values(position=position))

    def components(self, offset: int = 0, limit: int | None = None) -> list[PublishedComponent]:
        """Published components in their order."""
        t = components_table
        query = sa.select(t.c.payload).order_by(t.c.position, t.c.key).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [component_from_payload(p) for p in conn.execute(query).scalars()]

    def component(self, key: str) -> PublishedComponent | None:
        """One published component by its key."""
        t = components_table
        with self.engine.connect() as conn:
            payload = conn.execute(sa.select(t.c.payload).where(t.c.key == key)).scalar()
        return component_from_payload(payload) if payload else None

    # --- counts and change
    def counts(self) -> Counts:
        """Public entries of each kind."""
        with self.engine.connect() as conn:
            return Counts(
                components=conn.execute(sa.select(sa.func.count()).select_from(components_table)).scalar() or 0,
                datasets=conn.execute(
                    sa.select(sa.func.count()).select_from(m.datasets).where(public_datasets())
                ).scalar() or 0,
                dataservices=conn.execute(
                    sa.select(sa.func.count()).select_from(m.dataservices).where(public_dataservices())
                ).scalar() or 0,
            )

    def last_change(self) -> tuple:
        """A value that changes whenever the public catalogue changes (the page cache key)."""
        d, s, c = m.datasets, m.dataservices, components_table
        # Counts catch rows leaving the public set (archived, deleted, made private) without a new timestamp.
        dataset_q = sa.select(
            sa.func.count(), sa.func.max(d.c.last_modified), sa.func.max(d.c.archived), sa.func.max(d.c.deleted),
            sa.func.sum(sa.case((d.c.private.is_(True), 1), else_=0)),
        )
        service_q = sa.select(
            sa.func.count(), sa.func.max(s.c.last_modified), sa.func.max(s.c.archived_at), sa.func.max(s.c.deleted)
        )
        component_q = sa.select(sa.func.count(), sa.func.max(c.c.updated_at))
        with self.engine.connect() as conn:
            return (
                tuple(conn.execute(dataset_q).one()),
                tuple(conn.execute(service_q).one()),
                tuple(conn.execute(component_q).one()),
            )

    # --- records
    def dataset_ids(self, offset: int, limit: int) -> list[str]:
        """Ids of public datasets in publication order."""
        query = (
            sa.select(m.datasets.c.id).where(public_datasets()).order_by(m.datasets.c.id).offset(offset).limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def dataservice_ids(self, offset: int, limit: int) -> list[str]:
        """Ids of public dataservices in publication order."""
        query = (
            sa.select(m.dataservices.c.id)
            .where(public_dataservices())
            .order_by(m.dataservices.c.id)
            .offset(offset)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def datasets(self, ids: list[str]) -> list[DatasetRecord]:
        """These datasets (resources and contacts loaded), in the given order."""
        found = self.catalog.get_datasets(ids)
        return [found[i] for i in ids if i in found]

    def public_dataset(self, dataset_id: str) -> DatasetRecord | None:
        """One dataset, only when it is public."""
        with self.engine.connect() as conn:
            visible = conn.execute(
                sa.select(m.datasets.c.id).where(m.datasets.c.id == dataset_id, public_datasets())
            ).first()
        return self.catalog.get_dataset(dataset_id) if visible else None

    def public_dataservice(self, dataservice_id: str) -> DataserviceRecord | None:
        """One dataservice, only when it is public."""
        with self.engine.connect() as conn:
            visible = conn.execute(
                sa.select(m.dataservices.c.id).where(m.dataservices.c.id == dataservice_id, public_dataservices())
            ).first()
        return self.catalog.get_dataservice(dataservice_id) if visible else None

    def dataservices(self, ids: list[str]) -> list[tuple[DataserviceRecord, list[str]]]:
        """These dataservices with the ids of the public datasets each serves."""
        out = []
        for service_id in ids:
            service = self.catalog.get_dataservice(service_id)
            if service is not None:
                out.append((service, self.served_public(service_id)))
        return out

    def served_public(self, dataservice_id: str) -> list[str]:
        """Ids of the public datasets a dataservice serves."""
        link = m.dataservice_datasets
        query = (
            sa.select(link.c.dataset_id)
            .join(m.datasets, m.datasets.c.id == link.c.dataset_id)
            .where(link.c.dataservice_id == dataservice_id, public_datasets())
            .order_by(link.c.dataset_id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def licence(self, licence_id: str) -> tuple[str | None, str | None]:
        """A licence's URL and title."""
        found = self.catalog.license_registry().get(licence_id)
        return (found.url, found.title) if found else (None, None)

    def guess_licence(self, value: str) -> str | None:
        """The licence id a harvester would read from this single value (no default)."""
        found = self.catalog.license_registry().guess(value, default=None)
        return found.id if found else None


__all__ = ["Counts", "PublicationStore", "components_table", "ensure_tables", "public_datasets"]
