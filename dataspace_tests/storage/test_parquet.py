"""The `<name>_parquetize` table across releases: a table written before checksums were kept still reads, then upgrades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from dataspace_assets.storage.parquet import ParquetFile, ParquetIndex, table_name

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _file(start: datetime, sha256: str | None) -> ParquetFile:
    return ParquetFile(id=None, level="1h", start=start, end=start + timedelta(hours=1), location=f"blob-{start:%H}",
                       count=6, rows=24, compressed_size=100, schema={"station": "string"}, sha256=sha256)


def test_a_table_without_the_checksum_column_is_read_then_upgraded_by_the_first_writer(store) -> None:
    name = table_name("feed")
    ParquetIndex(store.engine, "feed").replace([_file(T0, "ab" * 32)])
    with store.engine.begin() as conn:  # as an older release left it: no sha256 column
        conn.execute(sa.text(f'ALTER TABLE "{name}" DROP COLUMN "sha256"'))

    # A reader (read-only, never upgrades) still lists the old file, without a checksum.
    reader = ParquetIndex(store.engine, "feed", create=False)  # a server's, kept across the upgrade
    [old] = reader.files()
    assert (old.start, old.rows, old.sha256) == (T0, 24, None)
    assert "sha256" not in {c["name"] for c in sa.inspect(store.engine).get_columns(name)}

    # The first writer adds the column: the old row keeps everything it had, new files keep their checksum.
    writer = ParquetIndex(store.engine, "feed")
    assert "sha256" in {c["name"] for c in sa.inspect(store.engine).get_columns(name)}
    writer.replace([_file(T0 + timedelta(hours=1), "cd" * 32)])
    ParquetIndex(store.engine, "feed")  # a second writer finds the table up to date
    expected = [(T0, 24, None), (T0 + timedelta(hours=1), 24, "cd" * 32)]
    for files in (ParquetIndex(store.engine, "feed", create=False).files(), reader.files(), reader.files()):
        assert [(f.start, f.rows, f.sha256) for f in files] == expected


def test_a_reader_of_a_component_that_never_wrote_a_file_finds_none(store) -> None:
    assert ParquetIndex(store.engine, "never_written", create=False).files() == []
    assert not sa.inspect(store.engine).has_table(table_name("never_written"))
