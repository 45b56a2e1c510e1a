"""The values that travel between the steps of a twin run: files, secrets by reference, plain JSON values."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dataspace_assets.deltatwin.inputs import MASK, Secret
from dataspace_assets.errors import DataspaceError


@dataclass(frozen=True)
class DataFile:
    """A file a step received or produced: its local path, where it came from, its size and `md5@<hex>` checksum."""

    path: str  # absolute local path
    size: int
    checksum: str
    url: str | None = None  # the URL or path it was fetched from (inputs and resources)
    node: str | None = None  # the step that produced it (model outputs)
    command: str | None = None  # that step's masked command line
    log_tail: str | None = None  # the last lines of that step's log (masked)

    @property
    def name(self) -> str:
        """The file's base name (what a glob placeholder receives)."""
        return os.path.basename(self.path)

    @classmethod
    def of(cls, path: Path, **extra: str | None) -> DataFile:
        """Describe a file on disk, computing its size and checksum."""
        size, checksum = file_digest(path)
        return cls(str(path.resolve()), size, checksum, **extra)

    def verify(self) -> bool:
        """True when the file on disk still has the recorded size and checksum."""
        path = Path(self.path)
        return path.is_file() and file_digest(path) == (self.size, self.checksum)


@dataclass(frozen=True)
class SecretRef:
    """A secret passed between steps by the name of the environment variable holding it, never by value."""

    env: str

    def reveal(self) -> str:
        """The secret, read from the environment of the step that needs it."""
        value = os.environ.get(self.env)
        if value is None:
            raise DataspaceError(f"the secret's environment variable {self.env} is not set")
        return value

    def __str__(self) -> str:
        return MASK


SecretValue = Secret | SecretRef
TwinValue = bool | int | float | str | list | dict | DataFile | Secret | SecretRef | None


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, `md5@<hex>`) of a file, read in chunks."""
    digest = hashlib.md5()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, f"md5@{digest.hexdigest()}"


def is_secret(value: object) -> bool:
    return isinstance(value, (Secret, SecretRef))


def masked(value: TwinValue) -> object:
    """A value as it may be shown: secrets as ***, files by path."""
    if is_secret(value):
        return MASK
    if isinstance(value, DataFile):
        return value.path
    return value


@dataclass
class Masker:
    """Hides the revealed secrets of one step in text the step did not build itself (a model's own log)."""

    secrets: set[str] = field(default_factory=set)

    def add(self, values: Iterable[str]) -> None:
        self.secrets.update(v for v in values if v)

    def __call__(self, text: str) -> str:
        # A model may print a secret anywhere in its output: there the value is all we know, so whole
        # occurrences are replaced, longest first. Our own messages mask by position instead.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text
