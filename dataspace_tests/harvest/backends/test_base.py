"""The backend base class: items, max items, features, extra configs and config validation."""

from __future__ import annotations

import pytest

from dataspace_assets.harvest.backends.base import HarvestException, ItemRef, SourceInfo
from dataspace_tests.harvest.factory_backend import FactoryBackend


def _source(config: dict | None = None) -> SourceInfo:
    return SourceInfo(
        id="s1", slug="s", name="S", url="http://portal.test/", backend="factory", domain="portal.test",
        config=config or {},
    )


def test_add_item_keeps_missing_identifiers_and_kwargs() -> None:
    backend = FactoryBackend(_source({"ids": ["a", None, ""]}))
    backend.initialize()
    assert [i.remote_id for i in backend.items] == ["a", None, ""]
    assert backend.items[0] == ItemRef("a", "dataset", {"page": 0})
    assert ItemRef.from_json(backend.items[0].to_json()) == backend.items[0]


def test_max_items_stops_listing_and_counts_every_item() -> None:
    backend = FactoryBackend(_source({"count": 10}), max_items=4)
    backend.initialize()
    assert len(backend.items) == 4
    assert backend.has_reached_max_items()
    assert backend.job_errors == [("4 max items reached", None)]


def test_has_feature_default_configured_and_unknown() -> None:
    assert FactoryBackend(_source()).has_feature("uppercase") is False
    assert FactoryBackend(_source({"features": {"uppercase": True}})).has_feature("uppercase") is True
    with pytest.raises(HarvestException, match='Unknown feature "nope" for "factory" backend'):
        FactoryBackend(_source()).has_feature("nope")


def test_extra_config_and_filters() -> None:
    config = {"extra_configs": [{"key": "prefix", "value": "Set"}], "filters": [{"key": "tag", "value": "x"}]}
    backend = FactoryBackend(_source(config))
    assert backend.get_extra_config_value("prefix") == "Set"
    assert backend.get_extra_config_value("other") is None
    assert backend.get_filters() == [{"key": "tag", "value": "x"}]


@pytest.mark.parametrize(
    ("config", "errors"),
    [
        ({}, []),
        ({"filters": [{"key": "tag", "value": "x", "type": "exclude"}]}, []),
        ({"filters": [{"key": "x", "value": 1}]}, ['Unknown filter key "x" for "factory" backend']),
        ({"filters": [{"key": "tag", "value": 3}]}, ['Wrong type for filter "tag" of "factory" backend: expected str']),
        ({"filters": [{"key": "tag"}]}, ['Each filter of "filters" needs a "key" and a "value"']),
        ({"filters": [{"key": "tag", "value": "x", "type": "maybe"}]}, ['Unknown filter type "maybe" (expected "include" or "exclude")']),
        ({"features": {"uppercase": "yes"}}, ['Feature "uppercase" of "factory" backend must be a boolean']),
        ({"features": {"other": True}}, ['Unknown feature key "other" for "factory" backend']),
        ({"features": []}, ['"features" must be an object of booleans']),
        ({"extra_configs": [{"key": "zzz", "value": "a"}]}, ['Unknown extra config key "zzz" for "factory" backend']),
    ],
)
def test_validate_config(config: dict, errors: list[str]) -> None:
    assert FactoryBackend.validate_config(config) == errors
