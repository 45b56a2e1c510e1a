"""Problems found in a DeltaTwin folder: structured (severity, code, file, path, message) and printable."""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
PathPart = str | int
Path = tuple[PathPart, ...]

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Keys that read unambiguously without quotes; anything else (spaces, colons, dots, empty) is quoted.
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

_repr = reprlib.Repr()
_repr.maxlevel = 2
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlist = _repr.maxdict = 4


def format_path(path: Sequence[PathPart]) -> str:
    """A key path as people write it: `inputs.bbox."description:"`, `nodes[3].ref`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = part if _BARE_KEY.fullmatch(part) else quote(part)
        text += f".{key}" if text else key
    return text


def quote(text: str) -> str:
    """A string in double quotes with control characters escaped, as JSON writes it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in escaped)
    return f'"{escaped}"'


def json_kind(value: Any) -> str:
    """The JSON kind of a value: null, boolean, integer, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: a bool is not an integer in JSON
        return "boolean"
    for types, name in ((int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object")):
        if isinstance(value, types):
            return name
    return type(value).__name__


def describe(value: Any) -> str:
    """A short description of a JSON value for messages: its kind and a truncated rendering."""
    name = json_kind(value)
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"{name} {_repr.repr(value)}"
    if isinstance(value, str):
        return f"string {quote(value if len(value) <= 40 else value[:37] + '...')}"
    if isinstance(value, (list, dict)):
        return kind(value)
    return name


def kind(value: Any) -> str:
    """The JSON kind of a value with its article, for 'expected X, got Y' messages."""
    name = json_kind(value)
    if value is None:
        return name
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error), doubtful (warning) or worth knowing (info) in a twin's files."""

    severity: Severity
    code: str
    file: str
    path: Path
    message: str

    @property
    def location(self) -> str:
        """Where it is: the file name, then the key path inside it."""
        where = format_path(self.path)
        return f"{self.file}: {where}" if where else self.file

    def render(self) -> str:
        """One readable line: `error   manifest.json: inputs.bbox."description:": unknown key [unknown-key]`."""
        return f"{self.severity:<7} {self.location}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object printed by `twin validate --json`."""
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "path": format_path(self.path),
            "message": self.message,
        }

    def __str__(self) -> str:
        return self.render()


@dataclass
class Problems:
    """Collects the problems of one file, each with a key path inside it, without duplicates."""

    file: str
    items: list[Problem] = field(default_factory=list)
    _seen: set[tuple[str, str, Path, str]] = field(default_factory=set, repr=False)

    def add(self, severity: Severity, path: Iterable[PathPart], code: str, message: str) -> None:
        """Record a problem unless the same one is already recorded."""
        clean = tuple(
            part if isinstance(part, (str, int)) and not isinstance(part, bool) else str(part) for part in path
        )
        key = (severity, code, clean, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(Problem(severity, code, self.file, clean, message))

    def error(self, path: Iterable[PathPart], code: str, message: str) -> None:
        """Record something that stops the twin from running correctly."""
        self.add("error", path, code, message)

    def warning(self, path: Iterable[PathPart], code: str, message: str) -> None:
        """Record something accepted leniently or likely to surprise at run time."""
        self.add("warning", path, code, message)

    def info(self, path: Iterable[PathPart], code: str, message: str) -> None:
        """Record something the validator could not check."""
        self.add("info", path, code, message)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def document_order(data: Any, path: Path) -> tuple[int, ...]:
    """The position of a key path in a parsed document, so problems print in reading order."""
    order: list[int] = []
    node = data
    for part in path:
        if isinstance(node, dict):
            keys = list(node)
            if part in node:
                order.append(keys.index(part))
                node = node[part]
                continue
            order.append(len(keys))  # a missing key sorts after the keys present
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            order.append(part)
            node = node[part]
            continue
        else:
            order.append(0)
        node = None
    return tuple(order)


def sort_problems(problems: Iterable[Problem], data: Any) -> list[Problem]:
    """Problems of one file in the order their keys appear in it (stable for equal positions)."""
    return sorted(problems, key=lambda p: document_order(data, p.path))
