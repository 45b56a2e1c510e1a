"""Local registries of published twins, so a workflow's dependency ports can be checked offline."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dataspace_assets.deltatwin.files import load_json
from dataspace_assets.deltatwin.manifest import MANIFEST_FILE, Dependency, Manifest, check_manifest
from dataspace_assets.deltatwin.problems import Problems


class FolderRegistry:
    """Published twins laid out as `<root>/<id>/<version>/manifest.json`, the layout delta-core stores them in."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = tuple(Path(root) for root in roots)
        self._cache: dict[tuple[str, str], Manifest | None] = {}

    def __call__(self, dependency: Dependency) -> Manifest | None:
        """The dependency's manifest when a root holds a valid one, else None."""
        key = (dependency.id, dependency.version)
        if key not in self._cache:
            self._cache[key] = self._find(dependency)
        return self._cache[key]

    def _find(self, dependency: Dependency) -> Manifest | None:
        if not all(_safe_segment(part) for part in (dependency.id, dependency.version)):
            return None  # an id such as "../x" must not reach outside the registry
        for root in self.roots:
            path = root / dependency.id / dependency.version / MANIFEST_FILE
            if not path.is_file():
                continue
            # a published manifest is checked like any other; a broken one is treated as not found
            ok, data = load_json(path, Problems(str(path)))
            if not ok:
                return None
            result = check_manifest(data, file=str(path))
            return result.manifest if result.ok else None
        return None


def _safe_segment(text: str) -> bool:
    return bool(text) and text not in (".", "..") and "/" not in text and "\\" not in text and "\0" not in text


def dependency_cycles(manifest: Manifest, resolve) -> dict[str, str]:
    """{dependency key: "a==1 -> b==2 -> a==1"} for each dependency whose published twins lead back to one of them.

    delta-core nests a new orchestrator per dependency node without a check, so such a run never ends.
    """
    found: dict[str, str] = {}

    def walk(current: Manifest, path: tuple[tuple[str, str], ...]) -> str | None:
        for dependency in current.dependencies.values():
            pair = (dependency.id, dependency.version)
            if pair in path:
                return " -> ".join(f"{i}=={v}" for i, v in (*path, pair))
            nested = resolve(dependency)
            if nested is not None:
                loop = walk(nested, (*path, pair))
                if loop:
                    return loop
        return None

    for key, dependency in manifest.dependencies.items():
        nested = resolve(dependency)
        if nested is None:
            continue
        loop = walk(nested, ((dependency.id, dependency.version),))
        if loop:
            found[key] = loop
    return found
