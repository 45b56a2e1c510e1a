"""DCAT graph → catalogue records: datasets, resources and dataservices (spec 2.3–2.9)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from urllib.parse import urlsplit

from dateutil import parser as dateparser
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from dataspace_assets.harvest.dcat.contacts import contacts_from_rdf
from dataspace_assets.harvest.dcat.frequency import frequency_from_rdf
from dataspace_assets.harvest.dcat.oxigraph import TripleGraph
from dataspace_assets.harvest.dcat.namespaces import (
    DCAT,
    DCT,
    DQV,
    FOAF,
    GEODCAT,
    RDF,
    RDFS,
    SKOS,
    SPDX,
)
from dataspace_assets.harvest.dcat.spatial import spatial_from_rdf
from dataspace_assets.harvest.dcat.tags import tags_from_rdf
from dataspace_assets.harvest.dcat.temporal import temporal_from_rdf
from dataspace_assets.harvest.dcat.text import html_to_markdown
from dataspace_assets.harvest.licenses import LicenseRegistry
from dataspace_assets.harvest.records import Checksum, DataserviceRecord, DatasetRecord, ResourceRecord

log = logging.getLogger("dataspace_assets.harvest")

DEFAULT_LANGUAGE = "fr"  # the language the fixtures' expected values assume (udata's test configuration)
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA_MEDIA_TYPES = ("https://www.iana.org/assignments/media-types/", "http://www.iana.org/assignments/media-types/")
OGC_STANDARDS = ("http://www.opengeospatial.org/standards/", "https://www.opengeospatial.org/standards/")
OGC_FORMATS = {"wfs", "wms", "wmts"}
CHECKSUM_ALGORITHMS = {"checksumAlgorithm_md5": "md5", "checksumAlgorithm_sha1": "sha1", "checksumAlgorithm_sha256": "sha256"}
INSPIRE_LIMITATIONS = (
    "http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/",
    "http://inspire.ec.europa.eu/metadatacodelist/LimitationsOnPublicAccess/",
    "https://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/",
)
# INSPIRE Directive article 13(1) grounds for limiting public access → access_type_reason_category.
INSPIRE_REASONS = {
    "INSPIRE_Directive_Article13_1a": "public-authorities-proceedings",
    "INSPIRE_Directive_Article13_1b": "international-relations-public-security-defence",
    "INSPIRE_Directive_Article13_1c": "course-of-justice",
    "INSPIRE_Directive_Article13_1d": "commercial-confidentiality",
    "INSPIRE_Directive_Article13_1e": "intellectual-property",
    "INSPIRE_Directive_Article13_1f": "personal-data",
    "INSPIRE_Directive_Article13_1g": "voluntary-supplier-protection",
    "INSPIRE_Directive_Article13_1h": "environmental-protection",
}
TRANSLATIONS = {
    "fr": {"nameless": "Ressource sans nom", "format": "Ressource {format}"},
    "en": {"nameless": "Nameless resource", "format": "{format} resource"},
}
SDMX_UNIT = URIRef("http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure")
_SPACE = re.compile(r"\s")
_IP_HOST = re.compile(r"[\d.]+|\[?[0-9a-f:]+\]?")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


@dataclass(frozen=True)
class MappingOptions:
    """Switches of the mapping, from the source config."""

    default_language: str = DEFAULT_LANGUAGE
    hvd_support: bool = True
    inspire_support: bool = True
    remote_url_prefix: str | None = None

    @classmethod
    def from_config(cls, config: dict | None) -> "MappingOptions":
        """Options from a source config (`default_language`, `hvd_support`, `inspire_support`)."""
        config = config or {}
        return cls(
            default_language=str(config.get("default_language") or DEFAULT_LANGUAGE),
            hvd_support=bool(config.get("hvd_support", True)),
            inspire_support=bool(config.get("inspire_support", True)),
        )


# ------------------------------------------------------------------ small readers
class NodeCache:
    """A read-only view of a graph that reads each subject's properties once (mapping asks ~100 questions per node)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._props: dict[Node, dict[Node, list[Node]]] = {}

    def _of(self, subject: Node) -> dict[Node, list[Node]]:
        props = self._props.get(subject)
        if props is None:
            props = {}
            for predicate, obj in self.graph.predicate_objects(subject):
                props.setdefault(predicate, []).append(obj)
            self._props[subject] = props
        return props

    def objects(self, subject: Node | None = None, predicate: Node | None = None, unique: bool = False):  # noqa: ANN201
        if subject is None or predicate is None:
            return self.graph.objects(subject, predicate, unique)
        return iter(self._of(subject).get(predicate, ()))

    def value(self, subject=None, predicate=RDF.value, object=None, default=None, any=True):  # noqa: A002, ANN001, ANN201
        if subject is None or object is not None or predicate is None:
            return self.graph.value(subject, predicate, object, default, any)
        values = self._of(subject).get(predicate)
        return values[0] if values else default

    def predicate_objects(self, subject: Node, unique: bool = False):  # noqa: ANN201
        return ((p, o) for p, values in self._of(subject).items() for o in values)

    def __contains__(self, triple: tuple) -> bool:
        subject, predicate, obj = triple
        if subject is not None and predicate is not None and obj is None:
            return bool(self._of(subject).get(predicate))
        return triple in self.graph

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.graph, name)


def cached(graph: Graph | NodeCache | TripleGraph) -> NodeCache | TripleGraph:
    """The graph behind a per-record property cache (an Oxigraph page is indexed by subject already)."""
    return graph if isinstance(graph, (NodeCache, TripleGraph)) else NodeCache(graph)


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def value_in_language(graph: Graph, node: Node, predicate: URIRef, language: str) -> Node | None:
    """The value tagged with the default language when there are several, else the first one."""
    first = None
    for value in graph.objects(node, predicate):
        if first is None:
            first = value
        if isinstance(value, Literal) and value.language and value.language.lower().split("-")[0] == language:
            return value
    return first


def text_in_language(graph: Graph, node: Node, predicate: URIRef, language: str) -> str | None:
    """The default-language literal text of a property, or None when absent or not a literal."""
    value = value_in_language(graph, node, predicate, language)
    return str(value).strip() if isinstance(value, Literal) else None


def to_datetime(value: Node | None) -> datetime | None:
    """A timezone-aware UTC datetime from a date/datetime literal; None when unreadable."""
    if value is None or not isinstance(value, Literal):
        return None
    native = value.toPython()
    if not isinstance(native, (datetime, date)):
        text = str(value).strip()
        if not text:
            return None
        try:
            native = dateparser.parse(text)
        except (ValueError, OverflowError):
            return None
    if not isinstance(native, datetime):
        native = datetime.combine(native, time.min)
    if native.tzinfo is None:
        return native.replace(tzinfo=timezone.utc)
    return native.astimezone(timezone.utc)


def not_in_future(value: datetime | None) -> datetime | None:
    """The datetime, or None when it lies in the future."""
    return value if value is None or value <= now_utc() else None


def is_valid_url(value: str | None) -> bool:
    """Whether a string is an absolute http(s)/ftp URL with a plausible host and no whitespace."""
    if not value or _SPACE.search(value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https", "ftp", "ftps") or not host:
        return False
    if host == "localhost" or _IP_HOST.fullmatch(host):
        return True
    labels = host.rstrip(".").split(".")
    return len(labels) >= 2 and all(_HOST_LABEL.match(label) for label in labels) and labels[-1].isalpha()


def term_texts(graph: Graph, term: Node) -> list[str]:
    """Strings standing for a term: a literal's text; a resource's label or description, else its IRI."""
    if isinstance(term, Literal):
        text = str(term).strip()
        return [text] if text else []
    texts = [
        str(v).strip()
        for p in (RDFS.label, DCT.description, DCT.title, SKOS.prefLabel)
        for v in graph.objects(term, p)
        if str(v).strip()
    ]
    if isinstance(term, URIRef):
        texts.append(str(term))
    return texts


def _list_values(graph: Graph, node: Node, predicate: URIRef) -> list[str]:
    """A property's values as strings, for extras (a resource gives its label, else its IRI)."""
    values = []
    for term in graph.objects(node, predicate):
        texts = term_texts(graph, term)
        if texts and texts[0] not in values:
            values.append(texts[0])
    return values


def _datetimes(graph: Graph, node: Node) -> dict[str, datetime | None]:
    return {
        "created_at": to_datetime(graph.value(node, DCT.created)),
        "issued_at": to_datetime(graph.value(node, DCT.issued)),
        "modified_at": not_in_future(to_datetime(graph.value(node, DCT.modified))),
    }


def remote_url_of(graph: Graph, node: Node, prefix: str | None = None, identifier: str | None = None) -> str | None:
    """The record's public page: prefix + id (CSW), else a valid landing page, else a valid node IRI."""
    if prefix and identifier:
        return f"{prefix.rstrip('/')}/{identifier}"
    landing = graph.value(node, DCAT.landingPage)
    if landing is not None and is_valid_url(str(landing).strip()):
        return str(landing).strip()
    if isinstance(node, URIRef) and is_valid_url(str(node)):
        return str(node)
    return None


def schema_from_rdf(graph: Graph, node: Node) -> dict | None:
    """`dct:conformsTo` → {"url"[, "name"]}."""
    for term in graph.objects(node, DCT.conformsTo):
        if isinstance(term, Literal):
            text = str(term).strip()
            if text:
                return {"url": text}
            continue
        title = graph.value(term, DCT.title)
        url = str(term) if isinstance(term, URIRef) else None
        if url is None:
            kind = graph.value(term, DCT.type)
            url = str(kind) if isinstance(kind, URIRef) else None
        if url or title:
            schema: dict = {"url": url}
            if title is not None:
                schema["name"] = str(title)
            return schema
    return None


# ------------------------------------------------------------------ resources
def _format_text(graph: Graph, term: Node) -> str | None:
    if isinstance(term, Literal):
        text = str(term).strip()
        return text.lower() or None
    label = graph.value(term, RDFS.label)
    if label is not None and str(label).strip():
        text = str(label).strip()
    elif isinstance(term, BNode):
        return str(term).lower()  # quirk kept from the reference: an unlabelled blank node gives its id
    else:
        text = str(term)
    if text.startswith(EU_FILE_TYPE):
        return text[len(EU_FILE_TYPE):].lower()
    for prefix in IANA_MEDIA_TYPES:
        if text.startswith(prefix):
            return text.rstrip("/").rsplit("/", 1)[-1].lower()
    return text.lower()


def _ogc_format(graph: Graph, distribution: Node) -> str | None:
    for service in graph.objects(distribution, DCAT.accessService):
        for predicate in (GEODCAT.serviceProtocol, DCT.conformsTo):
            for value in graph.objects(service, predicate):
                text = str(value)
                if text.startswith(OGC_STANDARDS):
                    return text.rstrip("/").rsplit("/", 1)[-1].lower()
    return None


def resource_format(graph: Graph, distribution: Node) -> str | None:
    """The format: OGC service protocol, else `dct:format` reduced to a short lower-case name."""
    ogc = _ogc_format(graph, distribution)
    if ogc:
        return ogc
    term = graph.value(distribution, DCT["format"])
    return _format_text(graph, term) if term is not None else None


def resource_mime(graph: Graph, distribution: Node) -> str | None:
    """`dcat:mediaType` without the IANA prefix."""
    term = graph.value(distribution, DCAT.mediaType)
    if term is None:
        return None
    if not isinstance(term, Literal):
        label = graph.value(term, RDFS.label)
        text = str(label) if label is not None else (str(term) if isinstance(term, URIRef) else "")
    else:
        text = str(term)
    for prefix in IANA_MEDIA_TYPES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.strip() or None


def checksum_from_rdf(graph: Graph, distribution: Node) -> Checksum | None:
    """An spdx checksum with md5, sha1 or sha256; any other algorithm gives None."""
    node = graph.value(distribution, SPDX.checksum)
    if node is None:
        return None
    algorithm = graph.value(node, SPDX.algorithm)
    value = graph.value(node, SPDX.checksumValue)
    if algorithm is None or value is None:
        return None
    local = str(algorithm).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    kind = CHECKSUM_ALGORITHMS.get(local)
    return Checksum(type=kind, value=str(value).strip()) if kind else None


def _resource_title(url: str, fmt: str | None, language: str) -> str:
    words = TRANSLATIONS.get(language, TRANSLATIONS["en"])
    last = url.rstrip("/").rsplit("/", 1)[-1] if "/" in url else url
    if "." in last and "?" not in last:
        return last
    if fmt:
        return words["format"].format(format=fmt.lower())
    return words["nameless"]


def _url_of(graph: Graph, distribution: Node) -> str | None:
    for predicate in (DCAT.downloadURL, DCAT.accessURL):
        for value in graph.objects(distribution, predicate):
            text = str(value).strip()
            if text:
                return text
    return None


def _dcat_extras(graph: Graph, node: Node) -> dict:
    extras = {}
    for key, predicate in (("accessRights", DCT.accessRights), ("license", DCT.license), ("rights", DCT.rights)):
        values = _list_values(graph, node, predicate)
        if values:
            extras[key] = values
    return extras


def resource_from_rdf(
    graph: Graph,
    distribution: Node,
    resource: ResourceRecord | None = None,
    *,
    default_language: str = DEFAULT_LANGUAGE,
    is_additional: bool = False,
) -> ResourceRecord | None:
    """Fill a resource from a distribution (or a `dct:hasPart` child); None when it has no URL."""
    if is_additional:
        if not isinstance(distribution, URIRef):
            return None  # a blank-node part has no address
        url = str(distribution)
    else:
        url = _url_of(graph, distribution)
    if not url:
        return None
    resource = resource or ResourceRecord(url=url)
    previous_type = resource.type if resource.id else None
    fmt = resource_format(graph, distribution)
    resource.url = url
    resource.format = fmt
    resource.mime = resource_mime(graph, distribution)
    resource.title = text_in_language(graph, distribution, DCT.title, default_language) or _resource_title(
        url, fmt, default_language
    )
    description = value_in_language(graph, distribution, DCT.description, default_language)
    resource.description = html_to_markdown(str(description)) if isinstance(description, Literal) else ""
    size = graph.value(distribution, DCAT.byteSize)
    try:
        resource.filesize = int(float(str(size))) if size is not None else None
    except ValueError:
        resource.filesize = None
    resource.filetype = "remote"
    if (distribution, DCAT.accessService, None) in graph:
        resource.type = "api"
    elif is_additional:
        resource.type = "other"
    else:
        resource.type = previous_type or "main"
    resource.checksum = checksum_from_rdf(graph, distribution)
    resource.schema = schema_from_rdf(graph, distribution)
    dcat_extras = _dcat_extras(graph, distribution)
    extras = dict(resource.extras or {})
    if dcat_extras:
        extras["dcat"] = dcat_extras
    else:
        extras.pop("dcat", None)
    resource.extras = extras
    dates = _datetimes(graph, distribution)
    identifier = graph.value(distribution, DCT.identifier)
    resource.harvest = {
        **(resource.harvest or {}),
        "issued_at": dates["issued_at"],
        "modified_at": dates["modified_at"],
        "last_update": now_utc(),
        "uri": str(distribution) if isinstance(distribution, URIRef) else None,
        "dct_identifier": str(identifier) if identifier is not None else None,
    }
    return resource


def _resource_key(resource: ResourceRecord) -> tuple:
    # GeoNetwork emits one distribution per layer sharing a GetCapabilities URL: the title tells them apart.
    if (resource.format or "").lower() in OGC_FORMATS:
        return (resource.url, resource.title)
    return (resource.url,)


def _match(resources: list[ResourceRecord], url: str, title_probe: ResourceRecord | None = None) -> int | None:
    for index, existing in enumerate(resources):
        if existing.url != url:
            continue
        if title_probe is not None and (title_probe.format or "").lower() in OGC_FORMATS:
            if existing.title != title_probe.title:
                continue
        return index
    return None


def _merge_resources(graph: Graph, node: Node, dataset: DatasetRecord, language: str) -> None:
    """Update the dataset's resources in place: matched by URL (URL + title for OGC services), never removed."""
    resources = list(dataset.resources)
    distributions = [*graph.objects(node, DCAT.distribution), *graph.objects(node, DCAT.distributions)]
    entries = [(d, False) for d in dict.fromkeys(distributions)] + [
        (p, True) for p in dict.fromkeys(graph.objects(node, DCT.hasPart))
    ]
    for distribution, additional in entries:
        probe = resource_from_rdf(graph, distribution, None, default_language=language, is_additional=additional)
        if probe is None:
            continue
        index = _match(resources, probe.url, probe)
        if index is None:
            resources.append(probe)
            continue
        existing = resources[index]
        mapped = resource_from_rdf(graph, distribution, existing, default_language=language, is_additional=additional)
        if mapped is not None:
            resources[index] = mapped
    dataset.resources = resources


# ------------------------------------------------------------------ datasets
def _distribution_nodes(graph: Graph, node: Node) -> list[Node]:
    # `dcat:distributions` is a misspelling real catalogues use.
    return list(dict.fromkeys([*graph.objects(node, DCAT.distribution), *graph.objects(node, DCAT.distributions)]))


def _inspire_access(values: list[str]) -> tuple[str | None, str | None]:
    """(access_type, reason category) from INSPIRE LimitationsOnPublicAccess values."""
    for value in values:
        for prefix in INSPIRE_LIMITATIONS:
            if value.startswith(prefix):
                code = value[len(prefix):].strip("/")
                if code in INSPIRE_REASONS:
                    return "restricted", INSPIRE_REASONS[code]
                if code == "noLimitations":
                    return "open", None
    return None, None


def licence_candidates(graph: Graph, node: Node) -> list[str]:
    """Licence strings in the order of spec 2.7: dataset license, dataset rights, then distributions' licences."""
    candidates: list[str] = []
    for predicate in (DCT.license, DCT.rights):
        for term in graph.objects(node, predicate):
            candidates += term_texts(graph, term)
    for distribution in _distribution_nodes(graph, node):
        for term in graph.objects(distribution, DCT.license):
            candidates += term_texts(graph, term)
    return list(dict.fromkeys(candidates))


DQV_SCALE = "http://data.europa.eu/930/spatialResolutionAsScale"
DQV_DISTANCE = "http://data.europa.eu/930/spatialResolutionAsDistance"
UNITS = {"metre": "m", "meter": "m", "m": "m", "kilometre": "km", "kilometer": "km", "km": "km", "foot": "ft", "ft": "ft"}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _as_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _dqv_resolution(graph: Graph, node: Node) -> str | None:
    """A DQV measurement of the resolution: a scale 0.0001 → "1/10000", a distance → "N m" (or ft, km)."""
    for measurement in graph.objects(node, DQV.hasQualityMeasurement):
        metric = str(graph.value(measurement, DQV.isMeasurementOf) or "")
        value = graph.value(measurement, DQV.value)
        number = _number(str(value)) if value is not None else None
        if number is None or number <= 0:
            continue
        if metric == DQV_SCALE:
            denominator = 1 / number if number < 1 else number
            return f"1/{_as_text(round(denominator, 6))}"
        if metric == DQV_DISTANCE:
            unit_term = graph.value(measurement, SDMX_UNIT) or graph.value(measurement, DQV.unit)
            unit = UNITS.get(str(unit_term or "m").rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower(), "m")
            return f"{_as_text(number)} {unit}"
    return None


def _spatial_resolution(graph: Graph, node: Node) -> str | None:
    values = []
    for term in graph.objects(node, DCAT.spatialResolutionInMeters):
        try:
            values.append(float(str(term)))
        except ValueError:
            continue
    if not values:
        return _dqv_resolution(graph, node)
    best = max(values)
    return f"{int(best) if best.is_integer() else best} m"


def dataset_from_rdf(
    graph: Graph,
    node: Node,
    dataset: DatasetRecord | None = None,
    *,
    licenses: LicenseRegistry | None = None,
    default_language: str = DEFAULT_LANGUAGE,
    hvd_support: bool = True,
    inspire_support: bool = True,
    remote_url_prefix: str | None = None,
    remote_url_identifier: str | None = None,
) -> DatasetRecord:
    """Fill a dataset (new or already harvested) from a dcat:Dataset node."""
    dataset = dataset or DatasetRecord()
    licenses = licenses or LicenseRegistry.default()
    language = default_language
    graph = cached(graph)

    title = text_in_language(graph, node, DCT.title, language)
    if title:
        dataset.title = title
    description = value_in_language(graph, node, DCT.description, language)
    if description is None:
        description = value_in_language(graph, node, DCT.abstract, language)
    dataset.description = html_to_markdown(str(description)) if isinstance(description, Literal) else ""
    dataset.tags = tags_from_rdf(graph, node, hvd_support=hvd_support, inspire_support=inspire_support)
    frequency = frequency_from_rdf(graph.value(node, DCT.accrualPeriodicity))
    if frequency:
        dataset.frequency = frequency
    dataset.temporal_coverage = None
    for term in graph.objects(node, DCT.temporal):
        coverage = temporal_from_rdf(graph, term)
        if coverage:
            dataset.temporal_coverage = coverage
            break
    spatial = spatial_from_rdf(graph, list(graph.objects(node, DCT.spatial)))
    # udata's SpatialCoverage: no zone is guessed, and the granularity is "other" until one is set.
    dataset.spatial = {"geom": spatial, "zones": [], "granularity": "other"} if spatial else None
    acronym = graph.value(node, SKOS.altLabel)
    dataset.acronym = str(acronym) if acronym is not None else None
    dataset.schema = schema_from_rdf(graph, node)
    contacts = contacts_from_rdf(graph, node)
    if contacts:
        dataset.contact_points = contacts

    # extras.dcat: the dataset's own lists, else the distributions' when they all agree.
    dcat_extras = _dcat_extras(graph, node)
    distributions = _distribution_nodes(graph, node)
    for key, predicate in (("accessRights", DCT.accessRights), ("license", DCT.license), ("rights", DCT.rights)):
        if key in dcat_extras or not distributions:
            continue
        lists = [_list_values(graph, d, predicate) for d in distributions]
        if lists[0] and all(values == lists[0] for values in lists):
            dcat_extras[key] = lists[0]
    provenance = _list_values(graph, node, DCT.provenance)
    if provenance:
        dcat_extras["provenance"] = provenance
    resolution = _spatial_resolution(graph, node)
    if resolution:
        dcat_extras["spatial_resolution"] = resolution
    extras = dict(dataset.extras or {})
    if dcat_extras:
        extras["dcat"] = dcat_extras
    else:
        extras.pop("dcat", None)
    dataset.extras = extras

    current = licenses.get(dataset.license) if dataset.license else None
    found = licenses.guess(*licence_candidates(graph, node), default=current or licenses.default_license())
    dataset.license = found.id if found else None
    access_type, reason = (None, None)
    if inspire_support:
        access_type, reason = _inspire_access(
            [*dcat_extras.get("accessRights", []), *dcat_extras.get("rights", [])]
            + [str(t) for p in (DCT.accessRights, DCT.rights) for t in graph.objects(node, p) if isinstance(t, URIRef)]
        )
    dataset.access_type = access_type or "open"
    dataset.access_type_reason_category = reason
    if dataset.access_type != "open":
        dataset.license = None  # a restricted dataset carries no open licence

    _merge_resources(graph, node, dataset, language)

    identifier = graph.value(node, DCT.identifier)
    meta = dataset.harvest
    meta.dct_identifier = str(identifier) if identifier is not None else None
    meta.uri = str(node) if isinstance(node, URIRef) else None
    meta.remote_url = remote_url_of(graph, node, remote_url_prefix, remote_url_identifier)
    dates = _datetimes(graph, node)
    meta.created_at, meta.issued_at, meta.modified_at = dates["created_at"], dates["issued_at"], dates["modified_at"]
    return dataset


# ------------------------------------------------------------------ dataservices
def match_served_datasets(graph: Graph, node: Node, dataset_ids: dict[str, str]) -> list[str]:
    """Catalogue ids of the datasets of this job a service serves: identifier match, exact then by suffix."""
    found: list[str] = []
    for served in graph.objects(node, DCAT.servesDataset):
        identifiers = [str(v).strip() for v in graph.objects(served, DCT.identifier)]
        if isinstance(served, URIRef):
            identifiers.append(str(served))
        match = None
        for identifier in identifiers:
            if identifier in dataset_ids:
                match = dataset_ids[identifier]
                break
        if match is None:
            for identifier in identifiers:
                hits = {i for remote, i in dataset_ids.items() if identifier.endswith(remote) or remote.endswith(identifier)}
                if len(hits) == 1:
                    match = hits.pop()
                    break
        if match and match not in found:
            found.append(match)
    return found


def dataservice_from_rdf(
    graph: Graph,
    node: Node,
    dataservice: DataserviceRecord | None = None,
    *,
    dataset_ids: dict[str, str] | None = None,
    licenses: LicenseRegistry | None = None,
    default_language: str = DEFAULT_LANGUAGE,
    hvd_support: bool = True,
    inspire_support: bool = True,
) -> DataserviceRecord:
    """Fill a dataservice from a dcat:DataService node and link the datasets it serves."""
    service = dataservice or DataserviceRecord()
    licenses = licenses or LicenseRegistry.default()
    graph = cached(graph)
    title = text_in_language(graph, node, DCT.title, default_language)
    if title:
        service.title = title
    description = value_in_language(graph, node, DCT.description, default_language)
    service.description = html_to_markdown(str(description)) if isinstance(description, Literal) else ""
    endpoint = graph.value(node, DCAT.endpointURL)
    service.base_api_url = str(endpoint).strip() if endpoint is not None else None
    documentation = graph.value(node, DCAT.endpointDescription)
    service.machine_documentation_url = str(documentation).strip() if documentation is not None else None
    contacts = contacts_from_rdf(graph, node)
    if contacts:
        service.contact_points = contacts
    candidates = [t for p in (DCT.license, DCT.rights) for term in graph.objects(node, p) for t in term_texts(graph, term)]
    current = licenses.get(service.license) if service.license else None
    # Unlike a dataset, a dataservice without licence has none (udata gives it no "notspecified").
    found = licenses.guess(*candidates, default=current)
    service.license = found.id if found else None
    service.tags = tags_from_rdf(graph, node, hvd_support=hvd_support, inspire_support=inspire_support)
    for dataset_id in match_served_datasets(graph, node, dataset_ids or {}):
        if dataset_id not in service.datasets:
            service.datasets.append(dataset_id)
    meta = service.harvest
    identifier = graph.value(node, DCT.identifier)
    meta.dct_identifier = str(identifier) if identifier is not None else None
    meta.uri = str(node) if isinstance(node, URIRef) else None
    meta.remote_url = remote_url_of(graph, node)
    dates = _datetimes(graph, node)
    meta.created_at, meta.issued_at, meta.modified_at = dates["created_at"], dates["issued_at"], dates["modified_at"]
    record = graph.value(predicate=FOAF.primaryTopic, object=node) or graph.value(node, FOAF.isPrimaryTopicOf)
    meta.metadata_modified_at = not_in_future(to_datetime(graph.value(record, DCT.modified))) if record else None
    return service


# ------------------------------------------------------------------ listing
def dataset_nodes(graph: Graph) -> list[Node]:
    """Every dcat:Dataset or dcat:DatasetSeries subject once, minus the title-less stubs inside services."""
    nodes = list(dict.fromkeys([*graph.subjects(RDF.type, DCAT.Dataset), *graph.subjects(RDF.type, DCAT.DatasetSeries)]))
    kept = []
    for node in nodes:
        if (node, DCT.title, None) not in graph:
            referrers = {p for p in graph.predicates(None, node)}
            if referrers and referrers <= {DCAT.servesDataset, DCT.hasPart}:
                continue  # a stub describing what a service serves, not a catalogue entry
        kept.append(node)
    return kept


def dataservice_nodes(graph: Graph) -> list[Node]:
    """dcat:DataService subjects that are catalogue entries, not a distribution's access service."""
    return [
        node
        for node in dict.fromkeys(graph.subjects(RDF.type, DCAT.DataService))
        if (None, DCAT.accessService, node) not in graph
    ]


def remote_id_of(graph: Graph, node: Node) -> str | None:
    """The record's remote id: its first `dct:identifier`."""
    value = graph.value(node, DCT.identifier)
    text = str(value).strip() if value is not None else ""
    return text or None


__all__ = [
    "DEFAULT_LANGUAGE",
    "MappingOptions",
    "dataservice_from_rdf",
    "dataservice_nodes",
    "dataset_from_rdf",
    "dataset_nodes",
    "is_valid_url",
    "licence_candidates",
    "match_served_datasets",
    "remote_id_of",
    "resource_from_rdf",
]
