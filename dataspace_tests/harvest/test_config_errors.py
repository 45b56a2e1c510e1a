"""Every validated key of a harvest source, fed a bad value: the message names the file (or `--config`) and the key.

One case per (backend, key, bad value): wrong types, out-of-range numbers, unknown keys, missing required keys,
through a `configs/harvest/*.toml` declaration (`dataspace config validate`, the sensor's sync) and through
`dataspace harvest create --config JSON`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataspace_assets.cli import main
from dataspace_assets.harvest.sources_config import check_declared_sources

BASE = {"name": "'S'", "backend": "'dcat'", "url": "'http://h.test/c.ttl'"}

# (TOML change of the [[sources]] entry, the key the message must name)
ENTRY_CASES = [
    *[(f"{key} = 1", key) for key in ("name", "slug", "backend", "url", "path", "description", "frequency",
                                       "schedule", "organization", "owner", "validation")],
    ("active = 'yes'", "active"), ("autoarchive = 'yes'", "autoarchive"), ("config = 'x'", "config"),
    ("nme = 'S'", "nme"),  # an unknown key
    ("-name", "name"), ("-backend", "backend"), ("-url", "url"),  # a missing required key
    ("frequency = 'hourly'", "frequency"), ("schedule = '61 * * * *'", "schedule"), ("validation = 'maybe'", "validation"),
    ("slug = '!!!'", "slug"), ("url = 'ftp://h.test/'", "url"), ("url = 'http://[::1'", "url"),
    ("url = 'http://h.test:99999/'", "url"), ("path = 'missing.ttl'", "path"), ("backend = 'nope'", "backend"),
    ("name = '" + "x" * 300 + "'", "name"),
]

HTTP_CASES = [("timeout", "0"), ("timeout", "'x'"), ("timeout", "1e12"), ("retries", "-1"), ("retries", "100"),
              ("retries", "1.5"), ("retry_backoff", "-1"), ("max_bytes", "0"), ("max_bytes", "99999999999999"),
              ("allow_private_addresses", "1"), ("allow_local_files", "'y'")]
COMMON_CASES = [("filters", "'x'"), ("filters", "[{key = [1], value = 1}]"), ("filters", "[{value = 1}]"),
                ("features", "'x'"), ("features", "{nope = true}"), ("extra_configs", "[{key = 'nope', value = 1}]"),
                ("when", "1979-05-27"), ("ratio", "nan")]
DCAT_CASES = [("deadline", "0"), ("max_pages", "0"), ("max_triples", "0"), ("default_language", "1"),
              ("hvd_support", "'x'"), ("inspire_support", "1"), ("jsonld_contexts", "1")]
API_CASES = [("concurrency", "0"), ("concurrency", "33"), ("concurrency", "'4'")]
CONFIG_CASES = [
    *[(backend, key, bad) for backend in ("dcat", "csw-dcat") for key, bad in HTTP_CASES + COMMON_CASES + DCAT_CASES],
    *[(backend, key, bad) for backend in ("ckan", "dkan", "ods", "csw-iso-19139") for key, bad in HTTP_CASES + API_CASES],
    *[(backend, "apikey", bad) for backend in ("ckan", "dkan") for bad in ("''", "{name = 'X'}", "1")],
    ("ckan", "filters", "[{key = 'nope', value = 'x'}]"), ("ods", "features", "{nope = true}"),
    ("csw-iso-19139", "max_pages", "0"), ("csw-iso-19139", "extra_configs", "[{key = 'nope', value = 1}]"),
    # a typo of a known key is refused by every built-in backend, not silently ignored
    *[(backend, "timout", "30") for backend in ("dcat", "csw-dcat", "ckan", "dkan", "ods", "csw-iso-19139")],
    ("ods", "apikey", "'k'"),  # CKAN's key means nothing to an OpenDataSoft portal
]


def _declare(configs: Path, fields: dict[str, str], config: dict[str, str]) -> Path:
    folder = configs / "harvest"
    folder.mkdir(parents=True)
    text = "[[sources]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
    if config:
        text += "[sources.config]\n" + "".join(f"{k} = {v}\n" for k, v in config.items())
    file = folder / "portal.toml"
    file.write_text(text)
    return file


def _offending(key: str, bad: str) -> str:
    """The key a message must name: an unknown filter, feature or extra config is named by its own key."""
    return "nope" if "nope" in bad else key


def _assert_names(problems: list[str], file: Path, key: str) -> None:
    assert problems, "the bad value was accepted"
    for problem in problems:
        assert str(file) in problem and key in problem, problem
        assert "Traceback" not in problem


@pytest.mark.parametrize(("change", "key"), ENTRY_CASES, ids=[c[0][:40] for c in ENTRY_CASES])
def test_a_bad_entry_key_names_the_file_and_the_key(tmp_path: Path, change: str, key: str) -> None:
    fields = dict(BASE)
    if change.startswith("-"):
        fields.pop(change[1:])
    else:
        name, value = change.split(" = ", 1)
        fields[name] = value
        if name == "path":
            fields.pop("url")
    file = _declare(tmp_path, fields, {})
    _assert_names(check_declared_sources(tmp_path), file, key)


@pytest.mark.parametrize(("backend", "key", "bad"), CONFIG_CASES, ids=[f"{b}-{k}-{v}"[:50] for b, k, v in CONFIG_CASES])
def test_a_bad_config_key_names_the_file_and_the_key(tmp_path: Path, backend: str, key: str, bad: str) -> None:
    file = _declare(tmp_path, {**BASE, "backend": f"'{backend}'"}, {key: bad})
    problems = check_declared_sources(tmp_path)
    _assert_names(problems, file, _offending(key, bad))
    assert all("sources[0].config" in p for p in problems), problems


JSON_CASES = [(b, k, v) for b, k, v in CONFIG_CASES if not v.startswith(("1979", "nan"))]


@pytest.mark.parametrize(("backend", "key", "bad"), JSON_CASES, ids=[f"{b}-{k}-{v}"[:50] for b, k, v in JSON_CASES])
def test_a_bad_config_option_names_config_and_the_key(
    tmp_settings, plugin_path, capsys: pytest.CaptureFixture, backend: str, key: str, bad: str
) -> None:
    import tomllib

    value = tomllib.loads(f"v = {bad}")["v"]  # the same bad value, as JSON
    code = main(["harvest", "create", backend, "http://h.test/c.ttl", "S", "--config", json.dumps({key: value})])
    err = capsys.readouterr().err
    assert code != 0
    assert "--config" in err and _offending(key, bad) in err and "Traceback" not in err, err


def test_a_plugin_backend_reads_free_form_keys() -> None:
    from dataspace_tests.harvest.factory_backend import FactoryBackend

    # no declared `config_keys`: the keys are the plugin's own business
    assert FactoryBackend.validate_config({"anything": 1, "count": 2}) == []
