"""Harvest backends: the built-ins plus plugins of the entry-point group `dataspace.harvest.backends`."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest.backends.base import BaseBackend

ENTRY_POINT_GROUP = "dataspace.harvest.backends"

# Imported lazily so that a broken or missing built-in does not hide the others.
BUILTIN_BACKENDS: dict[str, str] = {
    "dcat": "dataspace_assets.harvest.backends.dcat:DcatBackend",
    "csw-dcat": "dataspace_assets.harvest.backends.csw:CswDcatBackend",
    "csw-iso-19139": "dataspace_assets.harvest.backends.csw_iso:CswIsoBackend",
    "ckan": "dataspace_assets.harvest.backends.ckan:CkanBackend",
    "dkan": "dataspace_assets.harvest.backends.dkan:DkanBackend",
    "ods": "dataspace_assets.harvest.backends.ods:OdsBackend",
}


@dataclass(frozen=True)
class BackendEntry:
    """An installed backend: its name, where it comes from, and its class or why it failed to load."""

    name: str
    target: str
    origin: str  # "builtin" or the distribution name of the plugin
    backend: type[BaseBackend] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the backend could be loaded."""
        return self.backend is not None

    @property
    def display_name(self) -> str:
        """The backend's display name, or its name when it did not load."""
        return (self.backend.display_name or self.name) if self.backend else self.name


def _load(target: str) -> type[BaseBackend]:
    module_name, _, attr = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, BaseBackend)):
        raise TypeError(f"{target} is not a BaseBackend subclass")
    return obj


def _targets() -> list[tuple[str, str, str]]:
    found = [(name, target, "builtin") for name, target in BUILTIN_BACKENDS.items()]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN_BACKENDS:
            continue  # a plugin cannot shadow a built-in
        origin = ep.dist.name if getattr(ep, "dist", None) is not None else "plugin"
        found.append((ep.name, ep.value, origin))
    return found


def list_backends() -> list[BackendEntry]:
    """Every installed backend, loaded or with the reason it did not load."""
    entries: list[BackendEntry] = []
    seen: set[str] = set()
    for name, target, origin in _targets():
        if name in seen:
            continue
        seen.add(name)
        try:
            entries.append(BackendEntry(name, target, origin, _load(target)))
        except Exception as exc:  # a plugin's import error must not break the listing
            entries.append(BackendEntry(name, target, origin, None, f"{type(exc).__name__}: {exc}"))
    return entries


def get_backend(name: str) -> type[BaseBackend]:
    """The backend class registered under this name."""
    # A built-in cannot be shadowed, so it needs no entry-point scan (slow, and done once per chunk).
    targets = [(name, BUILTIN_BACKENDS[name], "builtin")] if name in BUILTIN_BACKENDS else _targets()
    for backend_name, target, _origin in targets:
        if backend_name == name:
            try:
                return _load(target)
            except Exception as exc:
                raise DataspaceError(f'Backend "{name}" failed to load from {target}: {exc}') from exc
    raise DataspaceError(f'Unknown backend "{name}"')


__all__ = ["BUILTIN_BACKENDS", "ENTRY_POINT_GROUP", "BackendEntry", "get_backend", "list_backends"]
