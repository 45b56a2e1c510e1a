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

import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dataspace_assets.deltatwin.fetch import FetchOptions
from dataspace_assets.deltatwin.files import read_text
from dataspace_assets.deltatwin.manifest import DataRef, Manifest
from dataspace_assets.deltatwin.problems import Problem, Problems, describe, quote
from dataspace_assets.deltatwin.render import ARGV_MODE, MODES
from dataspace_assets.errors import DataspaceError
from dataspace_assets.net.http import OPTION_BOUNDS

BINDINGS_FILE = "bindings.toml"
DATASPACE_PREFIX = "dataspace"
TABLES = ("run", "fetch", "inputs")
RUN_KEYS = ("mode", "registry")
# (type, lower bound, upper bound): the shared HTTP bounds, but a twin's Data may be a whole satellite
# product, so its size cap goes beyond a catalogue page's. The lower bound is excluded for _POSITIVE keys.
_FETCH_BOUNDS: dict[str, tuple[type | tuple[type, ...], float, float]] = {
    "timeout": OPTION_BOUNDS["timeout"],
    "retries": OPTION_BOUNDS["retries"],
    "max_bytes": (int, 0, 64 * 1024**3),
}
_POSITIVE = frozenset({"timeout", "max_bytes"})
FETCH_KEYS = ("allow_private_addresses", *_FETCH_BOUNDS)


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
    """Read `folder/bindings.toml` (absent: the defaults); any error fails naming the file and every key."""
    settings, problems = check_twin_settings(folder, extra_registries=extra_registries)
    if settings is None:
        lines = "\n".join(f"  {replace(p, file=str(folder / p.file)).render()}" for p in problems if p.severity == "error")
        raise DataspaceError(f"{folder / BINDINGS_FILE}: the twin's settings are not valid:\n{lines}")
    return settings


def check_twin_settings(
    folder: Path, *, manifest: Manifest | None = None, extra_registries: tuple[Path, ...] = ()
) -> tuple[TwinSettings | None, tuple[Problem, ...]]:
    """`folder/bindings.toml` read into settings, or None with its problems (each with its key path).

    With the manifest, each bound input must be a declared Data input.
    """
    out = Problems(BINDINGS_FILE)
    path = folder / BINDINGS_FILE
    if not os.path.lexists(path):
        return TwinSettings(registries=extra_registries), ()
    text = read_text(path, out)  # a folder, a FIFO, a huge or non-UTF-8 file is a problem, never a hang
    if text is None:
        return None, tuple(out)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.error((), "toml-syntax", f"invalid TOML: {exc}")
        return None, tuple(out)
    except RecursionError:
        out.error((), "toml-syntax", "invalid TOML: nested too deeply")
        return None, tuple(out)
    for key in data:
        if key not in TABLES:
            out.error((key,), "unknown-key", "unknown table (expected [run], [fetch], [inputs.<name>])")
    run, fetch, inputs = (_table(data, key, out) for key in TABLES)
    mode = _mode(run, out)
    registries = _registries(run, folder, out)
    options = _fetch(fetch, out)
    bindings = _bindings(inputs, manifest, out)
    if out.has_errors:
        return None, tuple(out)
    return TwinSettings(mode, registries + extra_registries, options, bindings), tuple(out)


def with_bound_defaults(manifest: Manifest, bindings: dict[str, AssetBinding]) -> Manifest:
    """The manifest as a run's inputs are checked against it: an input fed by a data-space asset needs no value."""
    inputs = {
        name: replace(declared, default=DataRef(f"{DATASPACE_PREFIX}/{bindings[name].store_name}"))
        if name in bindings
        else declared
        for name, declared in manifest.inputs.items()
    }
    return replace(manifest, inputs=inputs)


def bound_assets(bindings: dict[str, AssetBinding]) -> dict[str, str]:
    """{input: "dataspace/<name>"} of the inputs a data-space asset feeds."""
    return {name: "/".join(binding.asset_key) for name, binding in bindings.items()}


def _table(data: dict, key: str, out: Problems) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        out.error((key,), "wrong-type", f"expected a table [{key}], got {describe(value)}")
        return {}
    return value


def _mode(run: dict[str, Any], out: Problems) -> str:
    for key in run:
        if key not in RUN_KEYS:
            out.error(("run", key), "unknown-key", f"unknown key (expected {', '.join(RUN_KEYS)})")
    mode = run.get("mode", ARGV_MODE)
    if mode not in MODES:
        out.error(("run", "mode"), "bad-value", f"{describe(mode)} is not one of {', '.join(MODES)}")
        return ARGV_MODE
    return mode


def _registries(run: dict[str, Any], folder: Path, out: Problems) -> tuple[Path, ...]:
    registry = run.get("registry", [])
    if isinstance(registry, str):
        registry = [registry]
    if not isinstance(registry, list) or not all(isinstance(r, str) and r for r in registry):
        out.error(("run", "registry"), "wrong-type", f"expected a list of folder paths, got {describe(registry)}")
        return ()
    return tuple((folder / r).resolve() for r in registry)


def _fetch(table: dict[str, Any], out: Problems) -> FetchOptions:
    good: dict[str, Any] = {}
    for key, value in table.items():
        path = ("fetch", key)
        if key == "allow_private_addresses":
            if isinstance(value, bool):
                good[key] = value
            else:
                out.error(path, "wrong-type", f"expected true or false, got {describe(value)}")
        elif key in _FETCH_BOUNDS:
            problem = _bound_problem(key, value)
            if problem is None:
                good[key] = value
            else:
                out.error(path, *problem)
        else:
            out.error(path, "unknown-key", f"unknown key (expected {', '.join(FETCH_KEYS)})")
    return FetchOptions(**good)


def _bound_problem(key: str, value: Any) -> tuple[str, str] | None:
    """(code, message) when a fetch number is of the wrong type or outside its bounds, else None."""
    kind, low, high = _FETCH_BOUNDS[key]
    wanted = "an integer" if kind is int else "a number"
    if isinstance(value, bool) or not isinstance(value, kind):
        return "wrong-type", f"expected {wanted}, got {describe(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return "out-of-range", f"expected a finite number, got {describe(value)}"
    if key in _POSITIVE and not low < value <= high:
        return "out-of-range", f"expected {wanted} above {_num(low)} and at most {_num(high)}, got {describe(value)}"
    if not low <= value <= high:
        return "out-of-range", f"expected {wanted} from {_num(low)} to {_num(high)}, got {describe(value)}"
    return None


def _num(bound: float) -> str:
    """A bound as people write it: 68719476736, 600, 0.5."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _bindings(table: dict[str, Any], manifest: Manifest | None, out: Problems) -> dict[str, AssetBinding]:
    found = {}
    for name, body in table.items():
        path = ("inputs", name)
        if not isinstance(body, dict):
            out.error(path, "wrong-type", f'expected a table {{ asset = "{DATASPACE_PREFIX}/<name>" }}, got {describe(body)}')
            continue
        for key in body:
            if key != "asset":
                out.error((*path, key), "unknown-key", "unknown key (expected asset)")
        asset = body.get("asset")
        if asset is None:
            out.error((*path, "asset"), "missing-key", f'missing required key: the data-space asset "{DATASPACE_PREFIX}/<name>"')
            continue
        parts = tuple(asset.split("/")) if isinstance(asset, str) else ()
        if len(parts) != 2 or parts[0] != DATASPACE_PREFIX or not parts[1]:
            out.error((*path, "asset"), "bad-value", f"{describe(asset)} is not a data-space asset key {DATASPACE_PREFIX}/<name>")
            continue
        if manifest is not None and not _bindable(name, manifest, path, out):
            continue
        found[name] = AssetBinding(name, parts)
    return found


def _bindable(name: str, manifest: Manifest, path: tuple[str, str], out: Problems) -> bool:
    """Only a declared Data input can receive a stored item."""
    declared = manifest.inputs.get(name)
    if declared is None:
        known = ", ".join(manifest.inputs) or "none"
        out.error(path, "undeclared-input", f"the manifest declares no input {quote(name)} (inputs: {known})")
        return False
    if declared.type != "Data":
        out.error(path, "binding-type", f"only a Data input can receive a stored item (it is {declared.type})")
        return False
    return True
