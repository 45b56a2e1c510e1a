"""Backends are plugins: built-ins plus the entry-point group `dataspace.harvest.backends`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest.backends import get_backend, list_backends
from dataspace_tests.harvest.conftest import install_plugin
from dataspace_tests.harvest.factory_backend import FactoryBackend


def test_entry_point_backend_is_found(plugin_path: Path) -> None:
    assert get_backend("factory") is FactoryBackend
    entries = {e.name: e for e in list_backends()}
    assert entries["factory"].ok
    assert entries["factory"].origin == "dataspace_factory_plugin"
    assert entries["factory"].display_name == "Factory"
    assert {"dcat", "csw-dcat"} <= set(entries)


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(DataspaceError, match='^Unknown backend "nope"$'):
        get_backend("nope")


def test_broken_plugin_is_listed_ko_without_hiding_others(tmp_path: Path, plugin_path: Path) -> None:
    root = install_plugin(tmp_path, "broken_plugin", "broken = no_such_module_here:Backend\n")
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        entries = {e.name: e for e in list_backends()}
        assert not entries["broken"].ok
        assert "No module named 'no_such_module_here'" in entries["broken"].error
        assert entries["factory"].ok
        with pytest.raises(DataspaceError, match='^Backend "broken" failed to load from no_such_module_here:Backend'):
            get_backend("broken")
    finally:
        sys.path.remove(str(root))


def test_a_plugin_that_is_not_a_backend_is_refused(tmp_path: Path) -> None:
    root = install_plugin(tmp_path, "odd_plugin", "odd = dataspace_tests.harvest.factory_backend:ItemRef\n")
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        with pytest.raises(DataspaceError, match="is not a BaseBackend subclass"):
            get_backend("odd")
    finally:
        sys.path.remove(str(root))


def test_a_plugin_cannot_shadow_a_builtin(tmp_path: Path) -> None:
    from dataspace_assets.harvest.backends.dcat import DcatBackend

    root = install_plugin(tmp_path, "shadow_plugin", "dcat = dataspace_tests.harvest.factory_backend:FactoryBackend\n")
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        assert get_backend("dcat") is DcatBackend
        [entry] = [e for e in list_backends() if e.name == "dcat"]
        assert (entry.origin, entry.backend) == ("builtin", DcatBackend)
    finally:
        sys.path.remove(str(root))
