"""Records of the harvest catalogue: sources, jobs, items and item outcomes, and their JSON forms."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from dataspace_assets.harvest.backends.base import SourceInfo
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

ITEM_STATUSES = ("pending", "started", "done", "failed", "skipped", "archived")
JOB_STATUSES = ("pending", "initializing", "initialized", "processing", "done", "done-errors", "failed")
FINAL_JOB_STATUSES = ("done", "done-errors", "failed")
VALIDATION_STATES = ("pending", "accepted", "refused")


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A fresh catalogue id (uuid4 hex)."""
    return uuid.uuid4().hex


def source_domain(url: str) -> str:
    """The host of a URL without its port: the source's domain (file:// URLs give "localhost")."""
    from urllib.parse import urlparse

    return urlparse(url).netloc.split(":")[0].split("@")[-1].lower() or "localhost"


def iso(value: datetime | None) -> str | None:
    """A datetime as an ISO string, for JSON output."""
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass
class HarvestSource:
    """A remote catalogue plus the backend that reads it."""

    id: str
    slug: str
    name: str
    url: str
    backend: str
    domain: str
    description: str = ""
    config: dict = field(default_factory=dict)
    frequency: str = "manual"
    schedule: str | None = None
    active: bool = True
    autoarchive: bool = True
    validation_state: str = "pending"
    validation_by: str | None = None
    validation_on: datetime | None = None
    validation_comment: str | None = None
    owner: str | None = None
    organization: str | None = None
    declared_in: str | None = None
    created_at: datetime | None = None
    deleted: datetime | None = None

    def info(self) -> SourceInfo:
        """What a backend sees of this source."""
        return SourceInfo(
            id=self.id,
            slug=self.slug,
            name=self.name,
            url=self.url,
            backend=self.backend,
            domain=self.domain,
            config=dict(self.config or {}),
            organization=self.organization,
            owner=self.owner,
        )

    def to_json(self) -> dict:
        """A JSON-serialisable view for `--json` output."""
        data = asdict(self)
        for key in ("validation_on", "created_at", "deleted"):
            data[key] = iso(data[key])
        data["validation"] = {
            "state": data.pop("validation_state"),
            "by": data.pop("validation_by"),
            "on": data.pop("validation_on"),
            "comment": data.pop("validation_comment"),
        }
        return data


@dataclass
class HarvestError:
    """One error of a job or an item."""

    message: str
    details: str | None = None
    created_at: str | None = None


@dataclass
class HarvestItem:
    """One remote record within a job."""

    id: int
    job_id: str
    seq: int
    remote_id: str | None
    kind: str = "dataset"
    status: str = "pending"
    remote_url: str | None = None
    dataset_id: str | None = None
    dataservice_id: str | None = None
    created: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    errors: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-serialisable view."""
        data = asdict(self)
        for key in ("created", "started", "ended"):
            data[key] = iso(data[key])
        return data


@dataclass
class HarvestJob:
    """One run of a source."""

    id: str
    source_id: str
    status: str
    created: datetime
    started: datetime | None = None
    ended: datetime | None = None
    max_items: int | None = None
    data: dict = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    items_total: int = 0
    items_by_status: dict = field(default_factory=dict)
    items_by_type: dict = field(default_factory=dict)
    dagster_run_id: str | None = None

    def to_json(self) -> dict:
        """A JSON-serialisable view (without the backend's scratch data)."""
        data = asdict(self)
        data.pop("data")
        for key in ("created", "started", "ended"):
            data[key] = iso(data[key])
        return data


@dataclass
class ItemOutcome:
    """What processing one item gave: its final status and, when done, the record to store."""

    item_id: int
    kind: str
    status: str
    started: datetime
    ended: datetime | None = None
    errors: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)
    record: DatasetRecord | DataserviceRecord | None = None
    remote_url: str | None = None

    def fail(self, message: str, details: str | None = None) -> None:
        """The record could not be stored: the item fails and keeps no record."""
        self.status, self.record, self.remote_url = "failed", None, None
        self.errors = [*self.errors, {"message": message, "details": details, "created_at": utcnow().isoformat()}]
