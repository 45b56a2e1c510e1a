"""Harvest sources declared in configs/harvest/*.toml: checked, synced by slug, and added as partitions."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import sync_declared_sources
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.sources_config import PARTITIONS_NAME, read_declared_sources
from dataspace_assets.settings import Settings

DECLARED = """
[[sources]]
name = "Factory portal"
backend = "factory"
url = "http://factory.test/catalog"
schedule = "0 3 * * *"
organization = "city"
config = { count = 2 }

[[sources]]
name = "Local"
slug = "local-one"
backend = "factory"
path = "local.ttl"
validation = "pending"
"""


def _write(settings: Settings, text: str, name: str = "sources.toml") -> Path:
    folder = settings.configs_dir / "harvest"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "local.ttl").write_text("")
    path = folder / name
    path.write_text(text)
    return path


def test_declared_sources_are_synced_and_partitioned(
    tmp_settings: Settings, dagster_instance: dg.DagsterInstance, plugin_path: Path
) -> None:
    _write(tmp_settings, DECLARED)
    ids = sync_declared_sources(tmp_settings, dagster_instance)
    catalog = Catalog.from_settings(tmp_settings)
    first, local = catalog.get_source("factory-portal"), catalog.get_source("local-one")
    assert ids == [first.id, local.id]
    assert (first.validation_state, first.schedule, first.organization) == ("accepted", "0 3 * * *", "city")
    assert first.config == {"count": 2}
    assert first.declared_in.endswith("sources.toml")
    assert local.validation_state == "pending"
    assert local.url == (tmp_settings.configs_dir / "harvest" / "local.ttl").resolve().as_uri()
    assert local.config == {"allow_local_files": True}
    assert dagster_instance.get_dynamic_partitions(PARTITIONS_NAME) == [first.slug]  # the pending one cannot run

    # syncing again updates in place (same ids), and a removed declaration soft-deletes its source
    _write(tmp_settings, DECLARED.split("[[sources]]\nname = \"Local\"")[0].replace("count = 2", "count = 5"))
    assert sync_declared_sources(tmp_settings, dagster_instance) == [first.id]
    assert catalog.get_source(first.id).config == {"count": 5}
    assert catalog.get_source("local-one") is None
    assert catalog.count("sources") == 2

    # declaring it again brings the same source back, no longer deleted
    _write(tmp_settings, DECLARED)
    assert sync_declared_sources(tmp_settings, dagster_instance) == [first.id, local.id]
    back = catalog.get_source("local-one")
    assert back is not None and back.id == local.id and back.deleted is None
    assert catalog.count("sources") == 2


def test_no_harvest_folder_means_no_source(tmp_settings: Settings) -> None:
    assert read_declared_sources(tmp_settings.configs_dir) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sources]]\nname = 'x'\n", "{file}: sources[0].backend is required"),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\n", "{file}: sources[0].url (or path) is required"),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\nurl = 'http://x.test'\ncolour = 'red'\n",
         "{file}: sources[0].colour: unknown key (expected one of active, autoarchive, backend, config, description, "
         "frequency, name, organization, owner, path, schedule, slug, url, validation)"),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\nurl = 'http://x.test'\nactive = 'yes'\n",
         "{file}: sources[0].active: expected a bool"),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\npath = 'none.ttl'\n",
         "{file}: sources[0].path: {folder}/none.ttl does not exist"),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\nurl = 'http://x.test'\nvalidation = 'maybe'\n",
         '{file}: sources[0].validation: unknown state "maybe" (pending, accepted or refused)'),
        ("sources = 1\n", "{file}: sources must be an array of tables ([[sources]])"),
        ("source = 1\n", "{file}: unknown top-level key(s) source (expected [[sources]])"),
        ("[[sources]\n", "{file}: invalid TOML: "),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\nurl = 'http://x.test'\n[[sources]]\nname = 'X'\nbackend = 'factory'\nurl = 'http://y.test'\n",
         '{file}: sources[1]: slug "x" already declared in {file}: sources[0]'),
        ("[[sources]]\nname = 'x'\nslug = '!!!'\nbackend = 'factory'\nurl = 'http://x.test'\n",
         '{file}: sources[0].slug: "!!!" makes an empty slug (use letters or digits)'),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\npath = '.'\n", "{file}: sources[0].path: {folder} is not a file"),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\nurl = 'http://x.test'\nconfig = { since = 2024-01-01 }\n",
         "{file}: sources[0].config.since: a TOML date cannot be stored in a source config (quote it)"),
    ],
)
def test_bad_declarations_name_the_file_and_key(tmp_settings: Settings, text: str, message: str) -> None:
    path = _write(tmp_settings, text)
    with pytest.raises(DataspaceError) as error:
        read_declared_sources(tmp_settings.configs_dir)
    expected = message.format(file=path, folder=path.parent.resolve())
    assert str(error.value).startswith(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sources]]\nname = 'x'\nbackend = 'nope'\nurl = 'http://x.test'\n", '{file}: sources[0]: Unknown backend "nope" (known backends: ckan, csw-dcat, csw-iso-19139, dcat, dkan, factory, ods)'),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\nurl = 'http://x.test'\nschedule = 'daily'\n",
         'invalid {file}: sources[0].schedule "daily": expected a cron expression like "0 0 * * *"'),
        ("[[sources]]\nname = 'x'\nbackend = 'factory'\nurl = 'http://x.test'\nconfig = { features = { zzz = true } }\n",
         '{file}: sources[0].config: Unknown feature key "zzz" for "factory" backend'),
    ],
)
def test_bad_sources_are_refused_and_nothing_is_stored(
    tmp_settings: Settings, plugin_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_settings, text)
    with pytest.raises(DataspaceError) as error:
        sync_declared_sources(tmp_settings)
    assert str(error.value) == message.format(file=path)
    assert Catalog.from_settings(tmp_settings).count("sources") == 0


def test_a_file_that_is_not_utf8_is_named(tmp_settings: Settings) -> None:
    path = _write(tmp_settings, "")
    path.write_bytes(b"[[sources]]\nname = '\xe9'\n")
    with pytest.raises(DataspaceError) as error:
        read_declared_sources(tmp_settings.configs_dir)
    assert str(error.value) == f"{path}: not UTF-8 text (line 2): save it as UTF-8"


def test_one_bad_declaration_stores_none_of_them(tmp_settings: Settings, plugin_path: Path) -> None:
    _write(tmp_settings, DECLARED.replace('validation = "pending"', 'schedule = "daily"'))
    with pytest.raises(DataspaceError, match=r"sources\[1\]\.schedule"):
        sync_declared_sources(tmp_settings)
    assert Catalog.from_settings(tmp_settings).count("sources") == 0


def test_a_changed_validation_is_dated(tmp_settings: Settings, plugin_path: Path) -> None:
    _write(tmp_settings, DECLARED)
    sync_declared_sources(tmp_settings)
    catalog = Catalog.from_settings(tmp_settings)
    try:
        before = catalog.get_source("local-one")
        assert before.validation_state == "pending"
        _write(tmp_settings, DECLARED.replace('validation = "pending"', 'validation = "accepted"'))
        sync_declared_sources(tmp_settings)
        after = catalog.get_source("local-one")
        assert after.validation_state == "accepted"
        assert after.validation_on is not None and after.validation_on != before.validation_on
        sync_declared_sources(tmp_settings)  # nothing changed: the date stays
        assert catalog.get_source("local-one").validation_on == after.validation_on
    finally:
        catalog.close()


@pytest.mark.parametrize(
    "value",
    ["[" * 500 + "]" * 500, "{ a = " * 500 + "1" + " }" * 500, "[" * 40 + "]" * 40],
    ids=["arrays-500", "tables-500", "arrays-40"],
)
def test_deeply_nested_harvest_toml_is_a_clear_error(tmp_settings: Settings, value: str) -> None:
    folder = tmp_settings.configs_dir / "harvest"
    folder.mkdir()
    file = folder / "deep.toml"
    file.write_text(f"[[sources]]\nname = 'Deep'\nbackend = 'factory'\nurl = 'http://d.test/'\n[sources.config]\nx = {value}\n")
    with pytest.raises(DataspaceError) as caught:
        read_declared_sources(tmp_settings.configs_dir)
    message = str(caught.value)
    assert message.startswith(f"{file}: ")
    assert "nested too deeply" in message or "nested deeper than 32 levels" in message
