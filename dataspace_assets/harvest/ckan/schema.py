"""The strict schemas a CKAN or DKAN package must pass (spec 3.3), with voluptuous' own messages."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import humanfriendly
from dateutil import parser as dateparser
from voluptuous import (
    ALLOW_EXTRA,
    All,
    Invalid,
    MultipleInvalid,
    Optional,
    Schema,
)
from voluptuous import (
    Any as AnyOf,
)

from dataspace_assets.harvest.dcat.mapping import is_valid_url
from dataspace_assets.harvest.dcat.tags import normalize_tag

RESOURCE_TYPES = ("file", "file.upload", "api", "documentation", "image", "visualization")
HASH_TYPES = {32: "md5", 40: "sha1", 64: "sha256"}


# ------------------------------------------------------------------ validators
def to_date(value: Any) -> date:
    """A date from an ISO-like text (the time of day is dropped, as udata does)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise Invalid("expected a date")
    try:
        return datetime.fromisoformat(value.strip()).date()  # CKAN writes ISO 8601: the fast path
    except ValueError:
        pass
    try:
        return dateparser.parse(value).date()
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"invalid date: {value}") from exc


class _FrenchDates(dateparser.parserinfo):
    """French weekday names, as DKAN portals write them ("mar, 10/12/2019 - 09:23")."""

    WEEKDAYS = [
        ("lun", "lundi"),
        ("mar", "mardi"),
        ("mer", "mercredi"),
        ("jeu", "jeudi"),
        ("ven", "vendredi"),
        ("sam", "samedi"),
        ("dim", "dimanche"),
    ]


def to_french_date(value: Any) -> date:
    """A date from a DKAN text: day first, French weekdays, surrounding words ignored ("Date changed jeu, ...")."""
    if isinstance(value, (date, datetime)):
        return to_date(value)
    if not isinstance(value, str):
        raise Invalid("expected a date")
    try:
        return dateparser.parse(value, parserinfo=_FrenchDates(dayfirst=True), fuzzy=True).date()
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"invalid date: {value}") from exc


def to_boolean(value: Any) -> bool:
    """A boolean from a bool, a number or a text ("true", "1", "yes", "on" are true)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on", "y", "t")
    raise Invalid("expected a boolean")


def lower(value: str) -> str:
    """The text in lower case."""
    return value.lower()


def empty_none(value: Any) -> Any:
    """None for an empty text."""
    return None if isinstance(value, str) and not value.strip() else value


def default_to(default: Any):  # noqa: ANN201
    """A validator giving `default` for None."""
    return lambda value: default if value is None else value


def to_hash(value: str) -> dict | None:
    """A checksum typed by its length (32 md5, 40 sha1, 64 sha256), or None."""
    value = value.strip()
    kind = HASH_TYPES.get(len(value))
    return {"type": kind, "value": value} if kind else None


def clean_notes(value: str | None) -> str | None:
    """Notes with CRLF as LF and stripped; an empty text is None."""
    if value is None:
        return None
    value = value.replace("\r\n", "\n").strip()
    return value or None


def normalize_url(value: str) -> str:
    """`http://` added when the URL has no scheme; refused when it is still not a URL."""
    value = value.strip()
    if value and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        value = "http://" + value
    if not is_valid_url(value):
        raise Invalid("expected a URL")
    return value


@lru_cache(maxsize=8192)  # slugifying is slow and a portal repeats its tags across packages
def tag_name(value: str) -> str:
    """The normalised tag (an empty text when too short: the mapping drops it)."""
    return normalize_tag(value) or ""


def to_size(value: Any) -> int | None:
    """A size in bytes from a number or a text like "42 octets" or "1.5 Ko"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid("expected a size")
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    text = re.sub(r"(?i)octets?\b", "B", re.sub(r"(?i)\b([kmgt])o\b", r"\1B", text))
    try:
        return int(humanfriendly.parse_size(text))
    except humanfriendly.InvalidSize as exc:
        raise Invalid(f"invalid size: {value}") from exc


def text_or_none(value: Any) -> str | None:
    """A text, or None."""
    if value is None or isinstance(value, str):
        return value
    raise Invalid("expected str")


# ------------------------------------------------------------------ CKAN
TAG = Schema({"id": str, "name": All(str, tag_name)}, required=True, extra=ALLOW_EXTRA)
ORGANIZATION = Schema({"id": str, "name": str, "title": str}, required=True, extra=ALLOW_EXTRA)
EXTRA = Schema(
    {"key": str, "value": AnyOf(str, int, float, bool, dict, list, None)}, required=True, extra=ALLOW_EXTRA
)

CKAN_RESOURCE = Schema(
    {
        "id": All(AnyOf(str, int), str),
        "position": int,
        "name": AnyOf(str, None),
        "description": AnyOf(str, None),
        "format": AnyOf(All(str, lower), None),
        "mimetype": AnyOf(All(str, lower), None),
        "size": AnyOf(None, All(AnyOf(int, float, str), to_size)),
        "hash": AnyOf(None, All(str, to_hash)),
        "created": All(str, to_date),
        "last_modified": AnyOf(None, All(str, to_date)),
        "url": All(str, normalize_url),
        "resource_type": All(empty_none, default_to("file"), AnyOf(*RESOURCE_TYPES)),
    },
    required=True,
    extra=ALLOW_EXTRA,
)

CKAN_PACKAGE = Schema(
    {
        "id": str,
        "name": str,
        "title": str,
        "notes": All(text_or_none, clean_notes),
        "license_id": All(default_to("not-specified"), str),
        "license_title": AnyOf(str, None),
        "tags": [TAG],
        "metadata_created": All(str, to_date),
        "metadata_modified": All(str, to_date),
        "organization": AnyOf(None, ORGANIZATION),
        "resources": [CKAN_RESOURCE],
        Optional("revision_id"): AnyOf(str, None),
        Optional("extras", default=list): [EXTRA],
        "private": to_boolean,
        "type": "dataset",
        "author": AnyOf(str, None),
        "author_email": AnyOf(str, None),
        "maintainer": AnyOf(str, None),
        "maintainer_email": AnyOf(str, None),
        "state": AnyOf(str, None),
    },
    required=True,
    extra=ALLOW_EXTRA,
)

# ------------------------------------------------------------------ DKAN
DKAN_RESOURCE = Schema(
    {
        "id": All(AnyOf(str, int), str),
        Optional("position"): AnyOf(int, None),
        "name": AnyOf(str, None),
        "description": AnyOf(str, None),
        "format": AnyOf(All(str, lower), None),
        "mimetype": AnyOf(All(str, lower), None),
        "size": AnyOf(None, All(AnyOf(int, float, str), to_size)),
        Optional("hash"): AnyOf(None, All(str, to_hash)),
        "created": All(str, to_french_date),
        "last_modified": AnyOf(None, All(str, to_french_date)),
        "url": All(str, normalize_url),
        Optional("resource_type", default="dkan"): All(empty_none, default_to("dkan"), str),
    },
    required=True,
    extra=ALLOW_EXTRA,
)

DKAN_PACKAGE = Schema(
    {
        "id": str,
        "name": str,
        "title": str,
        "notes": All(text_or_none, clean_notes),
        Optional("license_id", default="not-specified"): All(default_to("not-specified"), str),
        Optional("license_title", default=None): AnyOf(str, None),
        "tags": [TAG],
        "metadata_created": All(str, to_french_date),
        "metadata_modified": All(str, to_french_date),
        Optional("organization", default=None): AnyOf(None, ORGANIZATION),
        "resources": [DKAN_RESOURCE],
        Optional("revision_id"): AnyOf(str, None),
        Optional("extras", default=list): [EXTRA],
        Optional("private", default=False): to_boolean,
        "type": "Dataset",
        Optional("author"): AnyOf(str, None),
        Optional("author_email"): AnyOf(str, None),
        Optional("maintainer"): AnyOf(str, None),
        Optional("maintainer_email"): AnyOf(str, None),
        Optional("state"): AnyOf(str, None),
    },
    required=True,
    extra=ALLOW_EXTRA,
)


_KEYS: dict[int, frozenset[str]] = {}


def _keys(schema: Schema) -> frozenset[str]:
    keys = _KEYS.get(id(schema))  # the schemas are module constants: their keys never change
    if keys is None:
        keys = _KEYS[id(schema)] = frozenset(getattr(key, "schema", key) for key in schema.schema)
    return keys


def _pick(value: Any, keys: frozenset[str]) -> Any:
    return {k: v for k, v in value.items() if k in keys} if isinstance(value, dict) else value


def slim_package(package: Any, schema: Schema, resource_schema: Schema) -> Any:
    """The package with only the keys the schemas (and the mapping: `url`) read.

    Unknown keys are allowed and ignored either way; dropping them first spares voluptuous a scan of
    every schema key for each of the ~40 keys a real package carries (a third of the check's time).
    """
    if not isinstance(package, dict):
        return package
    slim = _pick(package, _keys(schema) | {"url"})
    nested = {"resources": _keys(resource_schema), "tags": _keys(TAG), "extras": _keys(EXTRA)}
    for key, keys in nested.items():
        if isinstance(slim.get(key), list):
            slim[key] = [_pick(entry, keys) for entry in slim[key]]
    if isinstance(slim.get("organization"), dict):
        slim["organization"] = _pick(slim["organization"], _keys(ORGANIZATION))
    return slim


def validation_message(error: MultipleInvalid) -> str:
    """`Validation error:` then one `- [path] message` line per problem (path dotted: resources.0.created)."""
    lines = ["Validation error:"]
    for problem in error.errors:
        path = ".".join(str(p) for p in problem.path)
        lines.append(f"- [{path}] {problem.msg}")
    return "\n".join(lines)


__all__ = [
    "CKAN_PACKAGE",
    "CKAN_RESOURCE",
    "DKAN_RESOURCE",
    "slim_package",
    "DKAN_PACKAGE",
    "RESOURCE_TYPES",
    "to_date",
    "to_french_date",
    "to_hash",
    "to_size",
    "validation_message",
]
