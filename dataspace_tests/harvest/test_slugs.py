"""Our slugs are python-slugify's, without its per-call import attempt."""

from __future__ import annotations

import pytest
from slugify import slugify as reference

from dataspace_assets.harvest.slugs import slugify


@pytest.mark.parametrize(
    "text",
    ["Qualité de l'air à Bruxelles", "Straßenbäume – Köln", "Ŝpaco ĉiutage", "Plain ASCII title", "  ", "日本語"],
)
def test_same_slug_as_python_slugify(text: str) -> None:
    assert slugify(text) == reference(text)


def test_options_pass_through() -> None:
    assert slugify("L'eau d'Évian", replacements=[["'", ""]]) == "leau-devian"
