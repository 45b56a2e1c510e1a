"""`dataspace import-original`: copy a digitaltwin-dataspace deployment's tables and blobs into our store.

The original kept one table per component (`id, date, data, type, hash, copy_id`), `data` being the blob's
location (a file path or an Azure blob URL), `date` naive local time, `type` a DATA_TYPE or a MIME type.
Each row becomes one of our items (its bytes copied, the MD5 recomputed) or a marker row (a NULL hash).
A row whose blob no longer has its recorded hash lost its bytes to a later write in the same second (the
original named blobs by the second): it is reported and not imported, so no item carries another's bytes.
Re-running is idempotent: a row whose (date, hash) is already stored is skipped.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.index import NAME_PATTERN, as_utc
from dataspace_assets.storage.store import CONTENT_TYPES, DataStore

ORIGINAL_COLUMNS = {"id", "date", "data", "type", "hash"}


@dataclass
class TableReport:
    """What importing one original table did."""

    name: str
    imported: int = 0
    markers: int = 0
    already: int = 0
    overwritten: list[str] = field(default_factory=list)  # "row <id> (<date>)"
    missing: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    tables: list[TableReport] = field(default_factory=list)
    skipped_tables: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(t.missing for t in self.tables)


class BlobSource:
    """Reads the original's blobs from a local folder or an Azure container."""

    def __init__(self, folder: Path | None = None, container: str | None = None,
                 connection_string: str | None = None) -> None:
        self.folder = folder.resolve() if folder else None
        self.container = container
        self._client = None
        if container:
            if not connection_string:
                raise DataspaceError(
                    "--azure-container needs AZURE_STORAGE_CONNECTION_STRING (the original's) or "
                    "DATASPACE_AZURE_CONNECTION_STRING"
                )
            from azure.storage.blob import BlobServiceClient

            self._client = BlobServiceClient.from_connection_string(connection_string).get_container_client(container)

    def read(self, location: str) -> bytes | None:
        """The bytes at an original location, or None if they are gone."""
        if self._client is not None:
            name = location.split(f"{self.container}/", 1)[1] if f"{self.container}/" in location else location
            from azure.core.exceptions import ResourceNotFoundError

            try:
                return self._client.download_blob(name).readall()
            except ResourceNotFoundError:
                return None
        for path in self._candidates(location):
            if path.is_file():
                return path.read_bytes()
        return None

    def _candidates(self, location: str) -> list[Path]:
        if self.folder is None:
            return []
        path = Path(location)
        # The stored path is relative to FILE_STORAGE_DIRECTORY, or absolute (maybe on another machine):
        # then the key `<name>/<YYYY-MM-DD_HH-MM-SS>` is its last two parts.
        candidate = self.folder / (Path(*path.parts[-2:]) if path.is_absolute() else path)
        # A stored `..` never leads outside the given folder.
        return [candidate] if candidate.resolve().is_relative_to(self.folder) else []


def content_type(value: str | None) -> str:
    """Our MIME type of an original `type` (a DATA_TYPE of v0.0.1 or a MIME type of v0.0.2)."""
    if not value:
        return CONTENT_TYPES["binary"]
    return value if "/" in value else CONTENT_TYPES.get(value, CONTENT_TYPES["binary"])


def original_tables(engine: sa.Engine) -> tuple[list[str], list[str]]:
    """The tables shaped like the original's component tables, and the others."""
    inspector = sa.inspect(engine)
    matching, other = [], []
    for name in sorted(inspector.get_table_names()):
        columns = {c["name"] for c in inspector.get_columns(name)}
        (matching if ORIGINAL_COLUMNS <= columns and NAME_PATTERN.match(name) else other).append(name)
    return matching, other


def _existing(store: DataStore, name: str) -> set[tuple[datetime, str | None]]:
    table = store.index.table(name, create=False)
    if table is None:
        return set()
    with store.engine.connect() as conn:
        return {(as_utc(r.date), r.hash) for r in conn.execute(sa.select(table.c.date, table.c.hash))}


def import_original(
    store: DataStore,
    database_url: str,
    blobs: BlobSource,
    *,
    timezone: str = "UTC",
    components: list[str] | None = None,
    echo: Callable[[str], None] = print,
) -> ImportReport:
    """Copy every original component table (or the named ones) with its blobs into `store`."""
    zone = ZoneInfo(timezone)
    source = create_engine(database_url)
    report = ImportReport()
    try:
        matching, other = original_tables(source)
        report.skipped_tables = other
        if components:
            unknown = [c for c in components if c not in matching]
            if unknown:
                raise DataspaceError(f"no original table {', '.join(unknown)} in {source.url.render_as_string()}")
            matching = [m for m in matching if m in components]
        metadata = sa.MetaData()
        for name in matching:
            table = sa.Table(name, metadata, autoload_with=source)
            result = TableReport(name)
            report.tables.append(result)
            has_copy = "copy_id" in table.c
            with source.connect() as conn:
                rows = conn.execute(sa.select(table).order_by(table.c.date, table.c.id)).mappings().all()
            by_id = {r["id"]: r for r in rows}
            existing = _existing(store, name)
            for row in rows:
                original = by_id.get(row["copy_id"]) if has_copy and row.get("copy_id") is not None else row
                date = row["date"]
                if isinstance(date, str):
                    date = datetime.fromisoformat(date)
                date = (date.replace(tzinfo=zone) if date.tzinfo is None else date).astimezone(ZoneInfo("UTC"))
                where = f"row {row['id']} ({date.isoformat()})"
                if original is None or original["hash"] is None:
                    if (date, None) in existing:
                        result.already += 1
                        continue
                    store.write_marker(name, date)
                    existing.add((date, None))
                    result.markers += 1
                    continue
                payload = blobs.read(original["data"]) if original["data"] else None
                if payload is None:
                    result.missing.append(f"{where}: blob {original['data']} not found")
                    continue
                digest = hashlib.md5(payload).hexdigest()
                if digest != original["hash"]:
                    result.overwritten.append(where)
                    continue
                if (date, digest) in existing:
                    result.already += 1
                    continue
                store.write(name, payload, date=date, content_type=content_type(original["type"]))
                existing.add((date, digest))
                result.imported += 1
            echo(
                f"{name}: {result.imported} item(s) imported, {result.markers} marker(s), {result.already} already "
                f"there, {len(result.overwritten)} overwritten in the original, {len(result.missing)} missing"
            )
            for line in result.overwritten:
                echo(f"  overwritten (a later write in the same second took its blob): {line}")
            for line in result.missing:
                echo(f"  MISSING {line}")
    finally:
        source.dispose()
    if report.skipped_tables:
        echo(f"not component tables (left alone): {', '.join(report.skipped_tables)}")
    return report


def run_import(args) -> int:
    """`dataspace import-original`."""
    from dataspace_assets.settings import load_settings

    if bool(args.blobs) == bool(args.azure_container):
        raise DataspaceError("give exactly one of --blobs DIR or --azure-container NAME")
    settings = load_settings()
    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or settings.azure_connection_string
    blobs = BlobSource(Path(args.blobs) if args.blobs else None, args.azure_container, connection_string)
    store = DataStore.from_settings(settings)
    try:
        report = import_original(store, args.database, blobs, timezone=args.timezone or settings.timezone,
                                 components=args.components)
    finally:
        store.close()
    return 0 if report.ok else 1


def register(commands) -> None:
    """Add `dataspace import-original`."""
    parser = commands.add_parser(
        "import-original", help="copy a digitaltwin-dataspace deployment (tables, blobs) into ours"
    )
    parser.add_argument("--database", required=True, metavar="URL", help="the original's DATABASE_URL")
    parser.add_argument("--blobs", metavar="DIR", help="the original's FILE_STORAGE_DIRECTORY")
    parser.add_argument("--azure-container", metavar="NAME",
                        help="the original's AZURE_STORAGE_CONTAINER (AZURE_STORAGE_CONNECTION_STRING from the env)")
    parser.add_argument("--timezone", metavar="TZ", help="the original's local time zone (default DATASPACE_TIMEZONE)")
    parser.add_argument("--components", nargs="*", metavar="NAME", help="only these tables")
    parser.set_defaults(func=run_import)
