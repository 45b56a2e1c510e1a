"""A source URL is checked at `create` the way the HTTP client will connect, so a trick never reaches the catalogue."""

from __future__ import annotations

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import actions
from dataspace_assets.harvest.catalog import Catalog


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8080\\@example.com/x.ttl", "the URL contains a backslash"),
        ("http://127.0.0.1:8080@example.com/x.ttl", "user info (user:password@) in the URL is refused"),
        ("http://example.com/a b.ttl", "the URL contains a space"),
        ("http://example.com/\x00.ttl", "the URL contains a NUL character"),
        ("http://example.com:70000/x.ttl", "the URL cannot be parsed (Port out of range 0-65535)"),
        ("http://[::1/x.ttl", "the URL cannot be parsed (Invalid IPv6 URL)"),
        ("http://2130706433/x.ttl", "the host '2130706433' is a non-standard spelling of an IP address"),
    ],
)
def test_create_refuses_urls_the_client_would_read_differently(catalog: Catalog, url: str, problem: str) -> None:
    with pytest.raises(DataspaceError) as info:
        actions.create_source(catalog, backend="factory", url=url, name="Portal")
    assert str(info.value) == f'harvest source: invalid url "{url}": {problem}'
    assert catalog.count("sources") == 0


def test_the_cli_says_why(tmp_settings, plugin_path, capsys: pytest.CaptureFixture) -> None:
    from dataspace_assets.cli import main

    url = "http://127.0.0.1:8080\\@example.com/x.ttl"
    assert main(["harvest", "create", "factory", url, "Portal"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f'error: harvest source: invalid url "{url}": the URL contains a backslash'
