"""Text the catalogue can store on SQLite and PostgreSQL alike: no NUL, no unpaired surrogate, no NaN in JSON.

PostgreSQL refuses U+0000 in text and JSON, and a lone surrogate cannot be encoded to UTF-8 at all, so a
record holding either used to vanish on PostgreSQL only. Records are cleaned once, before they are stored,
and the item says which field was cleaned; a remote identifier holding them is refused, never rewritten.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

_BAD = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def bad_characters(text: str) -> str | None:
    """What makes a text unstorable ("a NUL character", "an unpaired surrogate"), or None."""
    found = _BAD.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "an unpaired surrogate"


def clean_text(text: str) -> str:
    """The text without NUL characters, unpaired surrogates replaced by U+FFFD."""
    return _BAD.sub(lambda m: "" if m.group() == "\x00" else REPLACEMENT, text)


def _clean(value: Any, where: str, cleaned: list[str]) -> Any:
    if isinstance(value, str):
        if _BAD.search(value):
            cleaned.append(where)
            return clean_text(value)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            new = _clean(current, f"{where}.{f.name}" if where else f.name, cleaned)
            if new is not current:
                setattr(value, f.name, new)
        return value
    if isinstance(value, list):
        items = [_clean(v, f"{where}[{i}]", cleaned) for i, v in enumerate(value)]
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict):
        pairs = {_clean(k, f"{where}.<key>", cleaned): _clean(v, f"{where}.{k}", cleaned) for k, v in value.items()}
        changed = set(pairs) != set(value) or any(a is not b for a, b in zip(pairs.values(), value.values()))
        return pairs if changed else value
    return value


_FIELDS: dict[type, tuple[str, ...]] = {}  # record class -> its field names (dataclasses.fields is slow)


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        is_record = dataclasses.is_dataclass(kind)
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind)) if is_record else ()
    return names


def _texts(value: Any, out: list[str]) -> None:
    """Every text a record holds (nested records, lists, dict keys and values), in no particular order."""
    kind = type(value)
    if kind is str:
        out.append(value)
    elif kind is list or kind is tuple:
        for item in value:
            if type(item) is str:
                out.append(item)
            elif item is not None:
                _texts(item, out)
    elif kind is dict:
        out.extend(key for key in value if type(key) is str)
        for item in value.values():
            if type(item) is str:
                out.append(item)
            elif item is not None:
                _texts(item, out)
    else:  # a record (any other value, a number or a date, has no field)
        for name in _field_names(kind):
            item = getattr(value, name)
            if type(item) is str:
                out.append(item)
            elif item is not None:
                _texts(item, out)


def clean_record(record: Any) -> list[str]:
    """Clean every text of a record in place (nested records, lists and dicts too); return the cleaned fields."""
    texts: list[str] = []
    _texts(record, texts)
    # Almost every record is clean: one search over all its texts, and the field-by-field walk only if it hits.
    if not _BAD.search("".join(texts)):
        return []
    cleaned: list[str] = []
    _clean(record, "", cleaned)
    return cleaned


def clean_value(value: Any) -> Any:
    """A JSON-like value (messages, logs) with every text cleaned."""
    return _clean(value, "", [])


def json_problems(value: Any, where: str = "config") -> list[str]:
    """Why a value cannot be stored as JSON on every database (NaN, Infinity, NUL, unpaired surrogates)."""
    try:
        return _json_problems(value, where)
    except RecursionError:
        return [f"{where} nests too deeply"]


def _json_problems(value: Any, where: str) -> list[str]:
    problems: list[str] = []
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{where} is {value}, which JSON cannot hold")
    elif isinstance(value, str):
        bad = bad_characters(value)
        if bad:
            problems.append(f"{where} contains {bad}")
    elif isinstance(value, dict):
        for key, item in value.items():
            bad = bad_characters(key) if isinstance(key, str) else None
            if bad:
                problems.append(f"{where}: a key contains {bad}")
                continue
            problems += _json_problems(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problems += _json_problems(item, f"{where}[{index}]")
    return problems


__all__ = ["bad_characters", "clean_record", "clean_text", "clean_value", "json_problems"]
