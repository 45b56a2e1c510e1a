"""Paths and URLs of a deployment, read from the environment with embedded defaults.

Nothing here touches the network or creates files: callers create what they write to.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where configs are read from and where data is written."""

    configs_dir: Path
    home: Path  # the embedded default's state folder (.dataspace/)
    dagster_home: Path
    blobs_dir: Path
    database_url: str  # SQL index and harvest catalogue
    azure_connection_string: str | None
    azure_container: str
    timezone: str
    executor: str  # "multiprocess" (default), "in_process" or "celery"
    celery_broker: str | None
    celery_backend: str | None

    @property
    def blob_backend(self) -> str:
        """`azure` when an Azure connection string is configured, else `local`."""
        return "azure" if self.azure_connection_string else "local"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load_settings() -> Settings:
    """Read the settings from `DATASPACE_*` environment variables."""
    home = Path(_env("DATASPACE_HOME", str(PROJECT_ROOT / ".dataspace"))).resolve()
    configs = Path(_env("DATASPACE_CONFIGS", str(PROJECT_ROOT / "configs"))).resolve()
    return Settings(
        configs_dir=configs,
        home=home,
        dagster_home=Path(_env("DAGSTER_HOME", str(home / "dagster"))).resolve(),
        blobs_dir=Path(_env("DATASPACE_BLOBS_DIR", str(home / "blobs"))).resolve(),
        database_url=_env("DATASPACE_DATABASE_URL", f"sqlite:///{home / 'dataspace.db'}"),
        azure_connection_string=_env("DATASPACE_AZURE_CONNECTION_STRING"),
        azure_container=_env("DATASPACE_AZURE_CONTAINER", "dataspace"),
        timezone=_env("DATASPACE_TIMEZONE", "UTC"),
        executor=_env("DATASPACE_EXECUTOR", "multiprocess"),
        celery_broker=_env("DATASPACE_CELERY_BROKER"),
        celery_backend=_env("DATASPACE_CELERY_BACKEND", _env("DATASPACE_CELERY_BROKER")),
    )


# Variables whose values may hold passwords or keys: never printed, logged or shown as they are.
SECRET_VARIABLES = (
    "DATASPACE_DATABASE_URL",
    "DATASPACE_AZURE_CONNECTION_STRING",
    "DATASPACE_CELERY_BROKER",
    "DATASPACE_CELERY_BACKEND",
    "DATASPACE_PG_URL",
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*):(?P<secret>[^@\s/]+)@")
_KEY_VALUE = re.compile(r"(?P<head>(?:AccountKey|SharedAccessSignature|SharedAccessKey|sig|password)=)(?P<secret>[^;&\s]+)", re.I)


def redact(text: str) -> str:
    """Text safe to print or log: secret variables' values become `$NAME`, URL passwords and keys `***`."""
    for name in SECRET_VARIABLES:
        value = os.environ.get(name)
        if value and len(value) >= 4 and "://" not in value:  # a URL keeps its host, only its password goes
            text = text.replace(value, f"${name}")
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:***@", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group('head')}***", text)
