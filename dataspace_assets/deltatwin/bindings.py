"""`bindings.toml` beside a twin's manifest: how this deployment runs the twin (our extension, not delta-core's).

```toml
[run]
mode = "argv"                # "argv" (default: no shell) or "bash" (delta-core's `bash -c`, faithful)
registry = ["../registry"]   # folders of whole published twins <id>/<version>/ for dependency nodes

[fetch]                      # how Data inputs and resources are downloaded
allow_private_addresses = false
timeout = 30
max_bytes = 1073741824

[inputs.readings]            # this twin input receives the latest item a data-space asset stored
asset = "dataspace/example_air_quality"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataspace_assets.deltatwin.fetch import FetchOptions
from dataspace_assets.deltatwin.render import ARGV_MODE, MODES
from dataspace_assets.errors import DataspaceError

BINDINGS_FILE = "bindings.toml"
DATASPACE_PREFIX = "dataspace"
_FETCH_KEYS = {"allow_private_addresses": bool, "timeout": (int, float), "max_bytes": int, "retries": int}


@dataclass(frozen=True)
class AssetBinding:
    """A twin input fed by a data-space asset: its key `dataspace/<name>` and the stored name read from the store."""

    input: str
    asset_key: tuple[str, ...]

    @property
    def store_name(self) -> str:
        return self.asset_key[-1]


@dataclass(frozen=True)
class TwinSettings:
    """A twin's run settings: the command mode, dependency registries, fetch options and asset bindings."""

    mode: str = ARGV_MODE
    registries: tuple[Path, ...] = ()
    fetch: FetchOptions = field(default_factory=FetchOptions)
    bindings: dict[str, AssetBinding] = field(default_factory=dict)


def load_twin_settings(folder: Path, *, extra_registries: tuple[Path, ...] = ()) -> TwinSettings:
    """Read `folder/bindings.toml` (absent: the defaults); every problem names the file and key."""
    path = folder / BINDINGS_FILE
    if not path.is_file():
        return TwinSettings(registries=extra_registries)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataspaceError(f"{path}: cannot read: {exc}") from exc
    for key in data:
        if key not in ("run", "fetch", "inputs"):
            raise DataspaceError(f"{path}: unknown table [{key}] (expected [run], [fetch], [inputs.<name>])")
    run = _table(data, "run", path)
    mode = run.get("mode", ARGV_MODE)
    if mode not in MODES:
        raise DataspaceError(f"{path}: run.mode: {mode!r} is not one of {', '.join(MODES)}")
    for key in run:
        if key not in ("mode", "registry"):
            raise DataspaceError(f"{path}: run.{key}: unknown key (expected mode, registry)")
    registry = run.get("registry", [])
    if isinstance(registry, str):
        registry = [registry]
    if not isinstance(registry, list) or not all(isinstance(r, str) for r in registry):
        raise DataspaceError(f"{path}: run.registry: expected a list of folder paths")
    return TwinSettings(
        mode=mode,
        registries=tuple((folder / r).resolve() for r in registry) + extra_registries,
        fetch=_fetch(_table(data, "fetch", path), path),
        bindings=_bindings(_table(data, "inputs", path), path),
    )


def _table(data: dict, key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise DataspaceError(f"{path}: {key}: expected a table")
    return value


def _fetch(table: dict[str, Any], path: Path) -> FetchOptions:
    for key, value in table.items():
        expected = _FETCH_KEYS.get(key)
        if expected is None:
            raise DataspaceError(f"{path}: fetch.{key}: unknown key (expected {', '.join(_FETCH_KEYS)})")
        if isinstance(value, bool) is not (expected is bool) or not isinstance(value, expected):
            raise DataspaceError(f"{path}: fetch.{key}: wrong type {type(value).__name__}")
    return FetchOptions(**table)


def _bindings(table: dict[str, Any], path: Path) -> dict[str, AssetBinding]:
    found = {}
    for name, body in table.items():
        if not isinstance(body, dict) or set(body) != {"asset"} or not isinstance(body["asset"], str):
            raise DataspaceError(f'{path}: inputs.{name}: expected {{ asset = "{DATASPACE_PREFIX}/<name>" }}')
        parts = tuple(body["asset"].split("/"))
        if len(parts) != 2 or parts[0] != DATASPACE_PREFIX or not parts[1]:
            raise DataspaceError(
                f"{path}: inputs.{name}.asset: {body['asset']!r} is not a data-space asset key {DATASPACE_PREFIX}/<name>"
            )
        found[name] = AssetBinding(name, parts)
    return found
