"""`dataspace storage check`: blobs no index row points at (a crash between a blob and its row leaves one).

Every write puts the blob first and its row second, so a process killed in between leaves an *orphan*
blob: invisible to readers, but it takes space. The check lists them; `--repair` deletes them. A blob
younger than `min_age` is left alone: its row may be about to be committed by a running write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from dataspace_assets.storage.store import DataStore

ITEM_COLUMNS = {"id", "date", "location", "content_type", "hash", "size"}
PARQUET_COLUMNS = {"id", "aggregation", "start_date", "end_date", "data"}  # storage/parquet.py's tables
DEFAULT_MIN_AGE = timedelta(minutes=5)


@dataclass
class StorageReport:
    """What the check found (and removed)."""

    tables: int = 0
    rows: int = 0
    blobs: int = 0
    orphans: list[str] = field(default_factory=list)  # blob keys no row points at
    young: int = 0  # unreferenced but too recent to judge
    missing: list[str] = field(default_factory=list)  # "<table> #<id>: <location>" rows whose blob is gone
    removed: int = 0


def item_tables(store: DataStore, columns: set[str] = ITEM_COLUMNS) -> list[str]:
    """Every table of the index that has `columns` (the catalogue's tables are skipped)."""
    inspector = sa.inspect(store.engine)
    return sorted(
        name for name in inspector.get_table_names() if columns <= {c["name"] for c in inspector.get_columns(name)}
    )


def check_storage(
    store: DataStore,
    *,
    repair: bool = False,
    min_age: timedelta = DEFAULT_MIN_AGE,
    check_missing: bool = False,
    now: datetime | None = None,
) -> StorageReport:
    """Find orphan blobs (and, with `check_missing`, rows whose blob is missing); delete orphans on `repair`."""
    report = StorageReport()
    referenced: set[str] = set()
    rows: list[tuple[str, int, str]] = []
    metadata = sa.MetaData()
    for name in item_tables(store):
        table = sa.Table(name, metadata, autoload_with=store.engine)
        report.tables += 1
        with store.engine.connect() as conn:
            for row_id, location in conn.execute(
                sa.select(table.c.id, table.c.location).where(table.c.location.is_not(None))
            ):
                referenced.add(location)
                rows.append((name, row_id, location))
    # Parquet files of PARQUETIZE are recorded in `<name>_parquetize` tables: theirs are no orphans.
    for name in item_tables(store, PARQUET_COLUMNS):
        table = sa.Table(name, metadata, autoload_with=store.engine)
        with store.engine.connect() as conn:
            for row_id, location in conn.execute(sa.select(table.c.id, table.c.data)):
                referenced.add(location)
                rows.append((name, row_id, location))
    report.rows = len(rows)
    cutoff = (now or datetime.now(UTC)) - min_age
    for key, modified in store.blobs.listing():
        report.blobs += 1
        if store.blobs.location(key) in referenced:
            continue
        if modified > cutoff:
            report.young += 1
            continue
        report.orphans.append(key)
    if check_missing:
        report.missing = [f"{t} #{i}: {loc}" for t, i, loc in rows if not store.blobs.exists(loc)]
    if repair:
        for key in report.orphans:
            store.blobs.delete(store.blobs.location(key))
            report.removed += 1
    return report


def format_storage_report(report: StorageReport, *, repair: bool) -> list[str]:
    """The lines `dataspace storage check` prints."""
    lines = [f"{report.tables} table(s), {report.rows} item(s), {report.blobs} blob(s)"]
    if report.orphans:
        verb = "removed" if repair else "found"
        lines.append(f"{len(report.orphans)} orphan blob(s) {verb} (no index row points at them):")
        lines += [f"  {key}" for key in report.orphans[:50]]
        if len(report.orphans) > 50:
            lines.append(f"  ... and {len(report.orphans) - 50} more")
        if not repair:
            lines.append("run `dataspace storage check --repair` to delete them")
    else:
        lines.append("no orphan blobs")
    if report.young:
        lines.append(f"{report.young} recent unreferenced blob(s) left alone (a write may be in progress)")
    for missing in report.missing:
        lines.append(f"missing blob: {missing}")
    return lines
