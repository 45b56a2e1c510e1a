"""Contact points from vCard or FOAF agents, for every DCAT and GeoDCAT role (spec 2.4)."""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from dataspace_assets.harvest.dcat.namespaces import DCAT, DCT, FOAF, GEODCAT, SKOS, VCARD
from dataspace_assets.harvest.records import ContactPoint

ORG = Namespace("http://www.w3.org/ns/org#")
ROLES: list[tuple[URIRef, str]] = [
    (DCAT.contactPoint, "contact"),
    (DCT.creator, "creator"),
    (DCT.publisher, "publisher"),
    (DCT.rightsHolder, "rightsHolder"),
    *[
        (GEODCAT[role], role)
        for role in (
            "custodian", "distributor", "originator", "principalInvestigator", "processor", "resourceProvider", "user",
        )
    ],
]


def _first_text(graph: Graph, node: Node, *predicates: URIRef) -> str | None:
    for predicate in predicates:
        for value in graph.objects(node, predicate):
            text = str(value).strip()
            if text:
                return text
    return None


def _email(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:"):].strip()
    return value or None


def contact_from_rdf(graph: Graph, agent: Node, role: str) -> ContactPoint | None:
    """One contact point from a vCard or FOAF node (a literal gives the name alone)."""
    if isinstance(agent, Literal):
        name = str(agent).strip()
        return ContactPoint(name=name, role=role) if name else None
    name = _first_text(graph, agent, VCARD.fn, FOAF.name, SKOS.prefLabel)
    org = _first_text(graph, agent, VCARD["organization-name"])
    if org is None:
        for parent in [*graph.objects(agent, ORG.memberOf), *graph.objects(agent, FOAF.member)]:
            org = _first_text(graph, parent, FOAF.name, VCARD.fn, SKOS.prefLabel) if not isinstance(parent, Literal) else str(parent)
            if org:
                break
    if name and org and org != name:
        name = f"{name} ({org})"
    name = name or org
    if not name:
        return None
    email = _email(_first_text(graph, agent, VCARD.hasEmail, VCARD.email, FOAF.mbox))
    url = _first_text(graph, agent, VCARD.hasURL, VCARD.url, VCARD.hasUrl, FOAF.homepage)
    return ContactPoint(name=name, email=email, url=url, role=role)


def contacts_from_rdf(graph: Graph, node: Node) -> list[ContactPoint]:
    """Every contact of a dataset or service, de-duplicated, in role order."""
    found: list[ContactPoint] = []
    for predicate, role in ROLES:
        for agent in graph.objects(node, predicate):
            contact = contact_from_rdf(graph, agent, role)
            if contact is not None and contact not in found:
                found.append(contact)
    return found
