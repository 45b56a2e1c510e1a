"""The top-level config keys the API backends share: the HTTP client's options and `concurrency`."""

from __future__ import annotations

from dataspace_assets.harvest.backends.pool import check_concurrency
from dataspace_assets.net.http import http_config_errors

# Top-level config keys every API backend accepts: the HTTP client's options, with their types.
HTTP_KEYS: dict[str, type | tuple[type, ...]] = {
    "allow_private_addresses": bool,
    "allow_local_files": bool,
    "timeout": (int, float),
    "retries": int,
    "retry_backoff": (int, float),
    "max_bytes": int,
}


def check_config_keys(config: dict, backend: str, keys: dict[str, type | tuple[type, ...]]) -> list[str]:
    """Errors of the typed top-level keys of a source config (HTTP options, concurrency)."""
    errors: list[str] = []
    for key, kind in keys.items():
        if key not in config:
            continue
        value = config[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            errors.append(f'Config key "{key}" of "{backend}" backend must be {names}')
        elif key in ("timeout", "max_bytes") and not value > 0:
            errors.append(f'Config key "{key}" of "{backend}" backend must be above 0')
        elif key in ("retries", "retry_backoff") and value < 0:
            errors.append(f'Config key "{key}" of "{backend}" backend must be 0 or more')
    # The bounds the HTTP client applies (timeout, retries, max_bytes ...), for the keys whose type and sign were right.
    flagged = {key for key in keys if any(f'"{key}"' in e for e in errors)}
    errors += http_config_errors({k: v for k, v in config.items() if k in keys and k not in flagged})
    return errors + check_concurrency(config, backend)


__all__ = ["HTTP_KEYS", "check_config_keys"]
