"""Run inputs files (behaviours 7, 8, 34, 37): presence, exact types, shape, binding and secret masking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dataspace_assets.deltatwin.inputs import (
    MASK,
    RETURN_CODES,
    BoundInput,
    Secret,
    check_inputs,
    check_inputs_file,
)
from dataspace_assets.deltatwin.manifest import DataRef, Manifest, check_manifest
from dataspace_assets.deltatwin.problems import format_path
from dataspace_tests.deltatwin.helpers import PREFIX, minimal_manifest, triples
from dataspace_tests.deltatwin.test_properties import BOUNDED

SECRET = "s3cr3t-Do-Not-Print-4f9a"  # distinctive, so a leak is found by plain substring search


def manifest_with(**inputs: dict) -> Manifest:
    """A clean manifest declaring the given twin inputs."""
    result = check_manifest(minimal_manifest(inputs=inputs))
    assert result.ok, result.problems
    assert result.manifest is not None
    return result.manifest


TYPED = manifest_with(
    flag={"type": "boolean"},
    count={"type": "integer"},
    ratio={"type": "number"},
    label={"type": "string"},
    product={"type": "Data"},
    token={"type": "secret"},
)
ALL_GIVEN: dict[str, Any] = {
    "flag": {"type": "boolean", "value": False},
    "count": {"type": "integer", "value": 3},
    "ratio": {"type": "number", "value": 2.5},
    "label": {"type": "string", "value": "B02"},
    "product": {"type": "Data", "url": "https://example.org/a.zip"},
    "token": {"type": "secret", "secret_value": SECRET},
}


def with_entry(name: str, entry: Any) -> dict[str, Any]:
    return {**ALL_GIVEN, name: entry}


def errors(result) -> list[tuple[str, str, str]]:
    """(code, path, message) of each error."""
    return [(p.code, format_path(p.path), p.message) for p in result.problems if p.severity == "error"]


# -- presence (behaviour 7) ----------------------------------------------------------------------


def test_every_required_input_missing_is_listed_sorted_in_the_reference_message() -> None:
    manifest = manifest_with(zeta={"type": "string"}, alpha={"type": "integer"}, opt={"type": "string", "value": "d"})
    result = check_inputs({}, manifest, file="in.json")
    assert errors(result) == [("missing-inputs", "", "Inputs ['alpha', 'zeta'] required.")]
    assert result.problems[0].file == "in.json"
    assert result.return_code == 120 and result.inputs is None


def test_one_missing_input_and_the_return_code_table() -> None:
    result = check_inputs({"flag": ALL_GIVEN["flag"]}, manifest_with(flag={"type": "boolean"}, x={"type": "string"}))
    assert errors(result) == [("missing-inputs", "", "Inputs ['x'] required.")]
    assert RETURN_CODES == {"missing-inputs": 120, "input-type": 110}


def test_a_default_is_bound_when_the_input_is_not_given() -> None:
    manifest = manifest_with(bands={"type": "string", "value": "B02"}, cloud={"type": "number", "value": 20.5})
    result = check_inputs({"cloud": {"type": "number", "value": 5.0}}, manifest)
    assert result.problems == () and result.inputs is not None
    assert result.inputs["bands"] == BoundInput("bands", "string", "B02", "default")
    assert result.inputs["cloud"] == BoundInput("cloud", "number", 5.0, "file")
    assert list(result.inputs.inputs) == ["bands", "cloud"]  # manifest order


# -- exact types (behaviour 8) -------------------------------------------------------------------


def test_every_kind_binds_to_its_typed_value() -> None:
    result = check_inputs(ALL_GIVEN, TYPED)
    assert result.problems == () and result.return_code is None
    assert result.inputs is not None
    values = {name: bound.value for name, bound in result.inputs.inputs.items()}
    assert values == {
        "flag": False,
        "count": 3,
        "ratio": 2.5,
        "label": "B02",
        "product": DataRef("https://example.org/a.zip"),
        "token": Secret(SECRET),
    }
    assert values["token"].reveal() == SECRET


@pytest.mark.parametrize(
    ("name", "value", "actual"),
    [
        ("flag", 1, "integer"),
        ("flag", "true", "string"),
        ("count", True, "boolean"),  # a bool is not an integer
        ("count", 2.0, "number"),
        ("count", "2", "string"),
        ("ratio", 20, "integer"),  # JSON 20 is an int and fails for number
        ("ratio", "2.5", "string"),
        ("label", 7, "integer"),
        ("label", None, "null"),
        ("label", ["B02"], "array"),
    ],
)
def test_a_value_of_another_type_fails_with_110_and_the_reference_message(name: str, value: Any, actual: str) -> None:
    type_ = TYPED.inputs[name].type
    result = check_inputs(with_entry(name, {"type": type_, "value": value}), TYPED)
    assert errors(result) == [
        ("input-type", f"{name}.value", f"Input {name} must be of type {type_} but is of type {actual}.")
    ]
    assert result.return_code == 110 and result.inputs is None


@pytest.mark.parametrize(
    ("entry", "path", "actual"),
    [
        ({"type": "Data", "value": "https://example.org/a.zip"}, "product.value", "string"),
        ({"type": "Data", "url": 5}, "product.url", "integer"),
        ({"type": "Data", "secret_value": "x"}, "product.secret_value", "secret"),
    ],
)
def test_data_needs_a_url_string(entry: dict, path: str, actual: str) -> None:
    result = check_inputs(with_entry("product", entry), TYPED)
    assert errors(result) == [("input-type", path, f"Input product must be of type Data but is of type {actual}.")]


@pytest.mark.parametrize(
    ("entry", "path", "actual"),
    [
        ({"type": "secret", "value": SECRET}, "token.value", "string"),
        ({"type": "secret", "secret_value": 12}, "token.secret_value", "integer"),
        ({"type": "secret", "url": "https://x"}, "token.url", "Data"),
    ],
)
def test_a_secret_needs_a_secret_value_string(entry: dict, path: str, actual: str) -> None:
    result = check_inputs(with_entry("token", entry), TYPED)
    assert errors(result) == [("input-type", path, f"Input token must be of type secret but is of type {actual}.")]


def test_an_entry_type_other_than_the_manifest_type_is_a_110_error() -> None:
    result = check_inputs(with_entry("ratio", {"type": "numeric", "value": 2.5}), TYPED)
    assert errors(result) == [
        ("input-type", "ratio.type", "Input ratio must be of type number but is of type numeric.")
    ]
    result = check_inputs(with_entry("product", {"type": "data", "url": "u"}), TYPED)  # no case leniency here
    assert errors(result) == [
        ("input-type", "product.type", "Input product must be of type Data but is of type data.")
    ]


def test_types_the_reference_check_cannot_infer_cannot_be_given() -> None:
    manifest = manifest_with(box={"type": "array"})
    result = check_inputs({"box": {"type": "array", "value": [1, 2]}}, manifest)
    assert [(c, p) for c, p, _ in errors(result)] == [("input-type", "box.value")]
    assert errors(result)[0][2].startswith("Input box of type array cannot be given at run time")
    assert result.return_code == 110


def test_a_type_error_wins_over_missing_inputs() -> None:
    # delta-core raises the first type error inside its loop and the missing inputs only after it (rc 110)
    manifest = manifest_with(a={"type": "integer"}, b={"type": "string"})
    result = check_inputs({"a": {"type": "integer", "value": "1"}}, manifest)
    assert {p.code for p in result.problems} == {"missing-inputs", "input-type"}
    assert result.return_code == 110


# -- shape (behaviour 34) ------------------------------------------------------------------------


def test_a_name_the_manifest_does_not_declare_is_an_error_as_in_start_local() -> None:
    result = check_inputs(with_entry("lable", {"type": "string", "value": "x"}), TYPED)
    assert errors(result) == [
        (
            "undeclared-input",
            "lable",
            'input "lable" is not declared in manifest.json'
            ' (declared inputs: flag, count, ratio, label, product, token) (did you mean "label"?)',
        )
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([1, 2], [("wrong-type", "", "expected a JSON object {name: {type, value}}, got an array")]),
        (with_entry("label", "B02"), [("wrong-type", "label", "expected an object {type, value}, got a string")]),
        (
            with_entry("label", {"value": "B02"}),
            [("missing-key", "label.type", 'missing "type" (the manifest declares string)')],
        ),
        (
            with_entry("label", {"type": 3, "value": "B02"}),
            [("wrong-type", "label.type", "expected a string, got an integer")],
        ),
        (
            with_entry("label", {"type": "string"}),
            [("missing-key", "label.value", 'missing "value" (a string input takes its "value")')],
        ),
        (
            with_entry("product", {"type": "Data"}),
            [("missing-key", "product.url", 'missing "url" (a Data input takes its "url")')],
        ),
    ],
)
def test_malformed_files_give_problems_with_paths(data: Any, expected: list) -> None:
    assert errors(check_inputs(data, TYPED)) == expected


def test_other_keys_of_an_entry_are_ignored_with_a_warning() -> None:
    result = check_inputs(with_entry("label", {"type": "string", "value": "B02", "description": "d"}), TYPED)
    assert triples(result.problems) == [("warning", "unknown-key", "inputs.json: label.description")]
    assert result.inputs is not None


def test_problems_follow_the_file_order(tmp_path: Path) -> None:
    data = {"label": {"type": "string", "value": 1}, "flag": {"type": "boolean", "value": 1}}
    assert [format_path(p.path) for p in check_inputs(data, TYPED).problems] == ["", "label.value", "flag.value"]


def test_a_file_that_is_not_json_or_missing_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "in.json"
    broken.write_text('{"a": ', encoding="utf-8")
    assert [p.code for p in check_inputs_file(broken, TYPED).problems] == ["json-syntax"]
    assert [p.code for p in check_inputs_file(tmp_path / "none.json", TYPED).problems] == ["file-missing"]
    missing = broken.with_name("x.json")
    assert triples(check_inputs_file(missing, None).problems) == [("error", "file-missing", "x.json")]
    broken.write_text("{}", encoding="utf-8")
    assert triples(check_inputs_file(broken, None).problems) == [("info", "inputs-unchecked", "in.json")]


# -- the real inputs files of the corpus ---------------------------------------------------------


@pytest.mark.parametrize("short", ["ai-sen2cor", "all_models", "get-product", "mucilage"])
def test_the_real_inputs_files_validate_against_their_manifests(short: str, deltatwin_examples_dir: Path) -> None:
    text = (deltatwin_examples_dir / f"{PREFIX[short]}__manifest.json").read_text(encoding="utf-8")
    manifest = check_manifest(json.loads(text)).manifest
    assert manifest is not None
    path = deltatwin_examples_dir / f"{PREFIX[short]}__inputs_file.json"
    result = check_inputs_file(path, manifest)
    assert result.problems == ()
    assert result.inputs is not None and list(result.inputs.inputs) == list(manifest.inputs)
    given = json.loads(path.read_text())
    for name, entry in given.items():
        bound = result.inputs[name]
        assert bound.source == "file"
        if entry["type"] == "secret":
            assert isinstance(bound.value, Secret) and bound.value.reveal() == entry["secret_value"]
        else:
            assert bound.value == entry["value"]


# -- secrets (behaviour 37) ----------------------------------------------------------------------


def test_secrets_are_masked_in_repr_str_and_the_masked_view() -> None:
    result = check_inputs(ALL_GIVEN, TYPED)
    assert result.inputs is not None
    for shown in (repr(result), repr(result.inputs), str(result.inputs["token"]), json.dumps(result.inputs.masked())):
        assert SECRET not in shown
    assert str(result.inputs["token"].value) == MASK and f"{result.inputs['token'].value}" == MASK
    assert result.inputs.masked()["token"] == MASK
    assert result.inputs.masked()["product"] == "https://example.org/a.zip"


def test_a_secret_default_is_masked_too() -> None:
    result = check_inputs({}, manifest_with(key={"type": "secret", "value": SECRET}))
    assert result.inputs is not None and result.inputs["key"].value == Secret(SECRET)
    assert SECRET not in repr(result.inputs)


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "secret", "value": SECRET},
        {"type": "string", "secret_value": SECRET},
        {"type": SECRET, "secret_value": SECRET},
        {"type": "secret", "secret_value": SECRET, SECRET: SECRET},
    ],
)
def test_a_misplaced_secret_never_appears_in_a_problem(entry: dict) -> None:
    result = check_inputs({"token": entry}, TYPED)
    assert result.problems
    assert all(SECRET not in p.render() and SECRET not in json.dumps(p.to_dict()) for p in result.problems)


# -- properties ----------------------------------------------------------------------------------

_NAMES = st.sampled_from([*TYPED.inputs, "other", ""])
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.just(SECRET),
    st.lists(st.integers(), max_size=2),
)
_ENTRIES = st.one_of(
    _VALUES,
    st.dictionaries(
        st.sampled_from(["type", "value", "url", "secret_value", "description"]),
        st.one_of(_VALUES, st.sampled_from(["boolean", "integer", "number", "string", "Data", "secret", "json"])),
        max_size=4,
    ),
)
# Problems about the whole file (its root, or a missing input that is nowhere in it) have no key path.
_WHOLE_FILE = {"wrong-type", "missing-inputs"}


def _holds_secret(data: Any) -> bool:
    """SECRET is used as a secret: a `secret_value`, or any value of the secret input (a type name is not a value)."""
    entries = data.items() if isinstance(data, dict) else ()
    return any(
        isinstance(entry, dict)
        and any(v == SECRET and (k == "secret_value" or (name == "token" and k != "type")) for k, v in entry.items())
        for name, entry in entries
    )


@BOUNDED
@given(st.one_of(_VALUES, st.dictionaries(_NAMES, _ENTRIES, max_size=7)))
def test_random_inputs_files_never_crash_and_every_error_has_a_path(data: Any) -> None:
    result = check_inputs(data, TYPED)
    for problem in result.problems:
        assert problem.path or problem.code in _WHOLE_FILE, problem
        if _holds_secret(data):
            assert SECRET not in problem.render()
        assert problem.file == "inputs.json"
    assert (result.inputs is None) == (not result.ok)
    if result.inputs is not None:
        assert list(result.inputs.inputs) == list(TYPED.inputs)
        assert SECRET not in repr(result.inputs)


def test_a_short_secret_does_not_garble_messages() -> None:
    # masking is by value position, never by substring: a secret "s" must not turn "station" into "***tation"
    manifest = manifest_with(station={"type": "string"})
    result = check_inputs({"station": {"type": "secret", "secret_value": "s"}}, manifest)
    (problem,) = result.problems
    assert problem.render() == (
        "error   inputs.json: station.type: Input station must be of type string but is of type secret. [input-type]"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("data/a.tif", "a relative path: dataspace reads it from the twin folder, delta-core 1.2.7 crashes on it"),
        ("/nowhere/at/all.tif", "no such file on this machine: /nowhere/at/all.tif"),
        ("s3://bucket/a.tif", '"s3" URLs cannot be fetched (http, https, file or a path)'),
    ],
)
def test_local_data_paths_get_cheap_warnings(url: str, message: str) -> None:
    result = check_inputs({"doc": {"type": "Data", "url": url}}, manifest_with(doc={"type": "Data"}))
    assert result.ok
    assert [(p.severity, p.code, p.message) for p in result.problems] == [("warning", "data-path", message)]


def test_an_existing_absolute_path_and_urls_give_no_warning(tmp_path) -> None:
    (tmp_path / "a.tif").write_bytes(b"x")
    for url in (str(tmp_path / "a.tif"), "https://example.org/a.tif"):
        assert check_inputs({"doc": {"type": "Data", "url": url}}, manifest_with(doc={"type": "Data"})).problems == ()
