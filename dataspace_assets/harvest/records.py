"""Plain records the harvest engine stores and the backends fill (datasets, resources, dataservices)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ContactPoint:
    """A person or organisation to contact about a dataset or service."""

    name: str
    email: str | None = None
    url: str | None = None
    role: str = "contact"


@dataclass
class Checksum:
    """A file checksum; type is md5, sha1 or sha256."""

    type: str
    value: str


@dataclass
class HarvestMetadata:
    """Where a harvested record came from and when it was last seen (spec 5.2)."""

    backend: str | None = None
    domain: str | None = None
    source_id: str | None = None
    source_url: str | None = None
    remote_id: str | None = None
    remote_url: str | None = None
    uri: str | None = None
    dct_identifier: str | None = None
    created_at: datetime | None = None
    issued_at: datetime | None = None
    modified_at: datetime | None = None
    metadata_modified_at: datetime | None = None
    last_update: datetime | None = None
    archived: str | None = None
    archived_at: datetime | None = None
    archived_reason: str | None = None
    ckan_name: str | None = None
    ckan_source: str | None = None
    ods_url: str | None = None
    ods_references: str | None = None
    ods_has_records: bool | None = None
    ods_geo: bool | None = None


@dataclass
class ResourceRecord:
    """A file or API of a dataset."""

    url: str
    title: str = ""
    description: str = ""
    format: str | None = None
    mime: str | None = None
    filesize: int | None = None
    filetype: str = "remote"
    type: str = "main"
    checksum: Checksum | None = None
    schema: dict | None = None
    extras: dict = field(default_factory=dict)
    harvest: dict = field(default_factory=dict)
    id: str | None = None


@dataclass
class DatasetRecord:
    """A dataset of the catalogue, as a backend maps it from a remote record."""

    id: str | None = None
    title: str = ""
    description: str = ""
    acronym: str | None = None
    tags: list[str] = field(default_factory=list)
    frequency: str | None = None
    temporal_coverage: dict | None = None
    spatial: dict | None = None
    license: str | None = None
    schema: dict | None = None
    contact_points: list[ContactPoint] = field(default_factory=list)
    access_type: str | None = None
    access_type_reason_category: str | None = None
    resources: list[ResourceRecord] = field(default_factory=list)
    extras: dict = field(default_factory=dict)
    harvest: HarvestMetadata = field(default_factory=HarvestMetadata)
    archived: datetime | None = None
    organization: str | None = None
    owner: str | None = None
    private: bool = False
    slug: str | None = None  # the wished slug of a new dataset (CKAN: the package name); else from the title


@dataclass
class DataserviceRecord:
    """An API of the catalogue, linked to the datasets it serves."""

    id: str | None = None
    title: str = ""
    description: str = ""
    base_api_url: str | None = None
    machine_documentation_url: str | None = None
    contact_points: list[ContactPoint] = field(default_factory=list)
    license: str | None = None
    tags: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    extras: dict = field(default_factory=dict)
    harvest: HarvestMetadata = field(default_factory=HarvestMetadata)
    archived_at: datetime | None = None
    organization: str | None = None
    owner: str | None = None
