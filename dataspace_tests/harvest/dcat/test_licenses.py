"""Licence guessing (spec 2.7)."""

from __future__ import annotations

import pytest

from dataspace_assets.harvest.licenses import SEED_LICENSES, License, LicenseRegistry


@pytest.fixture
def registry() -> LicenseRegistry:
    return LicenseRegistry.default()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cc-by", "cc-by"),  # id
        ("CC-BY", "cc-by"),  # id, case-insensitive
        ("Licence Ouverte Version 1.0", "lov1"),  # title slug
        ("Licence Ouverte Version 2.0", "lov2"),  # exact alternate title beats a fuzzy title match
        ("https://www.etalab.gouv.fr/licence-ouverte-open-licence", "lov2"),  # url
        ("https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf", "lov2"),  # alternate url
        ("http://www.etalab.gouv.fr/licence-ouverte-open-licence/", "lov2"),  # scheme and trailing slash ignored
        ("Licence Ouverte version 2.0  https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf", "lov2"),
        ("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0", "cc-by"),
        ("http://dcat-ap.de/def/licenses/cc-zero", "cc-zero"),
        ("Licence Ouvert Version 1.0", "lov1"),  # title within 2 edits
        ("Creative Commons Atribution", "cc-by"),
        ("Licence Ouverte (Etalab)", "fr-lo"),  # alternate title
        ("ODbL", "odc-odbl"),
        ("https://data.some.org/link/to/license", None),
        ("Some statement about rights", None),
        ("", None),
    ],
)
def test_guess(registry: LicenseRegistry, text: str, expected: str | None) -> None:
    found = registry.guess(text)
    assert (found.id if found else None) == expected


def test_first_matching_candidate_wins_and_default_applies(registry: LicenseRegistry) -> None:
    assert registry.guess("nothing", "odbl", "cc-by").id == "odc-odbl"
    assert registry.guess("nothing", default=registry.default_license()).id == "notspecified"
    assert registry.guess("nothing") is None


def test_an_ambiguous_fuzzy_match_gives_nothing() -> None:
    registry = LicenseRegistry([License("a", "Licence AB"), License("b", "Licence AC")])
    assert registry.guess("Licence AD") is None
    assert registry.guess("Licence AB").id == "a"


def test_seed_covers_the_fixtures_and_ids_are_unique() -> None:
    ids = [lic.id for lic in SEED_LICENSES]
    assert len(ids) == len(set(ids))
    assert {"notspecified", "lov1", "lov2", "fr-lo", "cc-by", "cc-by-sa", "cc-zero", "odc-odbl", "other-pd", "other-open"} <= set(ids)
    assert LicenseRegistry([]).default_license() is None
