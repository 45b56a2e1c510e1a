"""ISO 19139 mapping rules one by one: access from INSPIRE links and article 13 texts, licences from URLs in text."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataspace_assets.harvest.iso.mapping import (
    access_of,
    constraints_of,
    licence_candidates,
    parse_record,
    remote_id_of,
    tags_of,
)
from dataspace_assets.harvest.licenses import LicenseRegistry

LIMITATIONS = "http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/"


@pytest.mark.parametrize(
    ("rights", "links", "expected"),
    [
        ([], [LIMITATIONS + "noLimitations"], ("open", None)),
        ([], [LIMITATIONS + "INSPIRE_Directive_Article13_1e"], ("restricted", "intellectual-property")),
        (["L124-5-II-2 du code de l'environnement (Directive 2007/2/CE (INSPIRE), Article 13.1.f)"], [], ("restricted", "personal-data")),
        (["Directive INSPIRE, article 13(1)(b)"], [], ("restricted", "international-relations-public-security-defence")),
        (["Pas de restriction d'accès public"], [], ("open", None)),
    ],
)
def test_access(rights, links, expected) -> None:
    assert access_of(rights, links) == expected


def test_licence_from_a_url_inside_free_text() -> None:
    rights = ["Mentionner la source", "Licence Ouverte 1.0 http://www.data.gouv.fr/Licence-Ouverte-Open-Licence."]
    candidates = licence_candidates(rights, [])
    assert candidates[0] == "http://www.data.gouv.fr/Licence-Ouverte-Open-Licence"  # trailing period cut
    assert LicenseRegistry.default().guess(*candidates).id == "fr-lo"


def test_cartigny_record(fixtures_dir: Path) -> None:
    from lxml import etree

    page = etree.parse(str(fixtures_dir / "udata/csw_dcat/geonetwork-iso19139-page-1.xml"))
    data = etree.tostring(page.xpath("//*[local-name()='MD_Metadata']")[0])
    record = parse_record(data)
    assert remote_id_of(record).endswith("/fr-120066022-orphan-residentifier-140d31c6-643d-42a9-85df-2737a118e144")
    rights, links = constraints_of(record)
    assert len(rights) == 6 and links == []
    assert "inspire" in tags_of(record)
