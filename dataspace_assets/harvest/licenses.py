"""The licence registry: seeded public licences and the guess of a licence from free text or a URL (spec 2.7)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from dataspace_assets.harvest.slugs import slugify

DEFAULT_LICENSE_ID = "notspecified"
FUZZY_DISTANCE = 2
_URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class License:
    """A licence a dataset can carry."""

    id: str
    title: str
    url: str | None = None
    alternate_urls: list[str] = field(default_factory=list)
    alternate_titles: list[str] = field(default_factory=list)

    def __hash__(self) -> int:
        return hash(self.id)


_EU = "http://publications.europa.eu/resource/authority/licence/"

# Facts about public licences: canonical URL plus the other names and URLs catalogues use for them.
SEED_LICENSES: list[License] = [
    License(DEFAULT_LICENSE_ID, "License Not Specified"),
    License(
        "lov2",
        "Licence Ouverte / Open Licence version 2.0",
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        [
            "https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf",
            "https://www.etalab.gouv.fr/wp-content/uploads/2018/11/open-licence.pdf",
            "https://spdx.org/licenses/etalab-2.0.html",
            "http://spdx.org/licenses/etalab-2.0",
            _EU + "ETALAB_2_0",
        ],
        [
            "Licence Ouverte Version 2.0",
            "Licence Ouverte v2.0",
            "Licence Ouverte 2.0",
            "Open Licence Version 2.0",
            "Open Licence 2.0",
            "etalab-2.0",
        ],
    ),
    # Etalab's first Licence Ouverte (2011): data.gouv.fr lists it as fr-lo; catalogues also call it "version 1.0".
    License(
        "lov1",
        "Licence Ouverte Version 1.0",
        "https://www.etalab.gouv.fr/wp-content/uploads/2014/05/Licence_Ouverte.pdf",
        ["https://www.etalab.gouv.fr/wp-content/uploads/2014/05/Open_Licence.pdf"],
        ["Licence Ouverte v1.0", "Open Licence Version 1.0", "Licence Ouverte 1.0"],
    ),
    License(
        "fr-lo",
        "Licence Ouverte / Open Licence",
        "http://www.data.gouv.fr/Licence-Ouverte-Open-Licence",
        [
            "https://www.data.gouv.fr/Licence-Ouverte-Open-Licence",
            # Etalab's own page of the licence, which DKAN portals give as their licence title.
            "http://www.etalab.gouv.fr/pages/Licence_ouverte_Open_licence-5899923.html",
        ],
        ["Licence Ouverte (Etalab)", "Licence Ouverte", "Open Licence", "Etalab Open License"],
    ),
    License(
        "cc-by",
        "Creative Commons Attribution",
        "http://www.opendefinition.org/licenses/cc-by",
        [
            "https://creativecommons.org/licenses/by/4.0/",
            "https://creativecommons.org/licenses/by/3.0/",
            "https://creativecommons.org/licenses/by/2.0/",
            "http://spdx.org/licenses/CC-BY-4.0",
            _EU + "CC_BY_4_0",
            _EU + "CC_BY",
        ],
        ["CC-BY", "CC BY 4.0", "CC-BY-4.0", "Creative Commons Attribution 4.0 International", "Creative Commons BY"],
    ),
    License(
        "cc-by-sa",
        "Creative Commons Attribution Share-Alike",
        "http://www.opendefinition.org/licenses/cc-by-sa",
        [
            "https://creativecommons.org/licenses/by-sa/4.0/",
            "https://creativecommons.org/licenses/by-sa/3.0/",
            "http://spdx.org/licenses/CC-BY-SA-4.0",
            _EU + "CC_BYSA_4_0",
            _EU + "CC_BYSA",
        ],
        ["CC-BY-SA", "CC BY-SA 4.0", "CC-BY-SA-4.0", "Creative Commons Attribution-ShareAlike 4.0 International"],
    ),
    License(
        "cc-zero",
        "Creative Commons CCZero",
        "http://www.opendefinition.org/licenses/cc-zero",
        [
            "https://creativecommons.org/publicdomain/zero/1.0/",
            "http://spdx.org/licenses/CC0-1.0",
            "http://dcat-ap.de/def/licenses/cc-zero",
            _EU + "CC0",
        ],
        ["CC0", "CC0 1.0", "CC0-1.0", "CC-0", "Creative Commons Zero", "CC0 1.0 Universal"],
    ),
    License(
        "odc-by",
        "Open Data Commons Attribution License",
        "http://opendatacommons.org/licenses/by/summary/",
        ["https://opendatacommons.org/licenses/by/", "https://opendatacommons.org/licenses/by/1-0/", "http://spdx.org/licenses/ODC-By-1.0", _EU + "ODC_BY"],
        ["ODC-BY", "ODC-By-1.0", "Open Data Commons Attribution"],
    ),
    License(
        "odc-odbl",
        "Open Data Commons Open Database License (ODbL)",
        "http://opendatacommons.org/licenses/odbl/summary/",
        [
            "https://opendatacommons.org/licenses/odbl/",
            "https://opendatacommons.org/licenses/odbl/1-0/",
            "http://spdx.org/licenses/ODbL-1.0",
            _EU + "ODBL",
        ],
        ["ODbL", "ODbL-1.0", "ODC-ODbL", "Open Database License", "Open Database License (ODbL)"],
    ),
    License(
        "odc-pddl",
        "Open Data Commons Public Domain Dedication and Licence (PDDL)",
        "http://opendatacommons.org/licenses/pddl/summary/",
        ["https://opendatacommons.org/licenses/pddl/", "https://opendatacommons.org/licenses/pddl/1-0/", "http://spdx.org/licenses/PDDL-1.0", _EU + "PDDL_1_0"],
        ["PDDL", "PDDL-1.0", "ODC-PDDL"],
    ),
    License("other-at", "Other (Attribution)", None, [], ["Other Attribution"]),
    License("other-open", "Other (Open)", None, [], ["Other Open"]),
    License("other-pd", "Other (Public Domain)", None, [], ["Other Public Domain", "Public Domain"]),
]


def _norm_url(url: str) -> str:
    """Host and path of a URL, lower-cased, without scheme or trailing slash."""
    text = url.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    return text.rstrip("/")


class LicenseRegistry:
    """Licences by id, with the guessing rules of spec 2.7."""

    def __init__(self, licenses: list[License] | tuple[License, ...]) -> None:
        self.licenses: list[License] = list(licenses)
        self._by_id = {lic.id.lower(): lic for lic in self.licenses}
        self._by_slug = {slugify(lic.title): lic for lic in self.licenses if lic.title}
        # An exact alternate title beats any fuzzy match ("Licence Ouverte Version 2.0" is 1 edit from "... 1.0").
        self._by_alt_slug: dict[str, License] = {}
        for lic in self.licenses:
            for title in lic.alternate_titles:
                self._by_alt_slug.setdefault(slugify(title), lic)
        self._by_url: dict[str, License] = {}
        self._norm_urls: list[tuple[str, License]] = []
        for lic in self.licenses:
            for url in [lic.url, *lic.alternate_urls]:
                if url:
                    self._by_url.setdefault(url.strip(), lic)
                    self._norm_urls.append((_norm_url(url), lic))

    @classmethod
    def default(cls) -> "LicenseRegistry":
        """The registry of the seeded licences."""
        return _seeded()

    def get(self, license_id: str | None) -> License | None:
        """The licence with this id (case-insensitive), or None."""
        return self._by_id.get(license_id.lower()) if license_id else None

    def default_license(self) -> License | None:
        """The licence used when nothing matches: `notspecified`, if registered."""
        return self.get(DEFAULT_LICENSE_ID)

    def guess(self, *candidates: str | None, default: License | None = None) -> License | None:
        """The first licence matched by the candidates, tried in order; `default` when none matches."""
        for candidate in candidates:
            found = self.guess_text(candidate)
            if found is not None:
                return found
        return default

    def guess_text(self, text: str | None) -> License | None:
        """Try the URL inside a text first, then the rest of the text."""
        if not text or not text.strip():
            return None
        text = text.strip()
        match = _URL_RE.search(text)
        if match and match.group(0) != text:
            found = self.guess_one(match.group(0))
            if found is not None:
                return found
            rest = (text[: match.start()] + " " + text[match.end() :]).strip()
            return self.guess_one(rest) if rest else None
        return self.guess_one(text)

    @lru_cache(maxsize=4096)  # the same few licence strings repeat across a whole catalogue
    def guess_one(self, text: str) -> License | None:
        """One candidate against the registry: exact id/slug/URL, URL without scheme, then fuzzy matches."""
        text = text.strip()
        if not text:
            return None
        found = self._by_id.get(text.lower()) or self._by_url.get(text)
        slug = slugify(text)
        found = found or self._by_slug.get(slug) or self._by_alt_slug.get(slug)
        if found:
            return found
        if _URL_RE.match(text):
            needle = _norm_url(text)
            hits = {lic.id: lic for norm, lic in self._norm_urls if needle and needle in norm}
            if len(hits) == 1:
                return next(iter(hits.values()))
            exact = {lic.id: lic for norm, lic in self._norm_urls if norm == needle}
            if len(exact) == 1:
                return next(iter(exact.values()))
            return None  # a URL never fuzzy-matches a title
        lowered = text.lower()
        # Fuzzy steps, in order: slug of the title, lower-cased title, alternate titles; only a unique hit counts.
        steps = (
            (slug, lambda lic: [slugify(lic.title)] if lic.title else []),
            (lowered, lambda lic: [lic.title.lower()] if lic.title else []),
            (lowered, lambda lic: [t.lower() for t in lic.alternate_titles]),
        )
        for probe, keys in steps:
            hits = {
                lic.id: lic
                for lic in self.licenses
                for key in keys(lic)
                if Levenshtein.distance(probe, key, score_cutoff=FUZZY_DISTANCE) <= FUZZY_DISTANCE
            }
            if len(hits) == 1:
                return next(iter(hits.values()))
        return None

    def __hash__(self) -> int:
        return id(self)


@lru_cache(maxsize=1)
def _seeded() -> LicenseRegistry:
    return LicenseRegistry(SEED_LICENSES)


__all__ = ["DEFAULT_LICENSE_ID", "License", "LicenseRegistry", "SEED_LICENSES"]
