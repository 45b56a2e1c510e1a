"""The top-level config keys the API backends share: the HTTP client's options, `concurrency` and `max_pages`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from dataspace_assets.harvest.backends.base import HarvestException
from dataspace_assets.harvest.backends.pool import check_concurrency
from dataspace_assets.harvest.dcat.guards import DEFAULT_MAX_PAGES, limits_config_errors
from dataspace_assets.net.http import http_config_errors

# Top-level config keys every API backend accepts: the HTTP client's options, with their types.
HTTP_KEYS: dict[str, type | tuple[type, ...]] = {
    "allow_private_addresses": bool,
    "allow_local_files": bool,
    "timeout": (int, float),
    "retries": int,
    "retry_backoff": (int, float),
    "max_bytes": int,
    "deadline": (int, float),
}


POSITIVE_KEYS = frozenset({"timeout", "max_bytes"})
NON_NEGATIVE_KEYS = frozenset({"retries", "retry_backoff"})


def check_typed_keys(config: dict, backend: str, keys: dict[str, type | tuple[type, ...]]) -> list[str]:
    """Errors of the typed top-level keys of a source config, then the bounds of the keys whose type was right."""
    errors: list[str] = []
    for key, kind in keys.items():
        if key not in config:
            continue
        value = config[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            errors.append(f'Config key "{key}" of "{backend}" backend must be {names}')
        elif key in POSITIVE_KEYS and not value > 0:
            errors.append(f'Config key "{key}" of "{backend}" backend must be above 0')
        elif key in NON_NEGATIVE_KEYS and value < 0:
            errors.append(f'Config key "{key}" of "{backend}" backend must be 0 or more')
    # The bounds the HTTP client applies (timeout, retries, max_bytes ...) and the page and triple caps.
    flagged = {key for key in keys if any(f'"{key}"' in e for e in errors)}
    checked = {k: v for k, v in config.items() if k in keys and k not in flagged}
    return errors + http_config_errors(checked) + limits_config_errors(checked)


def check_config_keys(config: dict, backend: str, keys: dict[str, type | tuple[type, ...]]) -> list[str]:
    """Errors of the typed top-level keys of an API backend's source config (HTTP options), then of `concurrency`."""
    return check_typed_keys(config, backend, keys) + check_concurrency(config, backend)


def check_max_pages(config: dict) -> list[str]:
    """Errors of the `max_pages` key, with the bounds and messages of the DCAT and CSW backends."""
    return limits_config_errors({"max_pages": config["max_pages"]}) if "max_pages" in config else []


def max_pages_of(config: Mapping[str, Any]) -> int:
    """How many pages one listing may walk (config `max_pages`, 1000 by default as for DCAT and CSW)."""
    return int(config.get("max_pages") or DEFAULT_MAX_PAGES)


def page_cap_error(max_pages: int, url: str, params: Any = None) -> HarvestException:
    """The job error of a listing stopped at its page cap, naming the first page that was not fetched."""
    target = f"{url}?{urlencode(params)}" if params else url
    return HarvestException(f'stopped after {max_pages} pages (config "max_pages"): {target} was not fetched')


__all__ = ["HTTP_KEYS", "check_config_keys", "check_typed_keys", "check_max_pages", "max_pages_of", "page_cap_error"]
