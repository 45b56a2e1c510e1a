"""Our JSON Schemas of manifest.json, one per deltaVersion, and the validators built from them."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2", "1.3", "1.4")
CURRENT_VERSION = "1.4"  # what a manifest without `deltaVersion` is validated as, like delta-core does
SUPPORTED_TEXT = "1.0–1.4"


def schema_file(version: str) -> str:
    """The file name of a version's schema inside this package: `v1_4.json`."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported deltaVersion {version} (supported {SUPPORTED_TEXT})")
    return f"v{version.replace('.', '_')}.json"


@cache
def load_schema(version: str) -> dict[str, Any]:
    """The JSON Schema of one deltaVersion, as a dict."""
    text = resources.files(__package__).joinpath(schema_file(version)).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def validator(version: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for one deltaVersion (the draft delta-core's schemas declare)."""
    schema = load_schema(version)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
