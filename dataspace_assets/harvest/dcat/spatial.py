"""`dct:spatial` → one de-duplicated GeoJSON MultiPolygon (spec 2.4), read with shapely."""

from __future__ import annotations

import json
import logging
import math
import re
import warnings

import shapely
from rdflib import Graph, Literal
from rdflib.term import Node
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

log = logging.getLogger("dataspace_assets.harvest")

GEOJSON_DATATYPES = {
    "http://www.opengis.net/ont/geosparql#geojsonliteral",
    "https://www.iana.org/assignments/media-types/application/vnd.geo+json",
    "http://www.iana.org/assignments/media-types/application/vnd.geo+json",
}
_CRS_PREFIX = re.compile(r"^\s*<[^>]*>\s*")
_BBOX = re.compile(r"^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$")


def _is_wkt(datatype: str) -> bool:
    # GeoSPARQL and the old OGC prefix, whatever the case of "WKT" (GeoNetwork writes WKTLiteral).
    return datatype.lower().endswith("#wktliteral")


def _polygons(geom) -> list[Polygon]:  # noqa: ANN001
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return []  # points, lines ... are not coverage areas


def _read_literal(literal: Literal) -> list[Polygon]:
    datatype = str(literal.datatype or "").lower()
    text = str(literal)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN coordinates: rejected below, no need to warn
            if datatype in GEOJSON_DATATYPES:
                return _polygons(shape(json.loads(text)))
            if _is_wkt(datatype):
                return _polygons(shapely.from_wkt(_CRS_PREFIX.sub("", text.strip())))
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        log.warning("unreadable geometry %r: %s", text[:80], exc)
    return []


def _from_bbox(text: str) -> list[Polygon]:
    match = _BBOX.match(text)
    if not match:
        return []
    west, south, east, north = (float(v) for v in match.groups())
    # W,S → E,S → E,N → W,N → W,S: counter-clockwise, starting at the south-west corner.
    return [Polygon([(west, south), (east, south), (east, north), (west, north), (west, south)])]


def _rings(polygon: Polygon) -> list:
    geo = mapping(polygon)
    return [[list(map(float, point)) for point in ring] for ring in geo["coordinates"]]


def spatial_from_rdf(graph: Graph, terms: list[Node]) -> dict | None:
    """A GeoJSON MultiPolygon from bbox literals and GeoJSON/WKT literals of spatial nodes, or None."""
    polygons: list[Polygon] = []
    for term in terms:
        if isinstance(term, Literal):
            polygons += _from_bbox(str(term)) if not term.datatype else _read_literal(term)
            continue
        for _p, obj in graph.predicate_objects(term):
            if isinstance(obj, Literal) and obj.datatype is not None:
                polygons += _read_literal(obj)
    coordinates: list = []
    for polygon in polygons:
        rings = _rings(polygon)
        if rings not in coordinates:
            coordinates.append(rings)
    if not coordinates:
        return None
    if not all(math.isfinite(v) for poly in coordinates for ring in poly for point in ring for v in point):
        return None  # NaN or infinite coordinates: an invalid geometry is dropped as a whole
    return {"type": "MultiPolygon", "coordinates": coordinates}
