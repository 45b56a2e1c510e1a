"""The CSW-DCAT backend: page through a CSW 2.0.2 GetRecords endpoint whose records come back as DCAT RDF/XML."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from dataspace_assets.harvest.backends.base import (
    HarvestException,
    HarvestExtraConfig,
    HarvestFeature,
    HarvestValidationError,
    ItemRef,
)
from dataspace_assets.harvest.backends.dcat import PAGE_CACHE, DcatBackend, node_key
from dataspace_assets.harvest.dcat.mapping import (
    dataservice_from_rdf,
    dataservice_nodes,
    dataset_from_rdf,
    dataset_nodes,
    remote_id_of,
)
from dataspace_assets.harvest.dcat.namespaces import DCT, FOAF, XSD
from dataspace_assets.harvest.dcat.oxigraph import is_graph
from dataspace_assets.harvest.dcat.rdf import RdfParseError, parse_graph
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

CSW_NS = "http://www.opengis.net/cat/csw/2.0.2"
PAGE_SIZE = 25
DCAT_SCHEMA = "http://www.w3.org/ns/dcat#"
GEODCATAP_SCHEMA = "http://data.europa.eu/930/"

GETRECORDS_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:gmd="http://www.isotc211.org/2005/gmd"
    xmlns:ogc="http://www.opengis.net/ogc" service="CSW" version="2.0.2" resultType="results"
    startPosition="{start}" maxRecords="{page_size}" outputSchema="{schema}">
  <csw:Query typeNames="gmd:MD_Metadata">
    <csw:ElementSetName>full</csw:ElementSetName>
    <csw:Constraint version="1.1.0">
      <ogc:Filter>
        <ogc:Or>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>dataset</ogc:Literal></ogc:PropertyIsEqualTo>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>nonGeographicDataset</ogc:Literal></ogc:PropertyIsEqualTo>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>series</ogc:Literal></ogc:PropertyIsEqualTo>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>service</ogc:Literal></ogc:PropertyIsEqualTo>
        </ogc:Or>
      </ogc:Filter>
    </csw:Constraint>
    <ogc:SortBy>
      <ogc:SortProperty><ogc:PropertyName>apiso:identifier</ogc:PropertyName><ogc:SortOrder>ASC</ogc:SortOrder></ogc:SortProperty>
    </ogc:SortBy>
  </csw:Query>
</csw:GetRecords>
"""


def getrecords_body(start: int, schema: str, page_size: int = PAGE_SIZE) -> str:
    """The GetRecords POST body for a 1-based start position."""
    return GETRECORDS_TEMPLATE.format(start=start, page_size=page_size, schema=schema)


def parse_csw_xml(data: bytes, url: str) -> ET.Element:
    """Parse a CSW answer with DTDs, entities and external references forbidden."""
    try:
        return safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise HarvestException(f"{url}: XML with a DTD or entity declarations is refused ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise HarvestException(f"{url}: invalid XML: {exc}") from exc


def local_name(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def get_records(http: Any, url: str, start: int, schema: str) -> ET.Element | None:
    """POST one GetRecords request for `schema`; the SearchResults element, or None when there is none."""
    response = http.post(url, data=getrecords_body(start, schema).encode(), headers={"Content-Type": "application/xml"})
    root = parse_csw_xml(response.content, url)  # DTDs and entities refused before anything is read
    if local_name(root.tag) == "ExceptionReport":
        raise HarvestException("Failed to query CSW:\n" + response.content.decode("utf-8", "replace"))
    return root.find(f"{{{CSW_NS}}}SearchResults")


def next_start(results: ET.Element, records: list, start: int) -> int | None:
    """The start position of the next GetRecords page, or None when this one was the last (or `nextRecord` is bogus)."""
    matched = int(results.get("numberOfRecordsMatched") or 0)
    next_record = int(results.get("nextRecord") or 0)
    if not records or next_record == 0 or next_record > matched or next_record <= start:
        return None
    return next_record


def records_cap_error(max_pages: int, start: int) -> HarvestException:
    """The job error of a listing stopped at its page cap, naming the first record that was not fetched."""
    return HarvestException(
        f'stopped after {max_pages} pages (config "max_pages"): records from {start} were not fetched'
    )


class CswDcatBackend(DcatBackend):
    """Harvests a CSW catalogue (GeoNetwork ...) asking for DCAT (or GeoDCAT-AP) records."""

    name = "csw-dcat"
    display_name = "CSW-DCAT"
    features = [
        HarvestFeature(
            "geodcatap", "GeoDCAT-AP", "Ask the CSW for GeoDCAT-AP records (outputSchema http://data.europa.eu/930/)"
        )
    ]
    extra_configs = [
        HarvestExtraConfig(
            "Remote URL prefix", "remote_url_prefix", str, "Public record pages: prefix + '/' + record identifier"
        )
    ]

    @property
    def output_schema(self) -> str:
        """The outputSchema asked for: DCAT, or GeoDCAT-AP with the `geodcatap` feature."""
        return GEODCATAP_SCHEMA if self.has_feature("geodcatap") else DCAT_SCHEMA

    def fetch_records(self, start: int) -> ET.Element | None:
        """POST one GetRecords request; the SearchResults element, or None when there is none."""
        return get_records(self.http, self.source.url, start, self.output_schema)

    def _record_graph(self, record: ET.Element, start: int, index: int) -> Graph:
        data = ET.tostring(record, encoding="utf-8")
        # No base: a relative rdf:about stays the bare identifier, as in udata (no invented uri or remote_url).
        return parse_graph(
            data,
            "xml",
            url=f"{self.source.url}#record-{start + index}",
            max_triples=self.max_triples,
            resolve_relative=False,
        )

    def _page(self, start: int) -> list[Any]:
        """The records of a page as graphs (or error strings), cached for the job."""
        token = self.job_data.get("token", "")
        cached = PAGE_CACHE.get(token, start)
        if cached is not None:
            return cached
        results = self.fetch_records(start)
        records = list(results) if results is not None else []
        graphs: list[Any] = []
        for index, record in enumerate(records):
            try:
                graphs.append(self._record_graph(record, start, index))
            except RdfParseError as exc:
                graphs.append({"error": str(exc), "xml": ET.tostring(record, encoding="unicode")[:20000]})
        PAGE_CACHE.put(token, start, graphs)
        return graphs

    def initialize(self) -> None:
        """Page through GetRecords by startPosition, following nextRecord."""
        token = uuid.uuid4().hex
        self.job_data.update({"token": token, "format": "csw"})
        start = 1
        truncated = False
        service_refs: list[tuple[int, int, Graph, Node]] = []
        pages = 0
        while True:
            if pages >= self.max_pages:  # a CSW whose nextRecord never ends must not hold the job forever
                raise records_cap_error(self.max_pages, start)
            pages += 1
            results = self.fetch_records(start)
            if results is None:
                break
            records = list(results)
            graphs: list[Any] = []
            for index, record in enumerate(records):
                if self.has_reached_max_items():
                    truncated = True
                    break
                try:
                    graph = self._record_graph(record, start, index)
                except RdfParseError as exc:
                    graphs.append({"error": str(exc)})
                    # A broken record is one failed item; it has no identifier, so it is named by its position.
                    self.add_item(f"csw-record-{start + index}", kind="dataset", start=start, record=index, broken=str(exc))
                    continue
                graphs.append(graph)
                for node in dataset_nodes(graph):
                    self.add_item(remote_id_of(graph, node), kind="dataset", start=start, record=index, node=node_key(node))
                service_refs += [(start, index, graph, n) for n in dataservice_nodes(graph)]
            PAGE_CACHE.put(token, start, graphs)
            if truncated:
                break
            next_record = next_start(results, records, start)
            if next_record is None:
                break
            if self.has_reached_max_items():
                truncated = True
                break
            start = next_record
        for page_start, index, graph, node in service_refs:
            if self.has_reached_max_items():
                truncated = True
                break
            remote_id = remote_id_of(graph, node) or (str(node) if isinstance(node, URIRef) else None)
            self.add_item(remote_id, kind="dataservice", start=page_start, record=index, node=node_key(node))
        if truncated and not self.dry_run:
            self.add_job_error(f"{self.max_items} max items reached, not all datasets/dataservices were retrieved")

    def _record(self, item: ItemRef) -> Graph:
        if item.kwargs.get("broken"):
            raise HarvestValidationError(item.kwargs["broken"])
        graphs = self._page(int(item.kwargs.get("start", 1)))
        index = int(item.kwargs.get("record", 0))
        if index >= len(graphs) or not is_graph(graphs[index]):
            raise HarvestValidationError(f"record {item.remote_id} is no longer in the CSW answer")
        return graphs[index]

    def _find(self, graph: Graph, item: ItemRef, finder) -> Node:  # noqa: ANN001
        key = item.kwargs.get("node", "")
        for node in finder(graph):
            if node_key(node) == key:
                return node
        for node in finder(graph):
            if remote_id_of(graph, node) == item.remote_id:
                return node
        raise HarvestValidationError(f"record {item.remote_id} is no longer in the CSW answer")

    def _record_identifier(self, graph: Graph, node: Node) -> str | None:
        """The identifier of the CatalogRecord describing this node (`urn:uuid:` cut from xsd:anyURI values)."""
        record = graph.value(node, FOAF.isPrimaryTopicOf) or graph.value(predicate=FOAF.primaryTopic, object=node)
        value = graph.value(record, DCT.identifier) if record is not None else None
        if value is None:
            value = graph.value(node, DCT.identifier)
        if value is None:
            return None
        text = str(value).strip()
        if isinstance(value, Literal) and value.datatype == XSD.anyURI and text.startswith("urn:uuid:"):
            text = text[len("urn:uuid:"):]
        return text

    def process_dataset(self, item: ItemRef, dataset: DatasetRecord) -> DatasetRecord:
        """Map the dataset of one CSW record."""
        graph = self._record(item)
        node = self._find(graph, item, dataset_nodes)
        prefix = self.get_extra_config_value("remote_url_prefix")
        return dataset_from_rdf(
            graph, node, dataset, licenses=self.licenses, remote_url_prefix=prefix,
            remote_url_identifier=self._record_identifier(graph, node) if prefix else None,
            **self.mapping_options(),
        )

    def process_dataservice(
        self, item: ItemRef, dataservice: DataserviceRecord, dataset_ids: dict[str, str]
    ) -> DataserviceRecord:
        """Map the dataservice of one CSW record."""
        graph = self._record(item)
        node = self._find(graph, item, dataservice_nodes)
        return dataservice_from_rdf(
            graph, node, dataservice, dataset_ids=dataset_ids, licenses=self.licenses, **self.mapping_options()
        )


__all__ = [
    "CswDcatBackend", "get_records", "getrecords_body", "local_name", "next_start", "parse_csw_xml",
    "records_cap_error",
]
