"""Blob keys and the local blob store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import LocalBlobStore, blob_key

KEY = re.compile(r"^(?P<name>[a-z_]+)/(?P<stamp>\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})-[0-9a-f]{8}$")


def test_key_is_name_then_utc_second_then_suffix() -> None:
    key = blob_key("stib_gtfs", datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC))
    match = KEY.match(key)
    assert match and match["name"] == "stib_gtfs" and match["stamp"] == "2026-03-04_05-06-07"


def test_key_converts_to_utc() -> None:
    brussels = timezone(timedelta(hours=1))
    key = blob_key("a_b", datetime(2026, 1, 1, 0, 30, tzinfo=brussels))
    assert key.startswith("a_b/2025-12-31_23-30-00-")


def test_same_second_writes_get_distinct_keys() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    keys = {blob_key("a_b", moment) for _ in range(200)}
    assert len(keys) == 200


def test_local_write_read_delete(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path)
    location = blobs.write("a_b/2026-01-01_00-00-00-00000001", b"payload", "text/plain")
    assert location.startswith("file://")
    assert blobs.read(location) == b"payload"
    assert blobs.exists(location)
    assert blobs.keys("a_b/") == ["a_b/2026-01-01_00-00-00-00000001"]
    blobs.delete(location)
    assert not blobs.exists(location)
    assert blobs.keys() == []


def test_local_refuses_to_overwrite(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path)
    blobs.write("a_b/k", b"first", "text/plain")
    with pytest.raises(DataspaceError, match="already exists"):
        blobs.write("a_b/k", b"second", "text/plain")
    assert (tmp_path / "a_b" / "k").read_bytes() == b"first"


def test_local_missing_blob_is_a_clear_error(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path)
    location = (tmp_path / "a_b" / "gone").as_uri()
    with pytest.raises(DataspaceError, match=f"^blob {re.escape(location)} is missing$"):
        blobs.read(location)


def test_local_delete_of_a_missing_blob_is_a_no_op(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path)
    kept = blobs.write("a_b/kept", b"kept", "text/plain")
    blobs.delete((tmp_path / "a_b" / "gone").as_uri())
    blobs.delete("a_b/also-gone")
    assert blobs.keys() == ["a_b/kept"] and blobs.read(kept) == b"kept"


def test_local_keys_filter_by_prefix(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path)
    for key in ("a_b/2", "a_b/1", "a_c/1"):
        blobs.write(key, b"x", "text/plain")
    assert blobs.keys("a_b/") == ["a_b/1", "a_b/2"]
    assert blobs.keys() == ["a_b/1", "a_b/2", "a_c/1"]
    assert LocalBlobStore(tmp_path / "never").keys() == []


def test_local_download_streams_a_blob_or_a_byte_range(tmp_path) -> None:
    from dataspace_assets.storage import blobs as blobs_module

    blobs = LocalBlobStore(tmp_path / "blobs")
    payload = bytes(range(256)) * 4096 * 3  # 3 MiB: several chunks
    location = blobs.write("a_b/k", payload, "application/octet-stream")
    whole = blobs.download(location)
    chunks = list(whole.chunks)
    assert (whole.size, whole.start, whole.length) == (len(payload), 0, len(payload))
    assert len(chunks) == 3 and max(map(len, chunks)) == blobs_module.CHUNK_SIZE and b"".join(chunks) == payload
    part = blobs.download(location, 10, 20)
    assert (part.start, part.length, b"".join(part.chunks)) == (10, 20, payload[10:30])
    tail = blobs.download(location, len(payload) - 5, 100)  # clamped to the end
    assert b"".join(tail.chunks) == payload[-5:]
    unread = blobs.download(location)
    unread.close()  # a download not read (a HEAD) releases its file


def test_local_download_refuses_a_location_outside_its_folder(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    for location in (secret.as_uri(), str(secret), "../secret.txt", "a/../../secret.txt"):
        with pytest.raises(DataspaceError, match="is not in"):
            blobs.download(location)
    with pytest.raises(DataspaceError, match="is missing"):
        blobs.download("a_b/never-written")
