"""Our JSON Schemas: well formed, fully anchored, agreeing with delta-core's schemas except where we chose to differ."""

from __future__ import annotations

import copy
import difflib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dataspace_assets.deltatwin.schemas import CURRENT_VERSION, SUPPORTED_VERSIONS, load_schema, schema_file, validator
from dataspace_tests.deltatwin.helpers import (
    PREFIX,
    README_EXAMPLE,
    VERSIONS,
    at,
    minimum_file,
    mutated,
    reference_schema_file,
)

SECTIONS_WITH_KEYS = ("inputs", "outputs", "resources", "models", "dependencies")


@pytest.fixture(scope="session")
def reference(deltatwin_examples_dir: Path) -> dict[str, Draft202012Validator]:
    """delta-core 1.2.7's own schemas, read from the shared corpus (for comparison only)."""
    return {
        v: Draft202012Validator(json.loads((deltatwin_examples_dir / reference_schema_file(v)).read_text()))
        for v in VERSIONS
    }


@pytest.fixture(scope="session")
def corpus(deltatwin_examples_dir: Path) -> list[dict[str, Any]]:
    """Every manifest of the corpus: real projects, the README example and the per-version minimums."""
    files = (
        [f"{prefix}__manifest.json" for prefix in PREFIX.values()]
        + [README_EXAMPLE]
        + [minimum_file(v) for v in VERSIONS]
    )
    return [json.loads((deltatwin_examples_dir / name).read_text()) for name in files]


def test_there_is_one_schema_per_supported_version() -> None:
    assert SUPPORTED_VERSIONS == ("1.0", "1.1", "1.2", "1.3", "1.4") and CURRENT_VERSION == "1.4"
    for version in SUPPORTED_VERSIONS:
        schema = load_schema(version)
        Draft202012Validator.check_schema(schema)
        assert schema["properties"]["deltaVersion"]["enum"] == (["1.0", "1.1"] if version == "1.1" else [version])
        assert schema["additionalProperties"] is False
    assert schema_file("1.3") == "v1_3.json"
    with pytest.raises(ValueError, match=r"unsupported deltaVersion 2 \(supported 1.0–1.4\)"):
        schema_file("2")


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        found += list(node.get("patternProperties", {}))
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_every_pattern_is_fully_anchored(version) -> None:
    patterns = _patterns(load_schema(version))
    assert patterns, "the identifier pattern is expected"
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("(?!\\n)$"), pattern


@pytest.mark.parametrize("key", ["a", "abc", "aB9_-", "L2A_B02", "ABC"])
def test_identifier_keys_that_pass(key) -> None:
    doc = {"name": "n", "description": "d", "owner": "o", "inputs": {key: {"type": "string"}}}
    assert validator("1.4").is_valid(doc)


@pytest.mark.parametrize("key", ["9", "9a", "a b", "a.b", "a\n", "\na", "a:", "", "-a", "_a"])
def test_identifier_keys_that_fail_even_where_delta_core_accepts_them(key, reference) -> None:
    doc = {"name": "n", "description": "d", "owner": "o", "inputs": {key: {"type": "string"}}}
    assert not validator("1.4").is_valid(doc)
    assert reference["1.4"].is_valid(doc)  # the unanchored pattern: searched, or not matched and then not checked


def test_the_documented_differences_from_delta_core(reference) -> None:
    base = {"name": "n", "description": "d", "owner": "o"}
    # 1. a key without a lower-case letter: delta-core does not check the body at all
    unchecked = {**base, "outputs": {"L2A_B02": {"glob": 3}}}
    assert reference["1.4"].is_valid(unchecked) and not validator("1.4").is_valid(unchecked)
    # 2. a dependency needs both id and version (delta-core's parser crashes without them)
    half = {**base, "dependencies": {"stac": {"id": "stac"}}}
    assert reference["1.4"].is_valid(half) and not validator("1.4").is_valid(half)
    # 3. v1.0 years are unique too (delta-core put uniqueItems on each year, where it does nothing)
    legacy = {
        "name": "n",
        "description": "d",
        "license": {"name": "l", "url": "u", "copyrights": [{"company": "c", "years": [2024, 2024]}]},
    }
    assert reference["1.0"].is_valid(legacy) and not validator("1.0").is_valid(legacy)


def test_the_corpus_gets_the_same_verdict_from_both_schemas(corpus, reference) -> None:
    for doc in corpus:
        for version in VERSIONS:
            assert validator(version).is_valid(doc) == reference[version].is_valid(doc), (version, doc.get("name"))


def test_the_corpus_verdicts_are_the_expected_ones(corpus) -> None:
    verdicts = [tuple(v for v in VERSIONS if validator(v).is_valid(doc)) for doc in corpus]
    real, readme, minimums = verdicts[: len(PREFIX)], verdicts[len(PREFIX)], verdicts[len(PREFIX) + 1 :]
    assert real == [("1.2", "1.3", "1.4")] * len(PREFIX)  # schema-valid, even the broken end-to-end one
    assert readme == ("1.1",)
    assert minimums == [
        ("1.0", "1.1"),
        ("1.0", "1.1"),
        ("1.2", "1.3", "1.4"),
        ("1.2", "1.3", "1.4"),
        ("1.2", "1.3", "1.4"),
    ]


# -- differential testing on generated manifests, inside the domain where we mean to agree --------------

_IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 3000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_VALUE = _JSON.filter(lambda v: v is not None)
_TEXT = st.text(max_size=4)
_TYPE = st.sampled_from(["string", "Data", "integer", "stdout", "whatever"])


def _optional(draw, body: dict, key: str, strategy) -> None:
    if draw(st.booleans()):
        body[key] = draw(strategy)


@st.composite
def _param(draw, extra: tuple[str, ...] = (), required: tuple[str, ...] = ()) -> dict:
    body = {"type": draw(_TYPE)}
    _optional(draw, body, "description", _TEXT)
    for key in extra:
        if key in required or draw(st.booleans()):
            body[key] = draw(_VALUE if key == "value" else _TEXT)
    return body


def _section(body) -> st.SearchStrategy[dict]:
    return st.dictionaries(_IDENT, body, max_size=2)


@st.composite
def _model(draw, legacy: bool = False) -> dict:
    body = {"path": draw(_TEXT), "type": "python", "parameters": draw(st.dictionaries(_TEXT, _JSON, max_size=2))}
    if not legacy:
        _optional(draw, body, "inputs", _section(_param(("value", "prefix"))))
        _optional(draw, body, "outputs", _section(_param(("glob",))))
    return body


_YEARS = st.lists(st.integers(1970, 2100), max_size=3, unique=True)
_LICENSE = st.fixed_dictionaries(
    {
        "name": _TEXT,
        "url": _TEXT,
        "copyrights": st.lists(st.fixed_dictionaries({"company": _TEXT, "years": _YEARS}), max_size=2),
    }
)
_DATA_FOLDER = st.fixed_dictionaries(
    {"path": _TEXT, "items": st.lists(st.fixed_dictionaries({"name": _TEXT, "source_url": _TEXT}), max_size=2)}
)


@st.composite
def valid_manifest(draw, version: str) -> dict:
    """A manifest valid for `version` by construction, with a random choice of optional parts."""
    doc: dict[str, Any] = {"name": draw(_TEXT), "description": draw(_TEXT)}
    if draw(st.booleans()):
        doc["deltaVersion"] = draw(st.sampled_from(["1.0", "1.1"])) if version == "1.1" else version
    if version != "1.4" or draw(st.booleans()):
        doc["license"] = draw(_LICENSE)
    if version in ("1.2", "1.3", "1.4"):
        doc["owner"] = draw(_TEXT)
    if version in ("1.3", "1.4"):
        _optional(draw, doc, "short_description", _TEXT)
    if version == "1.0":
        _optional(draw, doc, "resources", _DATA_FOLDER)
        _optional(draw, doc, "artifacts", _DATA_FOLDER)
        _optional(draw, doc, "models", _model(legacy=True))
        return doc
    _optional(draw, doc, "inputs", _section(_param(("value",))))
    _optional(draw, doc, "outputs", _section(_param()))
    _optional(draw, doc, "resources", _section(_param(("value",), required=("value",))))
    _optional(draw, doc, "models", _section(_model()))
    if version == "1.1":
        _optional(draw, doc, "dependencies", st.lists(_TEXT, max_size=2))
    else:
        _optional(draw, doc, "dependencies", _section(st.fixed_dictionaries({"id": _TEXT, "version": _TEXT})))
    return doc


@st.composite
def manifests_and_versions(draw) -> tuple[dict, str]:
    version = draw(st.sampled_from(VERSIONS))
    keys = st.text(max_size=6) | _IDENT
    doc = draw(mutated(draw(valid_manifest(version)), values=_JSON | _TYPE, keys=keys, edits=(0, 2), rename=False))
    # validated against its own version, or sometimes another one
    return doc, draw(st.sampled_from([version, version, *VERSIONS]))


_CANONICAL_KEY = re.compile(r"[a-z][A-Za-z0-9_-]*")


def _in_common_domain(doc: dict, version: str) -> bool:
    """Outside our documented differences: canonical map keys, complete dependencies, no duplicate 1.0 years."""
    if version == "1.0":
        license_ = doc.get("license")
        for item in (
            license_.get("copyrights", [])
            if isinstance(license_, dict) and isinstance(license_.get("copyrights"), list)
            else []
        ):
            years = item.get("years") if isinstance(item, dict) else None
            if isinstance(years, list) and any(years[i] == years[j] for i in range(len(years)) for j in range(i)):
                return False
        return True
    maps = [doc.get(section) for section in SECTIONS_WITH_KEYS]
    models = doc.get("models")
    if isinstance(models, dict):
        maps += [body.get(port) for body in models.values() if isinstance(body, dict) for port in ("inputs", "outputs")]
    if any(isinstance(m, dict) and not all(_CANONICAL_KEY.fullmatch(k) for k in m) for m in maps):
        return False
    dependencies = doc.get("dependencies")
    if isinstance(dependencies, dict):
        return all(not isinstance(body, dict) or {"id", "version"} <= set(body) for body in dependencies.values())
    return True


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=manifests_and_versions())
def test_generated_manifests_get_the_same_verdict_as_delta_core(case, reference) -> None:
    doc, version = case
    assume(_in_common_domain(doc, version))
    assert validator(version).is_valid(doc) == reference[version].is_valid(doc)


def _edit_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every key and item path, except inside free-form runner `parameters`."""
    found: list[tuple] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if key != "parameters":
            found += [(*path, key), *_edit_paths(value, (*path, key))]
    return found


def test_every_single_edit_of_the_corpus_gets_the_same_verdict_as_delta_core(corpus, reference) -> None:
    """Exhaustive: each key deleted, each value set to null, in every document, for every version."""
    checked = disagreements = 0
    for base in corpus:
        for path in _edit_paths(base):
            for edit in ("delete", "null"):
                doc = copy.deepcopy(base)
                parent = at(doc, path[:-1])
                if edit == "delete":
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = None
                for version in VERSIONS:
                    if not _in_common_domain(doc, version):
                        continue
                    checked += 1
                    if validator(version).is_valid(doc) != reference[version].is_valid(doc):
                        disagreements += 1
                        pytest.fail(f"{edit} {path} as {version}: ours {validator(version).is_valid(doc)}")
    assert checked > 3000 and disagreements == 0  # 3934 comparisons on the corpus as shipped


def test_the_identifier_pattern_matches_python_fullmatch() -> None:
    pattern = load_schema("1.4")["$defs"]["identifier"]["pattern"]
    for key in ["a", "Ab", "a\n", "a b", "9", "a_b-c", "é", "aé"]:
        assert bool(re.search(pattern, key)) == bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key)), key


@pytest.mark.parametrize("version", VERSIONS)
def test_our_schemas_are_written_by_us_not_copied_from_delta_core(version, deltatwin_examples_dir: Path) -> None:
    """Same meaning where we agree, but not delta-core's text: compared line by line, key order and titles aside."""

    def lines(schema: dict) -> list[str]:
        return json.dumps(schema, indent=1, sort_keys=True).splitlines()

    theirs = json.loads((deltatwin_examples_dir / reference_schema_file(version)).read_text())
    similarity = difflib.SequenceMatcher(None, lines(load_schema(version)), lines(theirs)).ratio()
    assert similarity < 0.5, similarity
    assert "gael-systems" not in json.dumps(load_schema(version))
