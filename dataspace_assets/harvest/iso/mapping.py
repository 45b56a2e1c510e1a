"""An ISO 19139 record (gmd:MD_Metadata) → a catalogue dataset or dataservice, read with lxml XPath (no XSLT).

Our own reading of the record, in the spirit of the SEMIC ISO → DCAT-AP mapping udata uses:
title, abstract, keywords and INSPIRE themes as tags, citation dates, contacts with their roles,
bounding boxes as one MultiPolygon, constraints as rights strings and an access type, a licence
guessed from the constraints (URLs inside free text first), online resources as resources.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from dateutil import parser as dateparser
from lxml import etree

from dataspace_assets.harvest.dcat.mapping import (
    INSPIRE_LIMITATIONS,
    INSPIRE_REASONS,
    OGC_FORMATS,
    is_valid_url,
    not_in_future,
    now_utc,
)
from dataspace_assets.harvest.dcat.tags import INSPIRE_SCHEME_TITLE, normalize_tag
from dataspace_assets.harvest.dcat.text import html_to_markdown
from dataspace_assets.harvest.licenses import LicenseRegistry
from dataspace_assets.harvest.records import ContactPoint, DataserviceRecord, DatasetRecord, ResourceRecord

NS = {
    "gmd": "http://www.isotc211.org/2005/gmd",
    "gco": "http://www.isotc211.org/2005/gco",
    "gmx": "http://www.isotc211.org/2005/gmx",
    "srv": "http://www.isotc211.org/2005/srv",
    "xlink": "http://www.w3.org/1999/xlink",
    "gml": "http://www.opengis.net/gml",
    "gml32": "http://www.opengis.net/gml/3.2",
}
MD_METADATA = f"{{{NS['gmd']}}}MD_Metadata"
TEXT = "gco:CharacterString|gmx:Anchor"  # a free text, or an anchor whose text is the label
IDENT = "gmd:identificationInfo/*"
INSPIRE_THEMES = "http://inspire.ec.europa.eu/theme"
DOWNLOAD_FUNCTIONS = ("download", "offlineAccess", "order")
# ISO CI_RoleCode → the catalogue's contact roles (the DCAT and GeoDCAT-AP property names).
ROLES = {
    "pointOfContact": "contact",
    "publisher": "publisher",
    "author": "creator",
    "owner": "rightsHolder",
    "custodian": "custodian",
    "distributor": "distributor",
    "originator": "originator",
    "principalInvestigator": "principalInvestigator",
    "processor": "processor",
    "resourceProvider": "resourceProvider",
    "user": "user",
}
# "Article 13.1.d", "article 13(1)(d)", "13, paragraphe 1, point d" ... in free-text INSPIRE constraints.
_ARTICLE_13 = re.compile(r"13\s*[.(,]?\s*(?:paragraphe\s*)?1\s*[.)]?\s*[.(,]?\s*(?:point\s*)?\(?([a-h])\b", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


# ------------------------------------------------------------------ reading helpers
def parse_record(data: bytes) -> etree._Element:
    """An lxml element from a record's bytes, with entities, DTDs and the network off."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(data, parser)


def texts(node: etree._Element, path: str) -> list[str]:
    """The stripped, non-empty texts of the free-text elements under `path` (CharacterString or Anchor)."""
    found = []
    for element in node.xpath(f"{path}/*[self::gco:CharacterString or self::gmx:Anchor]", namespaces=NS):
        value = (element.text or "").strip()
        if value:
            found.append(value)
    return found


def text(node: etree._Element, path: str) -> str | None:
    """The first free text under `path`, or None."""
    values = texts(node, path)
    return values[0] if values else None


def code(node: etree._Element, path: str) -> str | None:
    """A code list value (codeListValue, else the element's text) under `path`."""
    for element in node.xpath(path, namespaces=NS):
        value = (element.get("codeListValue") or element.text or "").strip()
        if value:
            return value
    return None


def is_record(element: etree._Element) -> bool:
    """Whether an element is an ISO 19139 metadata record."""
    return element.tag == MD_METADATA


def is_service(record: etree._Element) -> bool:
    """Whether the record describes a service (hierarchy level `service`, or a service identification)."""
    return code(record, "gmd:hierarchyLevel/gmd:MD_ScopeCode") == "service" or bool(
        record.xpath(f"{IDENT}[self::srv:SV_ServiceIdentification]", namespaces=NS)
    )


def remote_id_of(record: etree._Element) -> str | None:
    """The resource identifier (`codeSpace/code` when it has a code space), else the file identifier."""
    for identifier in record.xpath(f"{IDENT}/gmd:citation/*/gmd:identifier/*", namespaces=NS):
        value = text(identifier, "gmd:code")
        if value:
            space = text(identifier, "gmd:codeSpace")
            if space and not value.startswith(space):
                return f"{space.rstrip('/')}/{value}"
            return value
    return text(record, "gmd:fileIdentifier")


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = dateparser.parse(value)
    except (ValueError, OverflowError):
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def citation_dates(record: etree._Element) -> dict[str, datetime | None]:
    """Creation, publication and revision dates of the resource's citation."""
    found: dict[str, datetime | None] = {"creation": None, "publication": None, "revision": None}
    for ci_date in record.xpath(f"{IDENT}/gmd:citation/*/gmd:date/gmd:CI_Date", namespaces=NS):
        kind = code(ci_date, "gmd:dateType/gmd:CI_DateTypeCode")
        values = ci_date.xpath("gmd:date/gco:Date/text()|gmd:date/gco:DateTime/text()", namespaces=NS)
        if kind in found and values and found[kind] is None:
            found[kind] = _datetime(values[0].strip())
    return found


# ------------------------------------------------------------------ fields
def tags_of(record: etree._Element) -> list[str]:
    """Keywords (free text or anchors) normalised, plus `inspire` for an INSPIRE theme; sorted."""
    tags: set[str] = set()
    for keywords in record.xpath(f"{IDENT}/gmd:descriptiveKeywords/gmd:MD_Keywords", namespaces=NS):
        thesaurus = text(keywords, "gmd:thesaurusName/*/gmd:title") or ""
        hrefs = keywords.xpath("gmd:keyword/gmx:Anchor/@xlink:href", namespaces=NS)
        if thesaurus.strip() == INSPIRE_SCHEME_TITLE or any(h.startswith(INSPIRE_THEMES) for h in hrefs):
            tags.add("inspire")
        for word in texts(keywords, "gmd:keyword"):
            tag = normalize_tag(word)
            if tag:
                tags.add(tag)
    return sorted(tags)


def contacts_of(record: etree._Element) -> list[ContactPoint]:
    """The resource's parties (points of contact and distributors) with their roles."""
    parties = record.xpath(
        f"{IDENT}/gmd:pointOfContact/gmd:CI_ResponsibleParty"
        "|gmd:distributionInfo/*/gmd:distributor/*/gmd:distributorContact/gmd:CI_ResponsibleParty",
        namespaces=NS,
    )
    found: list[ContactPoint] = []
    for party in parties:
        name = text(party, "gmd:organisationName") or text(party, "gmd:individualName")
        if not name:
            continue
        email = text(party, "gmd:contactInfo/*/gmd:address/*/gmd:electronicMailAddress")
        url = party.xpath("gmd:contactInfo/*/gmd:onlineResource/*/gmd:linkage/gmd:URL/text()", namespaces=NS)
        role_code = code(party, "gmd:role/gmd:CI_RoleCode") or "pointOfContact"
        contact = ContactPoint(name=name, email=email, url=url[0].strip() if url else None, role=ROLES.get(role_code, role_code))
        if all((c.name, c.email, c.role) != (contact.name, contact.email, contact.role) for c in found):
            found.append(contact)
    return found


def spatial_of(record: etree._Element) -> dict | None:
    """Every geographic bounding box as one de-duplicated MultiPolygon (W,S → E,S → E,N → W,N → W,S)."""
    coordinates: list = []
    for box in record.xpath(f"{IDENT}/*/gmd:EX_Extent/gmd:geographicElement/gmd:EX_GeographicBoundingBox", namespaces=NS):
        try:
            west, east, south, north = (
                float(box.xpath(f"gmd:{side}/gco:Decimal/text()", namespaces=NS)[0])
                for side in ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude")
            )
        except (IndexError, ValueError):
            continue
        if not all(math.isfinite(v) for v in (west, east, south, north)):
            continue
        ring = [[[west, south], [east, south], [east, north], [west, north], [west, south]]]
        if ring not in coordinates:
            coordinates.append(ring)
    return {"type": "MultiPolygon", "coordinates": coordinates} if coordinates else None


def constraints_of(record: etree._Element) -> tuple[list[str], list[str]]:
    """(rights strings, anchor links) of the resource constraints: use limitations and other constraints."""
    rights: list[str] = []
    links: list[str] = []
    for constraint in record.xpath(f"{IDENT}/gmd:resourceConstraints/*", namespaces=NS):
        for value in texts(constraint, "gmd:useLimitation") + texts(constraint, "gmd:otherConstraints"):
            if value not in rights:
                rights.append(value)
        for href in constraint.xpath(".//gmx:Anchor/@xlink:href", namespaces=NS):
            if href.strip() and href.strip() not in links:
                links.append(href.strip())
    return rights, links


def access_of(rights: list[str], links: list[str]) -> tuple[str, str | None]:
    """(access type, reason) from INSPIRE LimitationsOnPublicAccess links or Article 13(1) mentions."""
    for link in links:
        for prefix in INSPIRE_LIMITATIONS:
            if link.startswith(prefix):
                value = link[len(prefix):].strip("/")
                if value in INSPIRE_REASONS:
                    return "restricted", INSPIRE_REASONS[value]
                if value == "noLimitations":
                    return "open", None
    for value in rights:
        if "inspire" in value.lower() or "article" in value.lower():
            match = _ARTICLE_13.search(value)
            if match:
                return "restricted", INSPIRE_REASONS[f"INSPIRE_Directive_Article13_1{match.group(1).lower()}"]
    return "open", None


def licence_candidates(rights: list[str], links: list[str]) -> list[str]:
    """Licence candidates: anchor links, then URLs found inside the free texts, then the texts themselves."""
    urls = [u.rstrip(".,;:)]") for value in rights for u in _URL.findall(value)]
    return list(dict.fromkeys([*links, *urls, *rights]))


# ------------------------------------------------------------------ resources
def _format_names(record: etree._Element) -> list[str]:
    return [n.lower() for n in texts(record, "gmd:distributionInfo/*/gmd:distributionFormat/*/gmd:name")]


def _ogc_service(protocol: str, url: str) -> str | None:
    """wms, wfs, wmts ... for an OGC protocol (`OGC:WMS`) or a GetCapabilities URL (`SERVICE=WMS`)."""
    if protocol.upper().startswith("OGC:"):
        return protocol.split(":", 1)[1].split("-")[0].strip().lower() or None
    query = {k.lower(): v for k, v in parse_qs(urlsplit(url).query).items()}
    if (query.get("request") or [""])[0].lower() == "getcapabilities":
        return (query.get("service") or ["api"])[0].lower()
    return None


def resources_of(record: etree._Element) -> list[ResourceRecord]:
    """Online resources that are data: downloads (function download/offlineAccess/order) and OGC services."""
    formats = _format_names(record)
    found: list[ResourceRecord] = []
    for online in record.xpath("gmd:distributionInfo//gmd:CI_OnlineResource", namespaces=NS):
        urls = online.xpath("gmd:linkage/gmd:URL/text()", namespaces=NS)
        url = urls[0].strip() if urls else ""
        if not is_valid_url(url):
            continue
        protocol = text(online, "gmd:protocol") or ""
        function = code(online, "gmd:function/gmd:CI_OnLineFunctionCode")
        service = _ogc_service(protocol, url)
        if service is None and function not in DOWNLOAD_FUNCTIONS:
            continue  # metadata views, documentation pages ...: not data
        name = text(online, "gmd:name") or ""
        description = text(online, "gmd:description") or ""
        found.append(
            ResourceRecord(
                url=url,
                title=name or description or url.rsplit("/", 1)[-1],
                description=html_to_markdown(description) if name else "",
                format=service if service else (formats[0] if formats else None),
                filetype="remote",
                type="api" if service else "main",
            )
        )
    return found


def _key(resource: ResourceRecord) -> tuple:
    # One OGC service URL serves many layers: the layer name (the title) tells them apart.
    if (resource.format or "") in OGC_FORMATS:
        return (resource.url, resource.title)
    return (resource.url,)


def merge_resources(dataset: DatasetRecord, fresh: list[ResourceRecord]) -> None:
    """Update the dataset's resources: matched by URL (URL + layer name for OGC services), none removed."""
    current = list(dataset.resources)
    index = {_key(r): i for i, r in enumerate(current)}
    for resource in fresh:
        resource.harvest = {"last_update": now_utc()}
        position = index.get(_key(resource))
        if position is None:
            index[_key(resource)] = len(current)
            current.append(resource)
        else:
            resource.id = current[position].id
            current[position] = resource
    dataset.resources = current


def landing_page(record: etree._Element) -> str | None:
    """The record's public page: an online resource of function `information`, or a catalogue metadata page."""
    for online in record.xpath("gmd:distributionInfo//gmd:CI_OnlineResource", namespaces=NS):
        urls = online.xpath("gmd:linkage/gmd:URL/text()", namespaces=NS)
        url = urls[0].strip() if urls else ""
        if not is_valid_url(url):
            continue
        if code(online, "gmd:function/gmd:CI_OnLineFunctionCode") == "information" or "#/metadata/" in url:
            return url
    return None


# ------------------------------------------------------------------ records
def dataset_from_iso(
    record: etree._Element,
    dataset: DatasetRecord,
    *,
    licenses: LicenseRegistry,
    remote_url_prefix: str | None = None,
) -> DatasetRecord:
    """Fill the dataset from an ISO 19139 record."""
    dataset.title = text(record, f"{IDENT}/gmd:citation/*/gmd:title") or ""
    dataset.description = html_to_markdown(text(record, f"{IDENT}/gmd:abstract") or "")
    dataset.acronym = text(record, f"{IDENT}/gmd:citation/*/gmd:alternateTitle") or None
    if dataset.acronym == dataset.title:
        dataset.acronym = None
    dataset.tags = tags_of(record)
    contacts = contacts_of(record)
    if contacts:
        dataset.contact_points = contacts
    dataset.spatial = spatial_of(record) or dataset.spatial
    rights, links = constraints_of(record)
    extras = dict(dataset.extras or {})
    if rights:
        extras["dcat"] = {**extras.get("dcat", {}), "rights": rights}
    dataset.extras = extras
    current = licenses.get(dataset.license) if dataset.license else None
    found = licenses.guess(*licence_candidates(rights, links), default=current or licenses.default_license())
    dataset.license = found.id if found else None
    dataset.access_type, dataset.access_type_reason_category = access_of(rights, links)
    if dataset.access_type != "open":
        dataset.license = None  # a restricted dataset carries no open licence
    merge_resources(dataset, resources_of(record))
    dates = citation_dates(record)
    meta = dataset.harvest
    meta.created_at, meta.issued_at = dates["creation"], dates["publication"]
    meta.modified_at = not_in_future(dates["revision"])
    meta.metadata_modified_at = _datetime(
        (record.xpath("gmd:dateStamp/gco:DateTime/text()|gmd:dateStamp/gco:Date/text()", namespaces=NS) or [None])[0]
    )
    identifier = text(record, "gmd:fileIdentifier")
    meta.dct_identifier = remote_id_of(record)
    meta.uri = meta.dct_identifier if is_valid_url(meta.dct_identifier) else None
    if remote_url_prefix and identifier:
        meta.remote_url = f"{remote_url_prefix.rstrip('/')}/{identifier}"
    else:
        meta.remote_url = landing_page(record)
    return dataset


def dataservice_from_iso(
    record: etree._Element,
    service: DataserviceRecord,
    *,
    licenses: LicenseRegistry,
    dataset_ids: dict[str, str],
) -> DataserviceRecord:
    """Fill a dataservice from an ISO 19139 service record, linked to the datasets of this job it operates on."""
    service.title = text(record, f"{IDENT}/gmd:citation/*/gmd:title") or ""
    service.description = html_to_markdown(text(record, f"{IDENT}/gmd:abstract") or "")
    service.tags = tags_of(record)
    contacts = contacts_of(record)
    if contacts:
        service.contact_points = contacts
    points = record.xpath(
        f"{IDENT}/srv:containsOperations/*/srv:connectPoint/*/gmd:linkage/gmd:URL/text()", namespaces=NS
    )
    service.base_api_url = points[0].strip() if points else service.base_api_url
    rights, links = constraints_of(record)
    current = licenses.get(service.license) if service.license else None
    found = licenses.guess(*licence_candidates(rights, links), default=current or licenses.default_license())
    service.license = found.id if found else None
    for href in record.xpath(f"{IDENT}/srv:operatesOn/@xlink:href|{IDENT}/srv:operatesOn/@uuidref", namespaces=NS):
        for remote_id, dataset_id in dataset_ids.items():
            if (href == remote_id or href.endswith(remote_id) or remote_id.endswith(href)) and dataset_id not in service.datasets:
                service.datasets.append(dataset_id)
    dates = citation_dates(record)
    meta = service.harvest
    meta.created_at, meta.issued_at = dates["creation"], dates["publication"]
    meta.modified_at = not_in_future(dates["revision"])
    meta.remote_url = landing_page(record)
    return service


__all__ = [
    "NS",
    "dataservice_from_iso",
    "dataset_from_iso",
    "is_record",
    "is_service",
    "parse_record",
    "remote_id_of",
]
