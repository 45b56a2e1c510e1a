"""Reading a twin's files: any failure (missing, unreadable, bad JSON or YAML) becomes a problem, never an exception."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from dataspace_assets.deltatwin.problems import Problems, quote

_MISSING = object()


MAX_FILE_BYTES = 16 * 1024 * 1024  # a manifest or workflow larger than this is refused, never read into memory


def read_text(path: Path, out: Problems) -> str | None:
    """A regular file's UTF-8 text (at most MAX_FILE_BYTES), or None with a `file-missing` or `file-unreadable` problem."""
    try:
        # Opened without blocking, then only a regular file is read: a FIFO or a device would hang or never end.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                out.error((), "file-unreadable", "is a folder, not a file")
                return None
            if not stat.S_ISREG(mode):
                out.error((), "file-unreadable", "is not a regular file (a FIFO or a device is never read)")
                return None
            os.set_blocking(fd, True)
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            out.error((), "file-unreadable", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: not read")
            return None
        return data.decode("utf-8")
    except FileNotFoundError:
        out.error((), "file-missing", f"not found in {path.parent}")
    except IsADirectoryError:
        out.error((), "file-unreadable", "is a folder, not a file")
    except UnicodeDecodeError as exc:
        out.error((), "file-unreadable", f"not UTF-8 text (byte {exc.start})")
    except OSError as exc:
        out.error((), "file-unreadable", f"cannot be read: {exc.strerror or exc}")
    return None


def parse_json(text: str, out: Problems) -> Any:
    """Parse JSON strictly: NaN and Infinity are refused, and a repeated key (the last silently wins) is reported."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in items:
            if key in found:
                out.warning(
                    (), "duplicate-key", f"key {quote(key)} appears twice in one object: the last value is used"
                )
            found[key] = value
        return found

    try:
        return json.loads(text, parse_constant=refuse_constant, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        out.error((), "json-syntax", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except ValueError as exc:
        out.error((), "json-syntax", f"invalid JSON: {exc}")
    except RecursionError:
        out.error((), "json-syntax", "invalid JSON: nested too deeply")
    return _MISSING


def parse_yaml(text: str, out: Problems) -> Any:
    """Parse YAML with the safe loader only (no Python objects, no code)."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        out.error((), "yaml-syntax", f"invalid YAML{where}: {exc.problem or exc.context or 'syntax error'}")
    except yaml.YAMLError as exc:
        out.error((), "yaml-syntax", f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else 'syntax error'}")
    except RecursionError:
        out.error((), "yaml-syntax", "invalid YAML: nested too deeply")
    except Exception as exc:  # PyYAML's constructors raise plain ValueError (a date such as 2025-13-45, a huge integer)
        out.error((), "yaml-syntax", f"invalid YAML: {type(exc).__name__}: {str(exc)[:120]}")
    return _MISSING


def load_json(path: Path, out: Problems) -> tuple[bool, Any]:
    """(True, data) when the file holds valid JSON; (False, None) with problems otherwise."""
    text = read_text(path, out)
    if text is None:
        return False, None
    data = parse_json(text, out)
    return (False, None) if data is _MISSING else (True, data)


def load_yaml(path: Path, out: Problems) -> tuple[bool, Any]:
    """(True, data) when the file holds valid YAML; (False, None) with problems otherwise."""
    text = read_text(path, out)
    if text is None:
        return False, None
    data = parse_yaml(text, out)
    return (False, None) if data is _MISSING else (True, data)
