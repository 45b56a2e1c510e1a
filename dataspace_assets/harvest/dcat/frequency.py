"""`dct:accrualPeriodicity` → the catalogue's frequency values (spec 2.5)."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.term import Node

DC_FREQ = "http://purl.org/cld/freq/"
EU_FREQ = "http://publications.europa.eu/resource/authority/frequency/"

# Dublin Core collection frequencies: the local name is the catalogue value, lower-cased.
DC_FREQUENCIES = {
    name.lower(): name.lower()
    for name in (
        "continuous", "daily", "threeTimesAWeek", "semiweekly", "weekly", "biweekly", "threeTimesAMonth",
        "semimonthly", "monthly", "bimonthly", "quarterly", "threeTimesAYear", "semiannual", "annual",
        "biennial", "triennial", "irregular",
    )
}
DC_FREQUENCIES.update(
    {"threetimesaweek": "threeTimesAWeek", "threetimesamonth": "threeTimesAMonth", "threetimesayear": "threeTimesAYear"}
)

# EU frequency authority list → catalogue value.
EU_FREQUENCIES = {
    "UNKNOWN": "unknown",
    "UPDATE_CONT": "continuous",
    "CONT": "severalTimesADay",  # "continuous" is UPDATE_CONT only, as in udata's table
    "1MIN": "oneMinute",
    "5MIN": "fiveMinutes",
    "10MIN": "tenMinutes",
    "15MIN": "fifteenMinutes",
    "30MIN": "thirtyMinutes",
    "HOURLY": "hourly",
    "BIHOURLY": "bihourly",
    "TRIHOURLY": "trihourly",
    "12HRS": "twelveHours",
    "DAILY_3": "threeTimesADay",
    "DAILY_2": "semidaily",
    "DAILY": "daily",
    "WEEKLY_5": "fiveTimesAWeek",
    "WEEKLY_3": "threeTimesAWeek",
    "WEEKLY_2": "semiweekly",
    "WEEKLY": "weekly",
    "BIWEEKLY": "biweekly",
    "MONTHLY_3": "threeTimesAMonth",
    "MONTHLY_2": "semimonthly",
    "MONTHLY": "monthly",
    "BIMONTHLY": "bimonthly",
    "QUARTERLY": "quarterly",
    "ANNUAL_3": "threeTimesAYear",
    "ANNUAL_2": "semiannual",
    "ANNUAL": "annual",
    "BIENNIAL": "biennial",
    "TRIENNIAL": "triennial",
    "QUADRENNIAL": "quadrennial",
    "QUINQUENNIAL": "quinquennial",
    "DECENNIAL": "decennial",
    "BIDECENNIAL": "bidecennial",
    "TRIDECENNIAL": "tridecennial",
    "AS_NEEDED": "punctual",
    "IRREG": "irregular",
    "NEVER": "never",
    "NOT_PLANNED": "notPlanned",
    "OTHER": "other",
}
# The catalogue's frequency values (udata's list): every mapping above lands in it.
FREQUENCIES = frozenset(EU_FREQUENCIES.values()) | frozenset(DC_FREQUENCIES.values())
_EU_BY_LOWER = {k.lower(): v for k, v in EU_FREQUENCIES.items()}


def _looks_like_url(text: str) -> bool:
    return text.startswith(("http://", "https://")) and " " not in text


def frequency_from_rdf(term: Node | None) -> str | None:
    """The catalogue frequency of an IRI or literal, or None when unknown."""
    if term is None:
        return None
    if isinstance(term, Literal):
        text = str(term).strip()
        if _looks_like_url(text):
            term = URIRef(text)
        else:
            key = text.lower()
            return DC_FREQUENCIES.get(key) or _EU_BY_LOWER.get(key)
    if isinstance(term, URIRef):
        iri = str(term)
        if iri.startswith(DC_FREQ):
            return DC_FREQUENCIES.get(iri[len(DC_FREQ):].lower())
        if iri.startswith(EU_FREQ):
            return EU_FREQUENCIES.get(iri[len(EU_FREQ):])
    return None
