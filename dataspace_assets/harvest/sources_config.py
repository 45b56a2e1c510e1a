"""Harvest sources declared in `configs/harvest/*.toml`, synced into the catalogue and the Dagster partitions.

Declaring a source in the deployment's configs is the administrator's act, so declared sources are
accepted unless the file says `validation = "pending"` or `"refused"`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataspace_assets.errors import DataspaceError

if TYPE_CHECKING:
    import dagster as dg

    from dataspace_assets.harvest.catalog import Catalog
    from dataspace_assets.settings import Settings

PARTITIONS_NAME = "harvest_sources"

_KEYS = {
    "name": str,
    "slug": str,
    "backend": str,
    "url": str,
    "path": str,
    "description": str,
    "frequency": str,
    "schedule": str,
    "active": bool,
    "autoarchive": bool,
    "organization": str,
    "owner": str,
    "validation": str,
    "config": dict,
}


@dataclass
class DeclaredSource:
    """One `[[sources]]` entry of a harvest config file."""

    file: Path
    index: int
    name: str
    backend: str
    url: str
    slug: str
    fields: dict = field(default_factory=dict)

    @property
    def where(self) -> str:
        """File and key, for error messages."""
        return f"{self.file}: sources[{self.index}]"


MAX_CONFIG_DEPTH = 32  # a backend config is a few levels deep; deeper is a mistake


def _check_json(value: Any, where: str) -> None:
    """A source config is stored as JSON: TOML dates and times have no JSON form; nesting is bounded."""
    stack = [(value, where, 1)]
    while stack:  # iterative: a deeply nested value must not exhaust the stack
        item, path, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_CONFIG_DEPTH:
                raise DataspaceError(f"{path}: nested deeper than {MAX_CONFIG_DEPTH} levels")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                stack.append((child, f"{path}.{key}" if isinstance(item, dict) else f"{path}[{key}]", depth + 1))
        elif not isinstance(item, (str, int, float, bool)):
            raise DataspaceError(f"{path}: a TOML {type(item).__name__} cannot be stored in a source config (quote it)")


def _parse_entry(file: Path, index: int, entry: Any) -> DeclaredSource:
    where = f"{file}: sources[{index}]"
    if not isinstance(entry, dict):
        raise DataspaceError(f"{where} must be a table")
    for key, value in entry.items():
        if key not in _KEYS:
            raise DataspaceError(f'{where}.{key}: unknown key (expected one of {", ".join(sorted(_KEYS))})')
        if not isinstance(value, _KEYS[key]):
            raise DataspaceError(f"{where}.{key}: expected a {_KEYS[key].__name__}")
    for key in ("name", "backend"):
        if not entry.get(key):
            raise DataspaceError(f"{where}.{key} is required")
    config = dict(entry.get("config") or {})
    _check_json(config, f"{where}.config")
    if "path" in entry and "url" in entry:
        raise DataspaceError(f"{where}: give either url or path, not both")
    if "path" in entry:
        # A local catalogue next to the config: declaring it allows reading local files.
        try:
            target = (file.parent / entry["path"]).resolve()
            exists = target.exists()
        except (OSError, ValueError) as exc:  # a NUL byte, a name beyond the file-name limit ...
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DataspaceError(f"{where}.path: unusable path ({reason})") from None
        if not exists:
            raise DataspaceError(f"{where}.path: {target} does not exist")
        if not target.is_file():
            raise DataspaceError(f"{where}.path: {target} is not a file")
        url = target.as_uri()
        config.setdefault("allow_local_files", True)
    elif entry.get("url"):
        url = entry["url"]
    else:
        raise DataspaceError(f"{where}.url (or path) is required")
    validation = entry.get("validation", "accepted")
    if validation not in ("pending", "accepted", "refused"):
        raise DataspaceError(f'{where}.validation: unknown state "{validation}" (pending, accepted or refused)')
    from dataspace_assets.harvest.slugs import slugify

    slug = slugify(entry.get("slug") or entry["name"])
    if not slug:
        # Declared sources are matched by slug: an empty one would create a new source on every sync.
        key = "slug" if entry.get("slug") else "name"
        raise DataspaceError(f'{where}.{key}: "{entry[key]}" makes an empty slug (use letters or digits)')
    fields_ = {
        "description": entry.get("description", ""),
        "frequency": entry.get("frequency", "manual"),
        "schedule": entry.get("schedule"),
        "active": entry.get("active", True),
        "autoarchive": entry.get("autoarchive", True),
        "organization": entry.get("organization"),
        "owner": entry.get("owner"),
        "validation_state": validation,
        "config": config,
    }
    return DeclaredSource(file=file, index=index, name=entry["name"], backend=entry["backend"], url=url, slug=slug, fields=fields_)


def read_declared_sources(configs_dir: Path) -> list[DeclaredSource]:
    """Every source declared under `configs/harvest/`, checked; a bad file is a clear error."""
    folder = Path(configs_dir) / "harvest"
    declared: list[DeclaredSource] = []
    if not folder.is_dir():
        return declared
    for file in sorted(folder.glob("*.toml")):
        if not file.is_file():  # a FIFO or a device named *.toml would block or never end
            raise DataspaceError(f"{file}: not a regular file: not read")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DataspaceError(f"{file}: invalid TOML: {exc}") from exc
        except RecursionError:
            raise DataspaceError(f"{file}: arrays or tables nested too deeply") from None
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise DataspaceError(f"{file}: not UTF-8 text (line {line}): save it as UTF-8") from exc
        except OSError as exc:
            raise DataspaceError(f"{file}: cannot read the file ({exc.strerror})") from exc
        unknown = set(data) - {"sources"}
        if unknown:
            raise DataspaceError(f"{file}: unknown top-level key(s) {', '.join(sorted(unknown))} (expected [[sources]])")
        entries = data.get("sources", [])
        if not isinstance(entries, list):
            raise DataspaceError(f"{file}: sources must be an array of tables ([[sources]])")
        for index, entry in enumerate(entries):
            declared.append(_parse_entry(file, index, entry))
    seen: dict[str, DeclaredSource] = {}
    for source in declared:
        if source.slug in seen:
            raise DataspaceError(f'{source.where}: slug "{source.slug}" already declared in {seen[source.slug].where}')
        seen[source.slug] = source
    return declared


def _checked_fields(entry: DeclaredSource) -> tuple[dict, str | None]:
    """The declaration's config and schedule as the catalogue stores them; a clear error naming the entry's key."""
    from dataspace_assets.harvest import actions

    config = actions.check_source_fields(
        backend=entry.backend,
        url=entry.url,
        name=entry.name,
        config=entry.fields["config"],
        frequency=entry.fields["frequency"],
        where=entry.where,
        config_where=f"{entry.where}.config",
    )
    schedule = entry.fields["schedule"]
    return config, (actions.check_cron(schedule, where=f"{entry.where}.schedule") if schedule else schedule)


def sync_into_catalog(catalog: "Catalog", declared: list[DeclaredSource]) -> list[str]:
    """Create or update the declared sources (matched by slug); soft-delete those no longer declared."""
    from dataspace_assets.harvest import actions
    from dataspace_assets.harvest.catalog import source_domain, utcnow

    # Every declaration is checked before anything is written: one bad entry changes nothing.
    checked = [(entry, *_checked_fields(entry)) for entry in declared]
    ids: list[str] = []
    for entry, config, schedule in checked:
        existing = catalog.get_source(entry.slug, include_deleted=True)
        if existing is None:
            source = actions.create_source(
                catalog,
                backend=entry.backend,
                url=entry.url,
                name=entry.name,
                slug=entry.slug,
                declared_in=str(entry.file),
                **{**entry.fields, "config": config, "schedule": schedule},
            )
        else:
            values = {
                **entry.fields,
                "config": config,
                "schedule": schedule,
                "name": entry.name,
                "slug": entry.slug,
                "url": entry.url,
                "domain": source_domain(entry.url),
                "backend": entry.backend,
                "declared_in": str(entry.file),
                "deleted": None,
            }
            # Only what changed is written: the sensor syncs on every tick.
            changes = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if "validation_state" in changes:
                changes["validation_on"] = utcnow()
            source = catalog.update_source(existing.id, **changes) if changes else existing
        ids.append(source.id)
    wanted = set(ids)
    for source in catalog.list_sources():
        if source.declared_in and source.id not in wanted:
            catalog.update_source(source.id, deleted=utcnow())
    return ids


def add_partitions(instance: "dg.DagsterInstance", keys: list[str]) -> list[str]:
    """Add the partitions of `catalog/harvest` (source slugs) that are missing; return the added keys."""
    import sqlalchemy as sa

    missing = [key for key in dict.fromkeys(keys) if not instance.has_dynamic_partition(PARTITIONS_NAME, key)]
    if missing:
        try:
            instance.add_dynamic_partitions(PARTITIONS_NAME, missing)
        except sa.exc.IntegrityError:
            # Another process (a second `harvest run`, the sensor) added some of them at the same moment.
            for key in missing:
                if not instance.has_dynamic_partition(PARTITIONS_NAME, key):
                    try:
                        instance.add_dynamic_partitions(PARTITIONS_NAME, [key])
                    except sa.exc.IntegrityError:
                        pass  # added by the other process in between: it exists, which is all we need
    return missing


def runnable_source_keys(catalog: "Catalog") -> list[str]:
    """Slugs of the sources that may run: accepted and not deleted (the partitions of `catalog/harvest`)."""
    return [s.slug for s in catalog.list_sources() if s.validation_state == "accepted"]


def partition_changes(catalog: "Catalog", existing: set[str]) -> tuple[list[str], list[str]]:
    """(keys to add, keys to delete) so that the partitions are exactly the runnable sources' slugs.

    Instances made before partitions were keyed by slug hold source ids (32 hex digits): those keys
    are deleted and the slugs added, so an existing instance migrates on its first sync.
    """
    wanted = runnable_source_keys(catalog)
    return [k for k in wanted if k not in existing], sorted(existing - set(wanted))


def sync_partitions(instance: "dg.DagsterInstance", catalog: "Catalog") -> tuple[list[str], list[str]]:
    """Make the partitions of `catalog/harvest` the accepted, live sources; return (added, deleted)."""
    added, deleted = partition_changes(catalog, set(instance.get_dynamic_partitions(PARTITIONS_NAME)))
    if added:
        instance.add_dynamic_partitions(PARTITIONS_NAME, added)
    for key in deleted:
        instance.delete_dynamic_partition(PARTITIONS_NAME, key)
    return added, deleted


def sync_declared_sources(settings: "Settings", instance: "dg.DagsterInstance | None" = None) -> list[str]:
    """Sync `configs/harvest/*.toml` into the catalogue and the accepted sources into the partitions; return declared ids."""
    from dataspace_assets.harvest.catalog import Catalog

    declared = read_declared_sources(settings.configs_dir)
    catalog = Catalog.from_settings(settings)
    try:
        ids = sync_into_catalog(catalog, declared)
        if instance is not None:
            sync_partitions(instance, catalog)
    finally:
        catalog.close()
    return ids


def check_declared_sources(configs_dir: Path) -> list[str]:
    """Every problem of the harvest sources declared in configs/, as sync would find them; touches no database."""
    try:
        declared = read_declared_sources(configs_dir)
    except DataspaceError as exc:
        return [str(exc)]
    except RecursionError:
        return [f"{Path(configs_dir) / 'harvest'}: a TOML file nests arrays or tables too deeply"]
    problems: list[str] = []
    for entry in declared:
        try:
            _checked_fields(entry)
        except DataspaceError as exc:
            problems.append(str(exc))
    return problems
