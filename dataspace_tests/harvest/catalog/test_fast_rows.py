"""Rows written through the store's pre-encoded executemany read back exactly as SQLAlchemy Core's own, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.catalog import models as m
from dataspace_assets.harvest.catalog.store import _insert_rows, _update_rows, json_text


@pytest.fixture(params=["sqlite", "postgresql"])
def any_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    url = f"sqlite:///{tmp_path / 'c.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    catalog = Catalog.open(url)
    yield catalog
    catalog.close()


PARIS = timezone(timedelta(hours=2))


def _row(dataset_id: str, slug: str, remote_id: str) -> dict:
    """A datasets row with a value of every column type: JSON (nested, empty, None), datetimes, booleans, NULLs."""
    return {
        "id": dataset_id,
        "slug": slug,
        "title": "Qualité de l'air — «NO₂»",
        "description": "line 1\nline 2 ' \" \\ %s %(x)s ?",  # quotes and both drivers' placeholders, as text
        "acronym": None,
        "tags": ["air", "no2", "été"],
        "frequency": "daily",
        "temporal_coverage": None,  # JSON None: stored as JSON null, as SQLAlchemy does
        "spatial": {"geom": {"type": "Point", "coordinates": [2.35, 48.85]}, "zones": [], "granularity": "other"},
        "license": None,
        "schema": {"url": "http://schema.test/", "name": "s"},
        "access_type": "open",
        "access_type_reason_category": None,
        "extras": {"dcat": {"rights": ["free"]}, "n": 1, "f": 1.5, "b": True, "z": None, 3: "int key"},
        "harvest": {"backend": "DCAT", "last_update": "2024-05-01T10:00:00+00:00"},
        "harvest_source_id": "s" * 32,
        "harvest_remote_id": remote_id,
        "harvest_domain": "x.test",
        "harvest_last_update": datetime(2024, 5, 1, 12, 0, 0, tzinfo=PARIS),  # stored as UTC, like Core does
        "archived": None,
        "private": True,
        "organization": None,
        "owner": "me",
        "created_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),  # whole seconds: no microseconds
        "last_modified": datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
    }


def _raw(conn: sa.Connection, dataset_id: str) -> dict:
    """The row as the database holds it (no type processing): text of dates and JSON as stored."""
    row = conn.exec_driver_sql(
        "SELECT * FROM datasets WHERE id = " + ("?" if conn.dialect.name == "sqlite" else "%(id)s"),
        (dataset_id,) if conn.dialect.name == "sqlite" else {"id": dataset_id},
    ).mappings().one()
    return {k: v for k, v in row.items() if k not in ("id", "slug", "harvest_remote_id")}


def test_pre_encoded_rows_are_the_rows_sqlalchemy_writes(any_catalog: Catalog) -> None:
    with any_catalog.engine.begin() as conn:
        conn.execute(m.datasets.insert(), [_row("a" * 32, "core", "r-core")])  # SQLAlchemy's own processing
        _insert_rows(conn, m.datasets, [_row("b" * 32, "fast", "r-fast"), _row("c" * 32, "fast-2", "r-fast-2")])
    with any_catalog.engine.connect() as conn:
        core, fast = _raw(conn, "a" * 32), _raw(conn, "b" * 32)
        typed = {r["id"]: dict(r) for r in conn.execute(sa.select(m.datasets)).mappings()}
    if any_catalog.engine.dialect.name == "postgresql":  # JSON as the server re-prints it: compare values
        assert fast == core
    else:  # SQLite keeps the text: dates in SQLAlchemy's form, JSON decoded to the same values
        json_columns = {c.name for c in m.datasets.columns if isinstance(c.type, sa.JSON)}
        assert {k: (json.loads(v) if k in json_columns else v) for k, v in fast.items()} == {
            k: (json.loads(v) if k in json_columns else v) for k, v in core.items()
        }
        assert fast["created_at"] == core["created_at"] == "2024-01-02 03:04:05.000000"
        assert fast["temporal_coverage"] == "null" and fast["private"] == 1
    read_core, read_fast = typed["a" * 32], typed["b" * 32]
    for key in ("id", "slug", "harvest_remote_id"):
        read_core.pop(key), read_fast.pop(key)
    assert read_fast == read_core
    assert read_fast["harvest_last_update"] == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert read_fast["extras"]["3"] == "int key"  # JSON object keys are text, as json.dumps makes them


def test_pre_encoded_updates_set_only_the_given_columns(any_catalog: Catalog) -> None:
    with any_catalog.engine.begin() as conn:
        _insert_rows(conn, m.datasets, [_row("a" * 32, "one", "r1"), _row("b" * 32, "two", "r2")])
        _update_rows(conn, m.datasets, [
            {"b_id": "a" * 32, "title": "New ' title", "tags": [], "archived": datetime(2025, 1, 1, tzinfo=timezone.utc)},
            {"b_id": "b" * 32, "title": "Other", "tags": ["x"], "archived": None},
        ])
    with any_catalog.engine.connect() as conn:
        rows = {r["id"]: r for r in conn.execute(sa.select(m.datasets)).mappings()}
    assert (rows["a" * 32]["title"], rows["a" * 32]["tags"]) == ("New ' title", [])
    assert rows["a" * 32]["archived"] == datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert (rows["b" * 32]["title"], rows["b" * 32]["tags"], rows["b" * 32]["archived"]) == ("Other", ["x"], None)
    assert rows["a" * 32]["slug"] == "one" and rows["a" * 32]["spatial"]["granularity"] == "other"  # untouched


def test_a_duplicate_key_is_sqlalchemy_s_integrity_error(any_catalog: Catalog) -> None:
    # The store retries a slug another worker took on exactly this error: it must not be the driver's own.
    with pytest.raises(sa.exc.IntegrityError), any_catalog.engine.begin() as conn:
        _insert_rows(conn, m.datasets, [_row("a" * 32, "same", "r1"), _row("b" * 32, "same", "r2")])


def test_json_text_falls_back_to_json_for_what_orjson_refuses() -> None:
    assert json_text({"big": 2**70}) == '{"big": 1180591620717411303424}'
    assert json_text(None) == "null" and json_text({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    with pytest.raises(TypeError):
        json_text({"x": object()})  # still an error: the record fails alone, as before
