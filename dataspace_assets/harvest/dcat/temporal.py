"""`dct:temporal` → a {"start", "end"} coverage of dates, without any network call (spec 2.5)."""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime

from dateutil import parser as dateparser
from rdflib import Graph, Literal
from rdflib.term import Node

from dataspace_assets.harvest.dcat.namespaces import DCAT, SCHEMA, SCHEMA_S, SCV

log = logging.getLogger("dataspace_assets.harvest")

# Missing parts of a partial date ("2016-01") default to the first month/day, not to today's.
_DEFAULT = datetime(2000, 1, 1)
_PAIRS = ((SCHEMA.startDate, SCHEMA.endDate), (SCHEMA_S.startDate, SCHEMA_S.endDate),
          (DCAT.startDate, DCAT.endDate), (SCV.min, SCV.max))


def _to_date(value: Node | None) -> date | None:
    if value is None or not isinstance(value, Literal):
        return None
    native = value.toPython()
    if isinstance(native, datetime):
        return native.date()
    if isinstance(native, date):
        return native
    text = str(value).strip()
    if not text:
        return None
    return dateparser.parse(text, default=_DEFAULT).date()


def _from_literal(text: str) -> dict | None:
    text = text.strip()
    if text.count("/") == 1:
        start, end = (part.strip() for part in text.split("/"))
        return {"start": dateparser.parse(start, default=_DEFAULT).date(), "end": dateparser.parse(end, default=_DEFAULT).date()}
    dashes = text.count("-")
    if dashes == 0:
        year = int(text)
        return {"start": date(year, 1, 1), "end": date(year, 12, 31)}
    if dashes == 1:
        year, month = (int(p) for p in text.split("-"))
        return {"start": date(year, month, 1), "end": date(year, month, calendar.monthrange(year, month)[1])}
    return None


def temporal_from_rdf(graph: Graph, term: Node | None) -> dict | None:
    """A temporal coverage from a literal interval, a year, a month, or a PeriodOfTime node; None when unreadable."""
    if term is None:
        return None
    try:
        if isinstance(term, Literal):
            return _from_literal(str(term))
        # A resource is read from the graph we already have: never dereferenced over the network.
        for start_p, end_p in _PAIRS:
            start, end = graph.value(term, start_p), graph.value(term, end_p)
            if start is not None or end is not None:
                return {"start": _to_date(start), "end": _to_date(end)}
    except (ValueError, OverflowError, TypeError) as exc:
        log.warning("unreadable temporal coverage %r: %s", str(term), exc)
    return None
