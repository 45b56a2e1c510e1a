"""Slugs of titles, tags and licence names (python-slugify with its transliteration backend fixed)."""

from __future__ import annotations

from typing import Any

from slugify import slugify as _slugify


def slugify(text: str, **options: Any) -> str:
    """A lower-case ASCII slug of `text`, as python-slugify makes it."""
    # With the default backend "auto", every non-ASCII text makes slugify try (and fail) to import the
    # optional GPL `unidecode` package first: one failed import per call, a tenth of a harvest's store time.
    return _slugify(text, backend="text-unidecode", **options)
