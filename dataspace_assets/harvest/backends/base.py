"""The base class every harvest backend extends: list the remote, then map each record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from dataspace_assets import __version__
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

if TYPE_CHECKING:  # both live in the DCAT helper's modules, imported lazily at run time
    from dataspace_assets.harvest.http import HarvestHttp
    from dataspace_assets.harvest.licenses import LicenseRegistry


class HarvestException(Exception):
    """A job-level failure: the remote could not be listed or read."""


class HarvestSkipException(Exception):
    """The record is deliberately not harvested; its item is marked skipped."""


class HarvestValidationError(Exception):
    """The record is invalid; its item fails with this message and no traceback."""


@dataclass(frozen=True)
class HarvestFilter:
    """A filter a backend accepts in `config["filters"]`."""

    label: str
    key: str
    type: type
    description: str = ""


@dataclass(frozen=True)
class HarvestFeature:
    """An on/off switch a backend accepts in `config["features"]`."""

    key: str
    label: str
    description: str = ""
    default: bool = False


@dataclass(frozen=True)
class HarvestExtraConfig:
    """A free setting a backend accepts in `config["extra_configs"]`."""

    label: str
    key: str
    type: type
    description: str = ""


@dataclass(frozen=True)
class SourceInfo:
    """What a backend knows of the source it harvests."""

    id: str
    slug: str
    name: str
    url: str
    backend: str
    domain: str
    config: dict
    organization: str | None = None
    owner: str | None = None


@dataclass
class ItemRef:
    """One remote record found while listing, to be processed later (maybe in another process)."""

    remote_id: str
    kind: str = "dataset"  # or "dataservice"
    kwargs: dict = field(default_factory=dict)  # JSON-serialisable

    def to_json(self) -> dict:
        """A JSON-serialisable form, to hand the item to another process."""
        return {"remote_id": self.remote_id, "kind": self.kind, "kwargs": dict(self.kwargs)}

    @classmethod
    def from_json(cls, data: dict) -> "ItemRef":
        """Rebuild an item from `to_json`."""
        return cls(remote_id=data.get("remote_id"), kind=data.get("kind", "dataset"), kwargs=dict(data.get("kwargs") or {}))


def _type_name(kind: type) -> str:
    return getattr(kind, "__name__", str(kind))


def _has_type(value: Any, kind: type) -> bool:
    """Whether a JSON value fits a declared Python type (UUIDs and dates may be given as strings)."""
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    if kind is bytes:
        return isinstance(value, (bytes, str))
    if isinstance(value, kind):
        return True
    if not isinstance(value, str):
        return False
    try:
        if kind is uuid.UUID:
            uuid.UUID(value)
        elif kind is datetime:
            datetime.fromisoformat(value)
        elif kind is date:
            date.fromisoformat(value)
        else:
            return False
    except ValueError:
        return False
    return True


# The sections every backend's config may have, and the per-domain request limit every prefetch reads.
CONFIG_SECTIONS = frozenset({"filters", "features", "extra_configs", "concurrency"})


class BaseBackend:
    """A harvest backend: `initialize` lists the remote records, `process_*` maps one record each."""

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    filters: ClassVar[list[HarvestFilter]] = []
    features: ClassVar[list[HarvestFeature]] = []
    extra_configs: ClassVar[list[HarvestExtraConfig]] = []
    verify_ssl: ClassVar[bool] = True
    # The top-level config keys a backend reads besides the sections above: any other key is refused as a
    # typo ("timout"). None: free-form keys (a plugin backend that reads what it likes).
    config_keys: ClassVar[frozenset[str] | None] = None

    def __init__(
        self,
        source: SourceInfo,
        *,
        job_data: dict | None = None,
        max_items: int | None = None,
        dry_run: bool = False,
        licenses: "LicenseRegistry | None" = None,
    ) -> None:
        self.source = source
        self.config: dict = dict(source.config or {})
        self.job_data: dict = dict(job_data or {})
        self.items: list[ItemRef] = []
        self.job_errors: list[tuple[str, str | None]] = []
        self.max_items = max_items
        self.dry_run = dry_run
        self._licenses = licenses
        self._http: "HarvestHttp | None" = None
        self._fetched: dict[str, Any] = {}

    # --- shared services, built on first use so a backend without HTTP never needs them
    @property
    def http(self) -> "HarvestHttp":
        """The guarded HTTP client of this source (User-Agent, timeouts, no redirects)."""
        if self._http is None:
            from dataspace_assets.harvest.http import HarvestHttp

            self._http = HarvestHttp.for_source(
                self.source, user_agent=f"dataspace/{__version__} {self.name}", verify=self.verify_ssl
            )
        return self._http

    @http.setter
    def http(self, value: "HarvestHttp") -> None:
        self._http = value

    @property
    def licenses(self) -> "LicenseRegistry":
        """The licence registry used to guess licences (the seeded one by default)."""
        if self._licenses is None:
            from dataspace_assets.harvest.licenses import LicenseRegistry

            self._licenses = LicenseRegistry.default()
        return self._licenses

    @licenses.setter
    def licenses(self, value: "LicenseRegistry") -> None:
        self._licenses = value

    # --- called by backends
    def add_item(self, remote_id: str | None, kind: str = "dataset", **kwargs: Any) -> None:
        """Record one remote record to process; an empty identifier is kept so the engine can skip it."""
        self.items.append(ItemRef(remote_id=remote_id, kind=kind, kwargs=kwargs))  # type: ignore[arg-type]

    def has_reached_max_items(self) -> bool:
        """Whether the listing reached the item cap (skipped and failed items count)."""
        return self.max_items is not None and len(self.items) >= self.max_items

    def add_job_error(self, message: str, details: str | None = None) -> None:
        """Record a job-level error (the job still finishes)."""
        self.job_errors.append((message, details))

    def has_feature(self, key: str) -> bool:
        """The configured value of a declared feature, else its default."""
        for feature in self.features:
            if feature.key == key:
                value = (self.config.get("features") or {}).get(key)
                return feature.default if value is None else bool(value)
        raise HarvestException(f'Unknown feature "{key}" for "{self.name}" backend')

    def get_extra_config_value(self, key: str) -> Any:
        """The value of an extra config entry, or None."""
        for entry in self.config.get("extra_configs") or []:
            if entry.get("key") == key:
                return entry.get("value")
        return None

    def get_filters(self) -> list[dict]:
        """The configured filters, as `{"key", "value"[, "type": "exclude"]}` entries."""
        return list(self.config.get("filters") or [])

    # --- fetching ahead: the records of a chunk, in the domain's bounded pool
    def fetch(self, item: ItemRef) -> Any:
        """The remote record of one item (one request); backends that read their listing fetch nothing."""
        return None

    def fetched_remote_id(self, item: ItemRef, record: Any) -> str | None:
        """The remote id the fetched record gives the item (CKAN: the package id instead of its name)."""
        return None

    def prefetch(self, items: list[ItemRef]) -> dict[str, str]:
        """Fetch the items' records at most `concurrency` at once per domain; return the remote ids they change."""
        if type(self).fetch is BaseBackend.fetch or not items:
            return {}
        from dataspace_assets.harvest.backends.pool import concurrency_of, fetch_all

        self._fetched = {}  # one chunk at a time
        by_id = {item.remote_id: item for item in items}
        results = fetch_all(
            self.source.domain, concurrency_of(self.config), lambda rid: self.fetch(by_id[rid]), list(by_id)
        )
        renamed: dict[str, str] = {}
        for remote_id, result in results.items():
            new_id = None
            if not isinstance(result, BaseException):
                try:
                    new_id = self.fetched_remote_id(by_id[remote_id], result)
                except Exception as exc:  # noqa: BLE001 - a record the backend cannot read fails its item only
                    result = exc
            self._fetched[remote_id] = result
            if new_id and new_id != remote_id:
                renamed[remote_id] = new_id
                self._fetched[new_id] = result
        return renamed

    def fetched(self, item: ItemRef) -> Any:
        """The record fetched ahead for this item (fetched now if it was not); a failed fetch raises here."""
        result = self._fetched[item.remote_id] if item.remote_id in self._fetched else self.fetch(item)
        if isinstance(result, BaseException):
            raise result
        return result

    # --- implemented by backends
    def initialize(self) -> None:
        """List the remote: call `add_item` once per record."""
        raise NotImplementedError

    def process_dataset(self, item: ItemRef, dataset: DatasetRecord) -> DatasetRecord:
        """Fill the dataset (existing or new) from the remote record and return it."""
        raise NotImplementedError

    def process_dataservice(
        self, item: ItemRef, dataservice: DataserviceRecord, dataset_ids: dict[str, str]
    ) -> DataserviceRecord:
        """Fill the dataservice from the remote record; dataset_ids maps remote ids of this job to catalogue ids."""
        raise NotImplementedError

    def finalize(self) -> None:
        """Hook run once every item is processed."""

    @classmethod
    def validate_config(cls, config: dict) -> list[str]:
        """Check a source config against the backend's declared filters, features and extra configs."""
        errors: list[str] = []
        if not isinstance(config, dict):
            return ["config must be an object"]
        if cls.config_keys is not None:
            known = cls.config_keys | CONFIG_SECTIONS
            errors += [
                f'Unknown config key "{key}" for "{cls.name}" backend (known: {", ".join(sorted(known))})'
                for key in config
                if key not in known
            ]
        for section, declared, what in (
            ("filters", cls.filters, "filter"),
            ("extra_configs", cls.extra_configs, "extra config"),
        ):
            entries = config.get(section)
            if entries is None:
                continue
            if not isinstance(entries, list):
                errors.append(f'"{section}" must be a list of {{"key", "value"}} objects')
                continue
            by_key = {d.key: d for d in declared}
            for entry in entries:
                if not isinstance(entry, dict) or "key" not in entry or "value" not in entry:
                    errors.append(f'Each {what} of "{section}" needs a "key" and a "value"')
                    continue
                if not isinstance(entry["key"], str):
                    errors.append(f'Each {what} of "{section}" needs a text "key" (got {entry["key"]!r})')
                    continue
                spec = by_key.get(entry["key"])
                if spec is None:
                    errors.append(f'Unknown {what} key "{entry["key"]}" for "{cls.name}" backend')
                elif not _has_type(entry["value"], spec.type):
                    errors.append(
                        f'Wrong type for {what} "{entry["key"]}" of "{cls.name}" backend: expected {_type_name(spec.type)}'
                    )
                if section == "filters" and entry.get("type") not in (None, "include", "exclude"):
                    errors.append(f'Unknown filter type "{entry.get("type")}" (expected "include" or "exclude")')
        features = config.get("features")
        if features is not None:
            if not isinstance(features, dict):
                errors.append('"features" must be an object of booleans')
            else:
                declared_features = {f.key for f in cls.features}
                for key, value in features.items():
                    if key not in declared_features:
                        errors.append(f'Unknown feature key "{key}" for "{cls.name}" backend')
                    elif not isinstance(value, bool):
                        errors.append(f'Feature "{key}" of "{cls.name}" backend must be a boolean')
        return errors
