"""Component table names and their per-table index names."""

from __future__ import annotations

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.index import check_name, index_name


@pytest.mark.parametrize("name", ["stib_gtfs", "a_b1", "_x", "A" * 63])
def test_valid_names(name) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a.b", "a b", "é_x", "A" * 64])
def test_invalid_names(name) -> None:
    with pytest.raises(DataspaceError, match="invalid component name"):
        check_name(name)


def test_index_names_are_per_table_and_fit_postgres() -> None:
    assert index_name("stib_gtfs") == "ix_stib_gtfs_date"
    long_a, long_b = "a" * 60 + "_x", "a" * 60 + "_y"
    assert index_name(long_a) != index_name(long_b)
    assert len(index_name(long_a)) <= 63
