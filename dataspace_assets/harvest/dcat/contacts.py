"""Contact points from vCard or FOAF agents, for every DCAT and GeoDCAT role (spec 2.4)."""

from __future__ import annotations

import logging

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from dataspace_assets.harvest.dcat.namespaces import DCAT, DCT, FOAF, GEODCAT, SKOS, VCARD
from dataspace_assets.harvest.records import ContactPoint

log = logging.getLogger("dataspace_assets.harvest")
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


ORG_NAMES = (VCARD["organization-name"], VCARD["organisation-name"])


def _organisation(graph: Graph, agent: Node) -> str | None:
    """The agent's organisation: vCard organization-name (either spelling, or inside a nested `vcard:org`), else foaf."""
    org = _first_text(graph, agent, *ORG_NAMES)
    if org is None:
        # GeoNetwork's GeoDCAT-AP: vcard:Organization with vcard:org [ vcard:organization-name "…" ].
        for nested in graph.objects(agent, VCARD.org):
            org = str(nested).strip() if isinstance(nested, Literal) else _first_text(graph, nested, *ORG_NAMES)
            if org:
                break
    if org is None:
        # The agent's organisation is what it is a member of (org:memberOf), or what has it as foaf:member;
        # the members of an organisation are not its organisation.
        for parent in [*graph.objects(agent, ORG.memberOf), *graph.subjects(FOAF.member, agent)]:
            org = _first_text(graph, parent, FOAF.name, VCARD.fn, SKOS.prefLabel) if not isinstance(parent, Literal) else str(parent)
            if org:
                break
    return org or None


def contact_from_rdf(graph: Graph, agent: Node, role: str) -> ContactPoint | None:
    """One contact point from a vCard or FOAF node (a literal gives the name alone); None when it has no name."""
    if isinstance(agent, Literal):
        name = str(agent).strip()
        return ContactPoint(name=name, role=role) if name else None
    name = _first_text(graph, agent, VCARD.fn, FOAF.name, SKOS.prefLabel)
    org = _organisation(graph, agent)
    if name and org:
        name = f"{name} ({org})"  # as udata, even when both are the same ("Géo2France (Géo2France)")
    name = name or org
    if not name:
        return None
    email = _email(_first_text(graph, agent, VCARD.hasEmail, VCARD.email, FOAF.mbox))
    url = _first_text(graph, agent, VCARD.hasURL, VCARD.url, VCARD.hasUrl, FOAF.homepage)
    return ContactPoint(name=name, email=email, url=url, role=role)


def contacts_from_rdf(graph: Graph, node: Node) -> list[ContactPoint]:
    """Every contact of a dataset or service, de-duplicated, in role order; refusals go to the item's log."""
    found: list[ContactPoint] = []
    for predicate, role in ROLES:
        for agent in graph.objects(node, predicate):
            contact = contact_from_rdf(graph, agent, role)
            if contact is None:
                log.info("empty %s contact point ignored (no name)", role)
                continue
            if role == "contact" and not contact.email and not contact.url:
                # udata's model requires an email or a contact form on a `contact` role.
                log.warning('contact point "%s" ignored: a contact needs an email or a contact form', contact.name)
                continue
            if contact not in found:
                found.append(contact)
    return found
