"""Catalogue records → DCAT-AP triples: the inverse of `harvest/dcat/mapping.py`, plus the data-space components.

Everything here is pure: records in, pyoxigraph triples out. What is published is only what a public catalogue
shows (no source config, no harvest bookkeeping, no internal ids but the public dataset ids).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from urllib.parse import quote

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from dataspace_assets.harvest.dcat.frequency import DC_FREQ, DC_FREQUENCIES, EU_FREQ, EU_FREQUENCIES
from dataspace_assets.harvest.dcat.mapping import EU_FILE_TYPE, INSPIRE_REASONS, is_valid_url
from dataspace_assets.harvest.dcat.tags import HVD_CATEGORIES, HVD_TAG, normalize_tag
from dataspace_assets.harvest.publish.components import PublishedComponent, PublishedFile
from dataspace_assets.harvest.publish.vocab import (
    ADMS,
    DCAT,
    DCT,
    DQV,
    GEODCAT,
    GSP,
    LOCN,
    PROV,
    RDF,
    RDFS,
    SKOS,
    SPDX,
    VCARD,
    XSD,
)
from dataspace_assets.harvest.records import ContactPoint, DataserviceRecord, DatasetRecord, ResourceRecord
from dataspace_assets.storage.parquet import MEDIA_TYPE as PARQUET_MEDIA_TYPE

Triples = Iterator[Triple]
LicenceLookup = Callable[[str], "tuple[str | None, str | None]"]  # licence id -> (url, title)

IANA = "https://www.iana.org/assignments/media-types/"
INSPIRE_ACCESS = "http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/"
OGC = "http://www.opengeospatial.org/standards/"
OM_UNITS = "http://www.ontology-of-units-of-measure.org/resource/om-2/"
SDMX_UNIT = NamedNode("http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure")
OGC_FORMATS = {"wms", "wfs", "wmts"}  # formats the harvest mapping reads from an access service's protocol
SPDX_ALGORITHMS = {"md5": "checksumAlgorithm_md5", "sha1": "checksumAlgorithm_sha1", "sha256": "checksumAlgorithm_sha256"}
ROLE_PREDICATES = {
    "contact": DCAT.contactPoint,
    "creator": DCT.creator,
    "publisher": DCT.publisher,
    "rightsHolder": DCT.rightsHolder,
    **{role: GEODCAT[role] for role in (
        "custodian", "distributor", "originator", "principalInvestigator", "processor", "resourceProvider", "user",
    )},
}
# Catalogue frequency → EU authority code: the first code the harvest mapping reads as that value.
EU_CODES: dict[str, str] = {}
for _code, _value in EU_FREQUENCIES.items():
    EU_CODES.setdefault(_value, _code)
# A schedule's period → EU frequency code (periods in between get the next slower one that exists).
PERIOD_CODES = [
    (59, "UPDATE_CONT"), (60, "1MIN"), (300, "5MIN"), (600, "10MIN"), (900, "15MIN"), (1800, "30MIN"),
    (3600, "HOURLY"), (7200, "BIHOURLY"), (10800, "TRIHOURLY"), (43200, "12HRS"), (86400, "DAILY"),
    (7 * 86400, "WEEKLY"), (14 * 86400, "BIWEEKLY"), (31 * 86400, "MONTHLY"), (92 * 86400, "QUARTERLY"),
    (366 * 86400, "ANNUAL"),
]
HVD_BY_TAG = {normalize_tag(label): iri for iri, label in HVD_CATEGORIES.items()}
INSPIRE_CODES = {category: code for code, category in INSPIRE_REASONS.items()}
# Characters XML 1.0 cannot carry (RDF/XML would be unreadable): removed from every published text.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ------------------------------------------------------------------ terms
def text(value: str | None, language: str | None = None) -> Literal | None:
    """A plain literal of a published text (characters XML cannot carry removed); None when empty."""
    if value is None:
        return None
    cleaned = _XML_INVALID.sub("", str(value)).strip()
    if not cleaned:
        return None
    return Literal(cleaned, language=language) if language else Literal(cleaned)


def iri_or_text(value: str) -> NamedNode | Literal | None:
    """An IRI when the value is a valid URL, else a literal."""
    value = str(value).strip()
    if is_valid_url(value):
        return NamedNode(value)
    return text(value)


def when(value: datetime | date | str | None) -> Literal | None:
    """An xsd:dateTime literal in UTC (an xsd:date for a date)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return Literal(moment.astimezone(timezone.utc).isoformat(), datatype=XSD.dateTime)
    return Literal(value.isoformat(), datatype=XSD.date)


def day(value: date | datetime | str | None) -> Literal | None:
    """An xsd:date literal."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return None
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    return Literal(value.isoformat(), datatype=XSD.date)


def frequency_iri(frequency: str | None) -> NamedNode | None:
    """The EU frequency authority IRI of a catalogue frequency (else its Dublin Core one); None when it has none."""
    code = EU_CODES.get(frequency or "")
    if code:
        return NamedNode(EU_FREQ + code)
    if frequency and frequency in DC_FREQUENCIES.values():
        return NamedNode(DC_FREQ + frequency)
    return None


def period_iri(seconds: int | None) -> NamedNode | None:
    """The EU frequency IRI closest (from below) to a schedule's period."""
    if not seconds or seconds <= 0:
        return None
    for limit, code in PERIOD_CODES:
        if seconds <= limit:
            return NamedNode(EU_FREQ + code)
    return NamedNode(EU_FREQ + "OTHER")


def _add(out: list[Triple], subject, predicate, obj) -> None:  # noqa: ANN001
    if obj is not None:
        out.append(Triple(subject, predicate, obj))


# ------------------------------------------------------------------ shared parts
def contact_triples(out: list[Triple], subject, contacts: list[ContactPoint]) -> None:  # noqa: ANN001
    """Contact points as vCard kinds under the predicate of their role."""
    nodes: dict[tuple, BlankNode] = {}
    for contact in contacts:
        name = text(contact.name)
        if name is None:
            continue
        key = (contact.name, contact.email, contact.url)
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = BlankNode()
            out.append(Triple(node, RDF.type, VCARD.Kind))
            out.append(Triple(node, VCARD.fn, name))
            if contact.email:
                email = contact.email.strip()
                _add(out, node, VCARD.hasEmail, NamedNode("mailto:" + quote(email, safe="@.+-_~!$&'*,;=")))
            if contact.url:
                _add(out, node, VCARD.hasURL, iri_or_text(contact.url))
        out.append(Triple(subject, ROLE_PREDICATES.get(contact.role, DCAT.contactPoint), node))


def _schema_triples(out: list[Triple], subject, schema: dict | None) -> None:  # noqa: ANN001
    if not schema:
        return
    url, name = schema.get("url"), schema.get("name")
    if url and is_valid_url(url):
        node = NamedNode(url)
        out.append(Triple(subject, DCT.conformsTo, node))
        _add(out, node, DCT.title, text(name))
    elif url:
        _add(out, subject, DCT.conformsTo, text(url))
    elif name:
        node = BlankNode()
        out.append(Triple(subject, DCT.conformsTo, node))
        out.append(Triple(node, DCT.title, text(name)))


def _rights_triples(out: list[Triple], subject, extras_dcat: dict, keys: tuple[str, ...]) -> None:  # noqa: ANN001
    predicates = {"accessRights": DCT.accessRights, "license": DCT.license, "rights": DCT.rights}
    for key in keys:
        for value in extras_dcat.get(key) or []:
            _add(out, subject, predicates[key], iri_or_text(value))


def _tag_triples(out: list[Triple], subject, tags: list[str]) -> None:  # noqa: ANN001
    for tag in tags or []:
        _add(out, subject, DCAT.keyword, text(tag))
    if HVD_TAG in (tags or []):
        for tag in tags:
            iri = HVD_BY_TAG.get(tag)
            if iri:
                out.append(Triple(subject, DCAT.theme, NamedNode(iri)))


# ------------------------------------------------------------------ datasets
def distribution_triples(out: list[Triple], dataset_node, resource: ResourceRecord) -> None:  # noqa: ANN001
    """One resource as a dcat:Distribution (an `other` resource as a `dct:hasPart` child)."""
    url = (resource.url or "").strip()
    if not url:
        return
    fmt = (resource.format or "").strip().lower() or None
    if resource.type == "other" and is_valid_url(url):
        node = NamedNode(url)  # the harvest mapping reads a hasPart child's URL from its IRI
        out.append(Triple(dataset_node, DCT.hasPart, node))
    else:
        node = BlankNode()
        out.append(Triple(dataset_node, DCAT.distribution, node))
        out.append(Triple(node, RDF.type, DCAT.Distribution))
        target = iri_or_text(url)
        if resource.type == "api":
            out.append(Triple(node, DCAT.accessURL, target))
            service = BlankNode()
            out.append(Triple(node, DCAT.accessService, service))
            out.append(Triple(service, RDF.type, DCAT.DataService))
            _add(out, service, DCAT.endpointURL, target)
            if fmt in OGC_FORMATS:
                out.append(Triple(service, GEODCAT.serviceProtocol, NamedNode(OGC + fmt)))
        else:
            out.append(Triple(node, DCAT.downloadURL, target))
            out.append(Triple(node, DCAT.accessURL, target))
    _add(out, node, DCT.title, text(resource.title))
    _add(out, node, DCT.description, text(resource.description))
    if fmt:
        _add(out, node, DCT["format"], text(fmt))
    mime = (resource.mime or "").strip()
    if mime and re.fullmatch(r"[\w.+-]+/[\w.+-]+", mime):
        out.append(Triple(node, DCAT.mediaType, NamedNode(IANA + mime)))
    elif mime:
        _add(out, node, DCAT.mediaType, text(mime))
    if resource.filesize is not None and resource.filesize >= 0:
        out.append(Triple(node, DCAT.byteSize, Literal(str(int(resource.filesize)), datatype=XSD.nonNegativeInteger)))
    checksum = resource.checksum
    if checksum and checksum.type in SPDX_ALGORITHMS and checksum.value:
        _checksum_triples(out, node, checksum.type, checksum.value)
    _schema_triples(out, node, resource.schema)
    _rights_triples(out, node, (resource.extras or {}).get("dcat") or {}, ("accessRights", "license", "rights"))
    harvest = resource.harvest or {}
    _add(out, node, DCT.issued, when(harvest.get("issued_at")))
    _add(out, node, DCT.modified, when(harvest.get("modified_at")))


def _licence_triples(
    out: list[Triple], node, dataset: DatasetRecord, extras_dcat: dict, licence: LicenceLookup, guess  # noqa: ANN001
) -> None:
    """The licence IRI, unless the source's own single licence value already reads back as the same licence."""
    own = list(extras_dcat.get("license") or [])
    if len(own) == 1 and dataset.license and guess(own[0]) == dataset.license:
        _add(out, node, DCT.license, iri_or_text(own[0]))
        return
    if not dataset.license or dataset.access_type not in (None, "open"):
        # No licence of ours: a restricted dataset carries none; the source's own values are shown as they were.
        _rights_triples(out, node, extras_dcat, ("license",))
        return
    url, _title = licence(dataset.license)
    out.append(Triple(node, DCT.license, NamedNode(url) if url and is_valid_url(url) else Literal(dataset.license)))


def _access_triples(out: list[Triple], node, dataset: DatasetRecord, extras_dcat: dict) -> None:  # noqa: ANN001
    _rights_triples(out, node, extras_dcat, ("accessRights", "rights"))
    code = INSPIRE_CODES.get(dataset.access_type_reason_category or "")
    if dataset.access_type == "restricted" and code:
        values = [*(extras_dcat.get("accessRights") or []), *(extras_dcat.get("rights") or [])]
        if not any(v.rstrip("/").endswith(code) for v in values):
            out.append(Triple(node, DCT.accessRights, NamedNode(INSPIRE_ACCESS + code)))


def _spatial_triples(out: list[Triple], node, spatial: dict | None) -> None:  # noqa: ANN001
    geom = (spatial or {}).get("geom")
    if not geom:
        return
    location = BlankNode()
    out.append(Triple(node, DCT.spatial, location))
    out.append(Triple(location, RDF.type, DCT.Location))
    out.append(Triple(location, LOCN.geometry, Literal(json.dumps(geom, separators=(",", ":")), datatype=GSP.geoJSONLiteral)))


def _resolution_triples(out: list[Triple], node, resolution: str | None) -> None:  # noqa: ANN001
    """"N m" as dcat:spatialResolutionInMeters; a scale "1/N" or another unit as a GeoDCAT-AP DQV measurement."""
    value = str(resolution or "").strip()
    if match := re.fullmatch(r"([\d.]+)\s*m", value):
        out.append(Triple(node, DCAT.spatialResolutionInMeters, Literal(match[1], datatype=XSD.decimal)))
        return
    scale = re.fullmatch(r"1\s*/\s*([\d.]+)", value)
    distance = re.fullmatch(r"([\d.]+)\s*(km|ft)", value)
    if not (scale or distance):
        return
    measurement = BlankNode()
    out.append(Triple(node, DQV.hasQualityMeasurement, measurement))
    out.append(Triple(measurement, RDF.type, DQV.QualityMeasurement))
    metric = "spatialResolutionAsScale" if scale else "spatialResolutionAsDistance"
    out.append(Triple(measurement, DQV.isMeasurementOf, GEODCAT[metric]))
    number = (scale or distance)[1]
    out.append(Triple(measurement, DQV.value, Literal(number, datatype=XSD.decimal)))
    if distance:
        unit = {"km": "kilometre", "ft": "foot"}[distance[2]]
        out.append(Triple(measurement, SDMX_UNIT, NamedNode(OM_UNITS + unit)))


def _temporal_triples(out: list[Triple], node, start, end) -> None:  # noqa: ANN001
    if start is None and end is None:
        return
    period = BlankNode()
    out.append(Triple(node, DCT.temporal, period))
    out.append(Triple(period, RDF.type, DCT.PeriodOfTime))
    _add(out, period, DCAT.startDate, day(start))
    _add(out, period, DCAT.endDate, day(end))


def dataset_triples(
    dataset: DatasetRecord, node: NamedNode, *, licence: LicenceLookup, guess: Callable[[str], str | None]
) -> list[Triple]:
    """Every triple of one harvested dataset, its resources and its contact points."""
    out: list[Triple] = [Triple(node, RDF.type, DCAT.Dataset)]
    _add(out, node, DCT.identifier, Literal(str(dataset.id)))
    meta = dataset.harvest
    original = meta.dct_identifier or meta.remote_id if meta else None
    if original and original != dataset.id:
        other = BlankNode()  # the identifier the source gave, kept beside ours
        out.append(Triple(node, ADMS.identifier, other))
        out.append(Triple(other, RDF.type, ADMS.Identifier))
        _add(out, other, SKOS.notation, text(original))
    _add(out, node, DCT.title, text(dataset.title))
    _add(out, node, DCT.description, text(dataset.description))
    _add(out, node, SKOS.altLabel, text(dataset.acronym))
    _tag_triples(out, node, dataset.tags)
    _add(out, node, DCT.accrualPeriodicity, frequency_iri(dataset.frequency))
    coverage = dataset.temporal_coverage or {}
    _temporal_triples(out, node, coverage.get("start"), coverage.get("end"))
    _spatial_triples(out, node, dataset.spatial)
    _schema_triples(out, node, dataset.schema)
    contact_triples(out, node, dataset.contact_points)
    extras_dcat = (dataset.extras or {}).get("dcat") or {}
    _licence_triples(out, node, dataset, extras_dcat, licence, guess)
    _access_triples(out, node, dataset, extras_dcat)
    for value in extras_dcat.get("provenance") or []:
        statement = BlankNode()
        out.append(Triple(node, DCT.provenance, statement))
        out.append(Triple(statement, RDF.type, DCT.ProvenanceStatement))
        _add(out, statement, RDFS.label, text(value))
    _resolution_triples(out, node, extras_dcat.get("spatial_resolution"))
    if meta:
        if meta.remote_url and is_valid_url(meta.remote_url):
            out.append(Triple(node, DCAT.landingPage, NamedNode(meta.remote_url)))
        _add(out, node, DCT.created, when(meta.created_at))
        _add(out, node, DCT.issued, when(meta.issued_at))
        _add(out, node, DCT.modified, when(meta.modified_at))
    for resource in dataset.resources:
        distribution_triples(out, node, resource)
    return out


# ------------------------------------------------------------------ dataservices
def dataservice_triples(
    service: DataserviceRecord,
    node: NamedNode,
    served: list[tuple[NamedNode, str]],
    *,
    licence: LicenceLookup,
) -> list[Triple]:
    """One dataservice; each served dataset by IRI, with its identifier so a harvester can match it on any page."""
    out: list[Triple] = [Triple(node, RDF.type, DCAT.DataService)]
    _add(out, node, DCT.identifier, Literal(str(service.id)))
    _add(out, node, DCT.title, text(service.title))
    _add(out, node, DCT.description, text(service.description))
    if service.base_api_url:
        _add(out, node, DCAT.endpointURL, iri_or_text(service.base_api_url))
    if service.machine_documentation_url:
        _add(out, node, DCAT.endpointDescription, iri_or_text(service.machine_documentation_url))
    _tag_triples(out, node, service.tags)
    contact_triples(out, node, service.contact_points)
    if service.license:
        url, _title = licence(service.license)
        out.append(Triple(node, DCT.license, NamedNode(url) if url and is_valid_url(url) else Literal(service.license)))
    for dataset_node, identifier in served:
        out.append(Triple(node, DCAT.servesDataset, dataset_node))
        out.append(Triple(dataset_node, DCT.identifier, Literal(identifier)))
    meta = service.harvest
    if meta:
        if meta.remote_url and is_valid_url(meta.remote_url):
            out.append(Triple(node, DCAT.landingPage, NamedNode(meta.remote_url)))
        _add(out, node, DCT.created, when(meta.created_at))
        _add(out, node, DCT.issued, when(meta.issued_at))
        _add(out, node, DCT.modified, when(meta.modified_at))
    return out


# ------------------------------------------------------------------ data-space components
def component_triples(component: PublishedComponent, node: NamedNode, base_url: str) -> list[Triple]:
    """A collector, harvester or twin output as a dcat:Dataset with its routes as distributions."""
    out: list[Triple] = [Triple(node, RDF.type, DCAT.Dataset)]
    _add(out, node, DCT.identifier, Literal(component.key))
    _add(out, node, DCT.title, text(component.title))
    _add(out, node, DCT.description, text(component.description))
    _add(out, node, DCT.type, text(component.kind))
    for tag in component.tags:
        _add(out, node, DCAT.keyword, text(tag))
    _add(out, node, DCT.accrualPeriodicity, period_iri(component.period_seconds))
    _temporal_triples(out, node, component.first_item, component.last_item)
    _add(out, node, DCT.modified, when(component.last_item))
    routes = [
        (component.route, f"{component.title}: items", False),
        (component.latest_route, f"{component.title}: latest item", True),
    ]
    for route, title, download in routes:
        if not route:
            continue
        distribution = _route_distribution(out, node, base_url, route, title, download)
        _add(out, distribution, DCT["format"], text(component.data_format))
        if component.media_type:
            out.append(Triple(distribution, DCAT.mediaType, NamedNode(IANA + component.media_type)))
    for item in component.parquet_files:
        parquet_distribution_triples(out, node, base_url, component.title, item)
    for key in component.derived_from:
        out.append(Triple(node, PROV.wasDerivedFrom, NamedNode(dataset_iri(base_url, key))))
    if component.generated_by:
        twin = f"{base_url.rstrip('/')}/twins/{quote(component.generated_by, safe='')}"
        activity = NamedNode(f"{twin}#run")
        out.append(Triple(node, PROV.wasGeneratedBy, activity))
        out.append(Triple(activity, RDF.type, PROV.Activity))
        out.append(Triple(activity, RDFS.label, Literal(f"a run of the twin {component.generated_by}")))
        for used in component.used:
            if "/" in used:  # a component key: the published dataset it names
                out.append(Triple(activity, PROV.used, NamedNode(dataset_iri(base_url, used))))
            else:
                # Named per twin input, so the outputs of one twin describe the same run and inputs once.
                entity = NamedNode(f"{twin}#input-{quote(used, safe='')}")
                out.append(Triple(activity, PROV.used, entity))
                out.append(Triple(entity, RDF.type, PROV.Entity))
                out.append(Triple(entity, RDFS.label, Literal(used)))
    return out


def _route_distribution(
    out: list[Triple], node, base_url: str, route: str, title: str, download: bool  # noqa: ANN001
) -> BlankNode:
    """A dcat:Distribution at one server route (also its download URL when it answers with the data itself)."""
    url = NamedNode(base_url.rstrip("/") + "/" + route.lstrip("/"))
    distribution = BlankNode()
    out.append(Triple(node, DCAT.distribution, distribution))
    out.append(Triple(distribution, RDF.type, DCAT.Distribution))
    out.append(Triple(distribution, DCAT.accessURL, url))
    if download:
        out.append(Triple(distribution, DCAT.downloadURL, url))
    out.append(Triple(distribution, DCT.title, Literal(title)))
    return distribution


def _checksum_triples(out: list[Triple], node, algorithm: str, value: str) -> None:  # noqa: ANN001
    """An spdx:Checksum of a distribution (`algorithm` one of SPDX_ALGORITHMS' keys)."""
    check = BlankNode()
    out.append(Triple(node, SPDX.checksum, check))
    out.append(Triple(check, RDF.type, SPDX.Checksum))
    out.append(Triple(check, SPDX.algorithm, SPDX[SPDX_ALGORITHMS[algorithm]]))
    out.append(Triple(check, SPDX.checksumValue, Literal(value, datatype=XSD.hexBinary)))


def parquet_distribution_triples(
    out: list[Triple], node, base_url: str, title: str, item: PublishedFile  # noqa: ANN001
) -> None:
    """One Parquet file: its download URL, IANA media type, EU file type, byte size, SHA-256 and window."""
    keys = ", ".join(f"{k}={v}" for k, v in item.keys.items())
    start, end = (moment.astimezone(timezone.utc) for moment in (item.start, item.end))
    span = f"{start:%Y-%m-%dT%H:%M}Z to {end:%Y-%m-%dT%H:%M}Z"
    label = f"{title}: Parquet, {item.level} window {span}" + (f" ({keys})" if keys else "")
    distribution = _route_distribution(out, node, base_url, item.route, label, True)
    out.append(Triple(distribution, DCT["format"], NamedNode(EU_FILE_TYPE + "PARQUET")))
    out.append(Triple(distribution, DCAT.mediaType, NamedNode(IANA + PARQUET_MEDIA_TYPE)))
    out.append(Triple(distribution, DCAT.byteSize, Literal(str(int(item.byte_size)), datatype=XSD.nonNegativeInteger)))
    if item.sha256:
        _checksum_triples(out, distribution, "sha256", item.sha256)
    period = BlankNode()  # the window to the second: an hourly file's dates alone would not tell it apart
    out.append(Triple(distribution, DCT.temporal, period))
    out.append(Triple(period, RDF.type, DCT.PeriodOfTime))
    _add(out, period, DCAT.startDate, when(item.start))
    _add(out, period, DCAT.endDate, when(item.end))


def dataset_iri(base_url: str, identifier: str) -> str:
    """The public IRI of a published dataset (a component key keeps its slashes)."""
    return f"{base_url.rstrip('/')}/datasets/{quote(identifier, safe='/')}"


def dataservice_iri(base_url: str, identifier: str) -> str:
    """The public IRI of a published dataservice."""
    return f"{base_url.rstrip('/')}/dataservices/{quote(identifier, safe='')}"


__all__ = [
    "component_triples",
    "dataservice_iri",
    "dataservice_triples",
    "dataset_iri",
    "dataset_triples",
    "distribution_triples",
    "frequency_iri",
    "parquet_distribution_triples",
    "period_iri",
]
