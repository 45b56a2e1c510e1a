"""SQLAlchemy engines for the SQL index and the harvest catalogue (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import redact


def normalize_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2: SQLAlchemy 2.1 would pick psycopg 3, which is not installed."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def create_engine(url: str) -> sa.Engine:
    """Open an engine; for SQLite, create the folder and turn on WAL and foreign keys."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a terse message
        raise DataspaceError(f"invalid database URL {redact(url)!r} (DATASPACE_DATABASE_URL): {exc}") from exc
    if parsed.get_backend_name() != "sqlite":
        try:
            return sa.create_engine(url, pool_pre_ping=True, future=True)
        except (ImportError, sa.exc.ArgumentError) as exc:  # NoSuchModuleError: a dialect nobody installed
            raise DataspaceError(
                f"database URL {redact(url)!r} (DATASPACE_DATABASE_URL): unknown or uninstalled database dialect "
                f'"{parsed.drivername}" (use sqlite:/// or postgresql://)'
            ) from None

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # A long busy timeout rides out the short write locks of concurrent runs.
    engine = sa.create_engine(url, future=True, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine
