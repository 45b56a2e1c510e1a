"""Builders and constants shared by the deltatwin tests."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

# The real projects of the corpus (file prefix -> short name in the tests); see shared/deltatwin_examples/SOURCES.md.
PROJECTS = {
    "destination-earth__DestinE_ESA_DeltaTwin__ai-sen2cor-processor": "ai-sen2cor",
    "germanasergi__DeltaTwin-od-mucilage": "mucilage",
    "germanasergi__DeltaTwin-od-flood": "flood",
    "emanuel-gf__DestinE_ESA_DeltaTwin__all_models": "all_models",
    "emanuel-gf__DestinE_ESA_DeltaTwin__get-product-S2-integrated": "get-product",
    "emanuel-gf__DestinE_ESA_DeltaTwin__generate_plots": "generate_plots",
    "emanuel-gf__DestinE_ESA_DeltaTwin__STAC_data_query": "stac",
    "emanuel-gf__DestinE_ESA_DeltaTwin__end-to-end-ai-s2-atmo-correc-processor": "end-to-end",
}
PREFIX = {short: prefix for prefix, short in PROJECTS.items()}
README_EXAMPLE = "pypi-delta-core-1.2.7__manifest__README__example-manifest.json"
TEMPLATE_WORKFLOW = "pypi-deltatwin-cli-1.8.1__components__template__workflow.yml"
VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")


def reference_schema_file(version: str) -> str:
    return f"pypi-delta-core-1.2.7__manifest__v{version.replace('.', '_')}__manifest-schema.json"


def minimum_file(version: str) -> str:
    return f"pypi-delta-core-1.2.7__manifest__v{version.replace('.', '_')}__minimum.json"


def minimal_manifest(**extra: Any) -> dict[str, Any]:
    """The smallest valid 1.4 manifest, plus the given top-level keys."""
    return {"name": "demo", "description": "a demo twin", "owner": "tests", **extra}


def model(
    inputs: dict | None = None, outputs: dict | None = None, command: str = "python main.py", **parameters: Any
) -> dict:
    """A valid python model body with the given ports."""
    body: dict[str, Any] = {
        "path": "models",
        "type": "python",
        "parameters": {"pythonVersion": "3.12", "command": command, **parameters},
    }
    if inputs is not None:
        body["inputs"] = inputs
    if outputs is not None:
        body["outputs"] = outputs
    return body


def triples(problems) -> list[tuple[str, str, str]]:
    """(severity, code, location) of each problem, for compact assertions."""
    return [(p.severity, p.code, p.location) for p in problems]


def codes(problems, severity: str | None = None) -> list[str]:
    return [p.code for p in problems if severity is None or p.severity == severity]


def containers(node: Any, path: tuple = ()) -> list[tuple]:
    """The path of every object and array in a document."""
    found = [path] if isinstance(node, (dict, list)) else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found += containers(value, (*path, key))
    return found


def at(doc: Any, path: tuple) -> Any:
    """The part of a document at a path of keys and indexes."""
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated(
    draw,
    base: Any,
    *,
    values: st.SearchStrategy,
    keys: st.SearchStrategy,
    edits: tuple[int, int] = (1, 4),
    rename: bool = True,
) -> Any:
    """A document with random edits: a value replaced, a key or item removed, a key renamed, a key added."""
    doc = copy.deepcopy(base)
    actions = ["replace", "delete", "rename", "add"] if rename else ["replace", "delete", "add"]
    for _ in range(draw(st.integers(*edits))):
        found = containers(doc)
        if not found:
            return draw(values)
        target = at(doc, draw(st.sampled_from(found)))
        present = list(target) if isinstance(target, dict) else list(range(len(target)))
        action = draw(st.sampled_from(actions if present else ["add"]))
        if action == "add":
            if isinstance(target, dict):
                target[draw(keys)] = draw(values)
            else:
                target.append(draw(values))
        elif action == "delete":
            del target[draw(st.sampled_from(present))]
        elif action == "rename" and isinstance(target, dict):
            target[draw(keys)] = target.pop(draw(st.sampled_from(present)))
        else:
            target[draw(st.sampled_from(present))] = draw(values)
    return doc
