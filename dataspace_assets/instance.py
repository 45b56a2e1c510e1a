"""The Dagster instance a deployment runs on: `$DAGSTER_HOME`, seeded with the embedded dagster_embedded.yaml."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from dataspace_assets.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).resolve().parent / "dagster_embedded.yaml"  # package data, not ./dagster.yaml


def prepare_dagster_home(settings: Settings) -> None:
    """Create `$DAGSTER_HOME` with the embedded instance config unless it already has one."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    target = settings.dagster_home / "dagster.yaml"
    if not target.exists():
        shutil.copyfile(INSTANCE_TEMPLATE, target)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


def get_instance(settings: Settings) -> dg.DagsterInstance:
    """Open the persistent instance under `settings.dagster_home`."""
    prepare_dagster_home(settings)
    return dg.DagsterInstance.get()
