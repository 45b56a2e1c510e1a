"""`dataspace import-original`: an original deployment (its table shape, its blob naming) copied into ours."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from dataspace_assets.cli import main
from dataspace_assets.storage.store import DataStore


def _original(tmp_path: Path) -> tuple[str, Path]:
    """An original v0.0.1 database and FILE_STORAGE_DIRECTORY, as its code wrote them."""
    blobs = tmp_path / "original-blobs"
    url = f"sqlite:///{tmp_path / 'original.db'}"
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    columns = lambda: [  # noqa: E731
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("date", sa.DateTime, nullable=False),
        sa.Column("data", sa.String(512)), sa.Column("type", sa.String(24)), sa.Column("hash", sa.String(32)),
        sa.Column("copy_id", sa.Integer),
    ]
    gtfs = sa.Table("stib_gtfs", metadata, *columns())
    segments = sa.Table("stib_segments", metadata, *columns())
    sa.Table("alembic_version", metadata, sa.Column("version_num", sa.String(32)))
    metadata.create_all(engine)

    def blob(name: str, stamp: str, payload: bytes, absolute: bool = False) -> tuple[str, str]:
        path = blobs / name / stamp
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        location = f"/srv/old-machine/storage/{name}/{stamp}" if absolute else f"{name}/{stamp}"
        return location, hashlib.md5(payload).hexdigest()

    rows = []
    loc, digest = blob("stib_gtfs", "2024-03-31_01-59-00", b'{"v": 1}')
    rows.append((gtfs, datetime(2024, 3, 31, 1, 59), loc, "json", digest))
    # Two writes in the same second: one blob, two rows; the first row's bytes were overwritten.
    first_digest = hashlib.md5(b'{"v": 2}').hexdigest()
    loc, digest = blob("stib_gtfs", "2024-03-31_03-00-00", b'{"v": 3}')
    rows.append((gtfs, datetime(2024, 3, 31, 3, 0, 0, 100000), loc, "json", first_digest))
    rows.append((gtfs, datetime(2024, 3, 31, 3, 0, 0, 700000), loc, "json", digest))
    loc, digest = blob("stib_segments", "2024-04-01_10-00-00", b"\x00\x01", absolute=True)
    rows.append((segments, datetime(2024, 4, 1, 10), loc, "application/octet-stream", digest))
    rows.append((segments, datetime(2024, 4, 1, 11), None, None, None))  # a None result: marker
    rows.append((segments, datetime(2024, 4, 1, 12), "stib_segments/gone", "binary", "0" * 32))  # blob lost
    with engine.begin() as conn:
        for table, date, data, kind, digest in rows:
            conn.execute(table.insert().values(date=date, data=data, type=kind, hash=digest))
    engine.dispose()
    return url, blobs


def test_import_copies_rows_and_blobs_reports_overwrites_and_is_idempotent(tmp_settings, tmp_path, capsys) -> None:
    url, blobs = _original(tmp_path)
    argv = ["import-original", "--database", url, "--blobs", str(blobs), "--timezone", "Europe/Brussels"]
    assert main(argv) == 1  # one blob is missing: reported, non-zero
    out = capsys.readouterr().out
    assert "stib_gtfs: 2 item(s) imported, 0 marker(s), 0 already there, 1 overwritten in the original, 0 missing" in out
    assert "overwritten (a later write in the same second took its blob): row 2 (2024-03-31T01:00:00.100000+00:00)" in out
    assert "MISSING row 3 (2024-04-01T10:00:00+00:00): blob stib_segments/gone not found" in out
    assert "not component tables (left alone): alembic_version" in out
    store = DataStore.from_settings(tmp_settings)
    try:
        items = store.between("stib_gtfs", None, None)
        # Brussels local time, DST starting that night: 01:59 CET and 03:00 CEST are 00:59 and 01:00 UTC.
        assert [(i.date.isoformat(), i.json()) for i in items] == [
            ("2024-03-31T00:59:00+00:00", {"v": 1}), ("2024-03-31T01:00:00.700000+00:00", {"v": 3})]
        assert items[0].hash == hashlib.md5(b'{"v": 1}').hexdigest()
        assert items[0].content_type == "application/json"
        segment = store.latest("stib_segments")
        assert segment.content == b"\x00\x01" and segment.content_type == "application/octet-stream"
        assert store.last_date("stib_segments", markers=True).isoformat() == "2024-04-01T09:00:00+00:00"
        assert main(argv) == 1
        again = capsys.readouterr().out
        assert "stib_gtfs: 0 item(s) imported, 0 marker(s), 2 already there" in again
        assert "stib_segments: 0 item(s) imported, 0 marker(s), 2 already there" in again
        assert store.count("stib_gtfs") == 2 and store.count("stib_segments") == 1
    finally:
        store.close()


def test_only_named_tables_and_exactly_one_blob_source(tmp_settings, tmp_path, capsys) -> None:
    url, blobs = _original(tmp_path)
    assert main(["import-original", "--database", url]) == 1
    assert "give exactly one of --blobs DIR or --azure-container NAME" in capsys.readouterr().err
    assert main(["import-original", "--database", url, "--blobs", str(blobs), "--components", "stib_gtfs"]) == 0
    assert "stib_segments" not in capsys.readouterr().out
    assert main(["import-original", "--database", url, "--blobs", str(blobs), "--components", "nope"]) == 1
    assert "no original table nope" in capsys.readouterr().err


def test_import_from_an_original_on_postgresql_and_azure_blob(tmp_settings, pg_url, azurite, monkeypatch, capsys) -> None:
    from azure.storage.blob import BlobServiceClient

    container = azurite.new_container()
    client = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(container)
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    metadata = sa.MetaData()
    table = sa.Table(
        "bolt_scooters", metadata, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("date", sa.DateTime, nullable=False), sa.Column("data", sa.String(512)),
        sa.Column("type", sa.String(24)), sa.Column("hash", sa.String(32)), sa.Column("copy_id", sa.Integer),
    )
    metadata.create_all(engine)
    payloads = [b'{"n": 1}', b'{"n": 2}']
    with engine.begin() as conn:
        for i, payload in enumerate(payloads):
            name = f"bolt_scooters/2025-06-0{i + 1}_12-00-00"
            client.upload_blob(name, payload)
            # The original stored the full blob URL; readers split it on "<container>/".
            conn.execute(table.insert().values(
                date=datetime(2025, 6, i + 1, 12), data=f"{azurite.account_url}/{container}/{name}", type="json",
                hash=hashlib.md5(payload).hexdigest()))
        conn.execute(table.insert().values(date=datetime(2025, 6, 3, 12), data=f"{azurite.account_url}/{container}/"
                                           "bolt_scooters/2025-06-03_12-00-00", type="json", hash="f" * 32))
    engine.dispose()
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    argv = ["import-original", "--database", pg_url, "--azure-container", container]
    assert main(argv) == 1  # the third row's blob never existed
    out = capsys.readouterr().out
    assert "bolt_scooters: 2 item(s) imported" in out and "1 missing" in out
    store = DataStore.from_settings(tmp_settings)
    try:
        assert [i.json() for i in store.between("bolt_scooters", None, None)] == [{"n": 1}, {"n": 2}]
        main(argv)
        assert "0 item(s) imported, 0 marker(s), 2 already there" in capsys.readouterr().out
        assert store.count("bolt_scooters") == 2
    finally:
        store.close()
