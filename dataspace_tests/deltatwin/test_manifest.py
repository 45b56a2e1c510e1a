"""manifest.json: versions, the schema facts of each, and the strict layer beyond the schema."""

from __future__ import annotations

import copy

import pytest

from dataspace_assets.deltatwin.manifest import (
    DataRef,
    Dependency,
    Input,
    Output,
    Requirement,
    Resource,
    check_manifest,
)
from dataspace_tests.deltatwin.helpers import minimal_manifest, model, triples

LICENSE = {
    "name": "LGPLv3",
    "url": "https://www.gnu.org/licenses/gpl-3.0.txt",
    "copyrights": [{"company": "ESA", "years": [2024]}],
}


def problems_of(doc, version=None):
    return triples(check_manifest(doc, version=version).problems)


def errors_of(doc, version=None):
    return [(code, where) for severity, code, where in problems_of(doc, version) if severity == "error"]


# -- versions --------------------------------------------------------------------------------------


def test_absent_delta_version_is_validated_as_1_4() -> None:
    result = check_manifest({"name": "demo", "description": "d"})
    assert result.manifest is not None and result.manifest.delta_version == "1.4"
    assert triples(result.problems) == [("error", "missing-key", "manifest.json: owner")]
    assert result.problems[0].message == "missing required key (deltaVersion 1.4)"


def test_top_level_keys_are_closed() -> None:
    result = check_manifest(minimal_manifest(internal=1))
    assert triples(result.problems) == [("error", "unknown-key", "manifest.json: internal")]


@pytest.mark.parametrize(
    ("version", "doc", "expected"),
    [
        # v1.0 and v1.1 require a license and know no owner
        ("1.0", {"name": "n", "description": "d", "license": LICENSE}, []),
        ("1.0", {"name": "n", "description": "d"}, [("missing-key", "manifest.json: license")]),
        ("1.1", {"name": "n", "description": "d", "license": LICENSE}, []),
        (
            "1.1",
            {"name": "n", "description": "d", "license": LICENSE, "owner": "o"},
            [("unknown-key", "manifest.json: owner")],
        ),
        ("1.1", {"name": "n", "description": "d", "license": LICENSE, "inputs": {}}, []),
        (
            "1.0",
            {"name": "n", "description": "d", "license": LICENSE, "inputs": {}},
            [("unknown-key", "manifest.json: inputs")],
        ),
        # v1.2 requires owner and license; short_description arrives in 1.3
        ("1.2", {"name": "n", "description": "d", "license": LICENSE}, [("missing-key", "manifest.json: owner")]),
        ("1.2", {"name": "n", "description": "d", "owner": "o"}, [("missing-key", "manifest.json: license")]),
        (
            "1.2",
            {"name": "n", "description": "d", "owner": "o", "license": LICENSE, "short_description": "s"},
            [("unknown-key", "manifest.json: short_description")],
        ),
        ("1.3", {"name": "n", "description": "d", "owner": "o", "license": LICENSE, "short_description": "s"}, []),
        ("1.3", {"name": "n", "description": "d", "owner": "o"}, [("missing-key", "manifest.json: license")]),
        # v1.4 makes the license optional
        ("1.4", {"name": "n", "description": "d", "owner": "o"}, []),
        ("1.4", {"name": "n", "owner": "o"}, [("missing-key", "manifest.json: description")]),
    ],
)
def test_each_version_has_its_own_required_and_allowed_keys(version, doc, expected) -> None:
    assert errors_of({**doc, "deltaVersion": version}) == expected


def test_owner_in_1_1_names_the_version() -> None:
    result = check_manifest({"deltaVersion": "1.1", "name": "n", "description": "d", "license": LICENSE, "owner": "o"})
    assert [p.message for p in result.problems] == ["not allowed in deltaVersion 1.1"]


@pytest.mark.parametrize("version", ["1.5", "2", "", "1.4.0"])
def test_unknown_version_is_refused_with_the_supported_range(version) -> None:
    result = check_manifest(minimal_manifest(deltaVersion=version))
    assert result.manifest is None
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        (
            "unsupported-version",
            "manifest.json: deltaVersion",
            f"unsupported deltaVersion {version} (supported 1.0–1.4)",
        )
    ]


def test_a_numeric_delta_version_asks_for_a_string() -> None:
    result = check_manifest(minimal_manifest(deltaVersion=1.4))
    assert [(p.code, p.message) for p in result.problems] == [
        ("wrong-type", 'expected a string such as "1.4", got number 1.4')
    ]


def test_validating_as_another_version_reports_the_declared_one() -> None:
    doc = minimal_manifest(deltaVersion="1.4")
    assert check_manifest(doc).ok
    result = check_manifest(doc, version="1.3")
    assert [(p.code, p.location, p.message) for p in result.problems if p.severity == "error"] == [
        (
            "bad-value",
            "manifest.json: deltaVersion",
            'string "1.4" cannot be validated as deltaVersion 1.3 (it accepts 1.3)',
        ),
        ("missing-key", "manifest.json: license", "missing required key (deltaVersion 1.3)"),
    ]


def test_v1_1_accepts_a_declared_1_0() -> None:
    doc = {"deltaVersion": "1.0", "name": "n", "description": "d", "license": LICENSE, "inputs": {}}
    assert check_manifest(doc, version="1.1").ok
    assert not check_manifest(doc).ok  # as declared (1.0), inputs do not exist


def test_an_unknown_override_is_a_problem_not_an_exception() -> None:
    result = check_manifest(minimal_manifest(), version="9.9")
    assert [p.message for p in result.problems] == ["unsupported deltaVersion 9.9 (supported 1.0–1.4)"]


@pytest.mark.parametrize("data", [[], "text", 3, None, True])
def test_a_manifest_must_be_an_object(data) -> None:
    result = check_manifest(data)
    assert result.manifest is None
    assert [(p.code, p.location) for p in result.problems] == [("wrong-type", "manifest.json")]


# -- copyright years -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("years", "expected"),
    [
        ([1970, 2024, 2100], []),
        (
            [1969],
            [("out-of-range", "manifest.json: license.copyrights[0].years[0]", "integer 1969 is outside 1970–2100")],
        ),
        (
            [2024, 2101],
            [("out-of-range", "manifest.json: license.copyrights[0].years[1]", "integer 2101 is outside 1970–2100")],
        ),
        (
            [2024.5],
            [("wrong-type", "manifest.json: license.copyrights[0].years[0]", "expected an integer, got number 2024.5")],
        ),
        (
            [True],
            [("wrong-type", "manifest.json: license.copyrights[0].years[0]", "expected an integer, got boolean true")],
        ),
        (
            ["2024"],
            [("wrong-type", "manifest.json: license.copyrights[0].years[0]", 'expected an integer, got string "2024"')],
        ),
        (
            [2024, 2023, 2024],
            [("not-unique", "manifest.json: license.copyrights[0].years", "integer 2024 appears more than once")],
        ),
    ],
)
def test_copyright_years_are_unique_integers_from_1970_to_2100(years, expected) -> None:
    doc = minimal_manifest(license={**LICENSE, "copyrights": [{"company": "ESA", "years": years}]})
    result = check_manifest(doc)
    assert [(p.code, p.location, p.message) for p in result.problems] == expected
    if not expected:
        assert result.manifest.license.copyrights[0].years == tuple(years)


def test_a_year_written_2024_0_is_an_integer_and_kept_as_one() -> None:
    # JSON Schema counts 2024.0 as an integer, as delta-core's validator does: it must not vanish from the model
    doc = minimal_manifest(license={**LICENSE, "copyrights": [{"company": "ESA", "years": [2024.0, 2025]}]})
    result = check_manifest(doc)
    assert result.ok and result.problems == ()
    years = result.manifest.license.copyrights[0].years
    assert years == (2024, 2025) and all(type(y) is int for y in years)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3", "1.4"])
def test_duplicate_years_fail_in_every_version(version) -> None:
    doc = {
        "deltaVersion": version,
        "name": "n",
        "description": "d",
        "owner": "o",
        "license": {**LICENSE, "copyrights": [{"company": "c", "years": [2024, 2024]}]},
    }
    if version in ("1.0", "1.1"):
        del doc["owner"]
    assert errors_of(doc) == [("not-unique", "manifest.json: license.copyrights[0].years")]


# -- maps, identifiers and the parsed model ----------------------------------------------------------


def test_map_keys_become_names_and_missing_maps_are_empty() -> None:
    doc = minimal_manifest(
        inputs={"bbox": {"type": "string", "description": "area"}, "level": {"type": "integer", "value": 2}},
        resources={"product": {"type": "Data", "value": "https://example.org/p.zip"}},
        outputs={"masks": {"type": "Data"}},
    )
    result = check_manifest(doc)
    assert result.ok and result.problems == ()
    manifest = result.manifest
    assert manifest.inputs == {
        "bbox": Input("bbox", "string", "area", None),
        "level": Input("level", "integer", None, 2),
    }
    assert manifest.inputs["bbox"].required and not manifest.inputs["level"].required
    assert manifest.resources == {"product": Resource("product", "Data", DataRef("https://example.org/p.zip"))}
    assert manifest.outputs == {"masks": Output("masks", "Data")}
    assert manifest.models == {} and manifest.dependencies == {}
    assert manifest.element("inputs", "bbox") is manifest.inputs["bbox"]
    assert manifest.element("inputs", "nope") is None and manifest.element("nowhere", "bbox") is None


@pytest.mark.parametrize("key", ["9a", "a b", "a.b", "-x", "_x", "", "abc\n", "é"])
def test_map_keys_must_fully_match_the_identifier_pattern(key) -> None:
    result = check_manifest(minimal_manifest(inputs={key: {"type": "string"}}))
    assert [(p.code, p.path) for p in result.problems] == [("bad-identifier", ("inputs", key))]
    assert result.problems[0].message == "invalid name: use letters, digits, _ and -, starting with a letter"


def test_keys_starting_upper_case_are_accepted_with_a_warning_and_their_body_is_checked() -> None:
    # real twins name outputs L2A_B02; delta-core's unanchored pattern would not even look at the body
    result = check_manifest(minimal_manifest(outputs={"L2A_B02": {"type": "Data"}, "ABC": {"description": "no type"}}))
    assert problems_of(minimal_manifest(outputs={"L2A_B02": {"type": "Data"}})) == [
        ("warning", "identifier-style", "manifest.json: outputs.L2A_B02")
    ]
    assert ("error", "missing-key", "manifest.json: outputs.ABC.type") in triples(result.problems)


def test_a_component_name_outside_lowercase_digits_and_dashes_is_a_warning() -> None:
    result = check_manifest(minimal_manifest(name="stac_query_most_recent"))
    assert result.ok
    assert [(p.severity, p.code, p.location) for p in result.problems] == [
        ("warning", "identifier-style", "manifest.json: name")
    ]


def test_resources_need_a_value_and_every_parameter_needs_a_type() -> None:
    doc = minimal_manifest(
        resources={"r": {"type": "string"}},
        inputs={"i": {"description": "no type"}},
        outputs={"o": {}},
        models={"m": model(inputs={"p": {"value": 1}}, outputs={"q": {"glob": "*.txt"}})},
    )
    assert errors_of(doc) == [
        ("missing-key", "manifest.json: resources.r.value"),
        ("missing-key", "manifest.json: inputs.i.type"),
        ("missing-key", "manifest.json: outputs.o.type"),
        ("missing-key", "manifest.json: models.m.inputs.p.type"),
        ("missing-key", "manifest.json: models.m.outputs.q.type"),
    ]


def test_null_values_are_refused_by_the_schema() -> None:
    result = check_manifest(minimal_manifest(inputs={"i": {"type": "string", "value": None}}))
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        ("wrong-type", "manifest.json: inputs.i.value", "expected any JSON value but null, got null")
    ]


# -- unknown keys and inner names (what delta-core's parser would crash on) -----------------------------


@pytest.mark.parametrize(
    ("section", "body", "path"),
    [
        ("inputs", {"type": "string", "description:": "x"}, 'inputs.bbox."description:"'),
        ("resources", {"type": "string", "value": "v", "prefix": "-p"}, "resources.bbox.prefix"),
        ("outputs", {"type": "Data", "glob": "*.zip"}, "outputs.bbox.glob"),
        ("dependencies", {"id": "x", "version": "1", "url": "u"}, "dependencies.bbox.url"),
    ],
)
def test_unknown_keys_in_elements_are_errors_with_their_path(section, body, path) -> None:
    result = check_manifest(minimal_manifest(**{section: {"bbox": body}}))
    assert [(p.severity, p.code, p.location) for p in result.problems] == [
        ("error", "unknown-key", f"manifest.json: {path}")
    ]


def test_a_misspelt_key_gets_a_suggestion() -> None:
    result = check_manifest(minimal_manifest(inputs={"bbox": {"type": "string", "description:": "x"}}))
    assert [p.render() for p in result.problems] == [
        'error   manifest.json: inputs.bbox."description:": unknown key (did you mean "description"?) [unknown-key]'
    ]


def test_unknown_keys_in_model_ports_are_errors() -> None:
    doc = minimal_manifest(
        models={
            "m": model(inputs={"a": {"type": "string", "zz": 1}}, outputs={"b": {"type": "Data", "glob": "x", "zz": 1}})
        }
    )
    assert errors_of(doc) == [
        ("unknown-key", "manifest.json: models.m.inputs.a.zz"),
        ("unknown-key", "manifest.json: models.m.outputs.b.zz"),
    ]


def test_an_inner_name_must_repeat_the_map_key() -> None:
    same = check_manifest(minimal_manifest(inputs={"bbox": {"type": "string", "name": "bbox"}}))
    assert [(p.severity, p.code, p.location) for p in same.problems] == [
        ("warning", "name-redundant", "manifest.json: inputs.bbox.name")
    ]
    assert same.manifest.inputs["bbox"].name == "bbox"
    other = check_manifest(minimal_manifest(inputs={"bbox": {"type": "string", "name": "area"}}))
    assert [(p.severity, p.code, p.location, p.message) for p in other.problems] == [
        (
            "error",
            "name-mismatch",
            "manifest.json: inputs.bbox.name",
            'string "area" differs from its map key "bbox", which is the name',
        )
    ]
    assert other.manifest.inputs["bbox"].name == "bbox"  # the key wins


def test_a_name_inside_a_model_is_refused_by_the_schema() -> None:
    result = check_manifest(minimal_manifest(models={"m": {**model(), "name": "m"}}))
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        ("unknown-key", "manifest.json: models.m.name", 'unknown key (a model\'s name is its key in "models")')
    ]


# -- types and values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_", ["boolean", "integer", "number", "string", "secret", "Data", "stdout", "array", "object", "json"]
)
def test_the_type_vocabulary_is_accepted(type_) -> None:
    result = check_manifest(minimal_manifest(inputs={"i": {"type": type_}}))
    # accepted; an array/object/json twin input also says delta-core 1.2.7 can never be given one
    expected = ["reference-cannot-run"] if type_ in ("array", "object", "json") else []
    assert result.ok and [p.code for p in result.problems] == expected
    assert result.manifest.inputs["i"].type == type_


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"type": "data"}, 'an input typed "data" can never be satisfied there'),
        ({"type": "Data", "value": "https://x/a.tif"}, "a Data default must be an object"),
        ({"type": "secret", "value": "x"}, "a secret default crashes the run there"),
        ({"type": "array", "value": [1]}, "array defaults crash the run there"),
    ],
)
def test_inputs_the_reference_cannot_run_are_warned(body, reason) -> None:
    result = check_manifest(minimal_manifest(inputs={"i": body}))
    warned = [p.message for p in result.problems if p.code == "reference-cannot-run"]
    assert result.ok and len(warned) == 1
    assert warned[0].startswith(f"delta-core 1.2.7 cannot run this: {reason}")


@pytest.mark.parametrize(("written", "read"), [("data", "Data"), ("DATA", "Data"), ("String", "string")])
def test_case_variants_are_read_with_a_warning(written, read) -> None:
    result = check_manifest(minimal_manifest(inputs={"i": {"type": written}}))
    assert [(p.severity, p.code, p.location, p.message) for p in result.problems] == [
        (
            "warning",
            "reference-cannot-run",
            "manifest.json: inputs.i",
            f'delta-core 1.2.7 cannot run this: an input typed "{written}" can never be satisfied there '
            "(every value gives return code 110)",
        ),
        ("warning", "type-case", "manifest.json: inputs.i.type", f'"{written}" read as "{read}"'),
    ]
    assert result.manifest.inputs["i"].type == read


@pytest.mark.parametrize("section", ["inputs", "outputs", "resources"])
def test_unknown_types_are_errors(section) -> None:
    body = {"type": "numeric", "value": 1} if section == "resources" else {"type": "numeric"}
    result = check_manifest(minimal_manifest(**{section: {"x": body}}))
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        (
            "unknown-type",
            f"manifest.json: {section}.x.type",
            'unknown type "numeric" (expected one of boolean, integer, '
            "number, string, secret, Data, stdout, array, object, json)",
        )
    ]


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        ("integer", "3", 'expected an integer for type integer, got string "3"'),
        ("integer", 3.5, "expected an integer for type integer, got number 3.5"),
        ("integer", True, "expected an integer for type integer, got boolean true"),
        ("boolean", 1, "expected a boolean for type boolean, got integer 1"),
        ("string", 20, "expected a string for type string, got integer 20"),
        ("number", "2.5", 'expected a number for type number, got string "2.5"'),
        ("array", {}, "expected an array for type array, got an object"),
        ("object", [], "expected an object for type object, got an array"),
        ("secret", 3, "expected a string for type secret, got integer 3"),
        ("Data", 3, "expected a URL string or an object with url for type Data, got integer 3"),
    ],
)
def test_default_values_must_match_their_type(type_, value, message) -> None:
    result = check_manifest(minimal_manifest(inputs={"i": {"type": type_, "value": value}}))
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        ("value-type", "manifest.json: inputs.i.value", message)
    ]


def test_an_integer_for_a_number_is_accepted_with_a_warning_and_kept() -> None:
    result = check_manifest(minimal_manifest(resources={"cloud": {"type": "number", "value": 20}}))
    assert [(p.severity, p.code, p.message) for p in result.problems] == [
        (
            "warning",
            "value-widened",
            "integer 20 given for a number: accepted; it stays the integer 20 downstream, as in delta-core",
        )
    ]
    value = result.manifest.resources["cloud"].value
    assert value == 20 and isinstance(value, int)  # what flows downstream is unchanged (spec: Wrong #6)


def test_data_values_are_a_url_string_or_an_object_with_url() -> None:
    doc = minimal_manifest(
        inputs={"a": {"type": "Data", "value": {"url": "https://x/a.tif"}}},
        resources={"b": {"type": "Data", "value": "https://x/b.tif"}},
        models={"m": model(inputs={"c": {"type": "Data", "value": {"url": "https://x/c", "path": "runs/c"}}})},
    )
    result = check_manifest(doc)
    assert result.ok and result.problems == ()
    assert result.manifest.inputs["a"].default == DataRef("https://x/a.tif")
    assert result.manifest.resources["b"].value == DataRef("https://x/b.tif")
    assert result.manifest.models["m"].inputs["c"].default == DataRef("https://x/c", "runs/c")


def test_a_data_object_without_url_or_with_unknown_keys_is_an_error() -> None:
    doc = minimal_manifest(
        inputs={"a": {"type": "Data", "value": {"path": "p"}}, "b": {"type": "Data", "value": {"url": "u", "uri": "x"}}}
    )
    assert errors_of(doc) == [
        ("value-type", "manifest.json: inputs.a.value.url"),
        ("unknown-key", "manifest.json: inputs.b.value.uri"),
    ]


# -- the resources alias and dependencies ------------------------------------------------------------------


def test_internal_resources_is_read_as_resources_with_a_warning() -> None:
    result = check_manifest(minimal_manifest(internal_resources={"r": {"type": "string", "value": "v"}}))
    assert [(p.severity, p.code, p.location) for p in result.problems] == [
        ("warning", "resources-alias", "manifest.json: internal_resources")
    ]
    assert result.manifest.resources == {"r": Resource("r", "string", "v")}


def test_problems_inside_internal_resources_are_located_under_the_key_the_file_has() -> None:
    result = check_manifest(
        minimal_manifest(internal_resources={"r": {"type": "string", "value": "v", "zz": 1}, "q": {"type": "string"}})
    )
    assert [(p.severity, p.code, p.location) for p in result.problems] == [
        ("warning", "resources-alias", "manifest.json: internal_resources"),
        ("error", "unknown-key", "manifest.json: internal_resources.r.zz"),
        ("error", "missing-key", "manifest.json: internal_resources.q.value"),
    ]


def test_resources_and_internal_resources_together_are_an_error() -> None:
    doc = minimal_manifest(resources={}, internal_resources={})
    assert errors_of(doc) == [("resources-conflict", "manifest.json: internal_resources")]


def test_the_caller_document_is_never_changed() -> None:
    doc = minimal_manifest(internal_resources={"r": {"type": "string", "value": "v"}})
    before = copy.deepcopy(doc)
    check_manifest(doc)
    assert doc == before


def test_v1_1_dependency_lists_are_converted_to_the_map_form() -> None:
    doc = {
        "deltaVersion": "1.1",
        "name": "n",
        "description": "d",
        "license": LICENSE,
        "dependencies": ["stac==0.4", "plot == 1.0.0"],
    }
    result = check_manifest(doc)
    assert result.ok and result.problems == ()
    assert result.manifest.dependencies == {
        "stac": Dependency("stac", "stac", "0.4"),
        "plot": Dependency("plot", "plot", "1.0.0"),
    }


@pytest.mark.parametrize(
    ("entry", "code", "message"),
    [
        ("stac", "bad-dependency", '"stac" is not written name==version'),
        ("stac==", "bad-dependency", '"stac==" is not written name==version'),
        ("9x==1", "bad-identifier", '"9x" is not a valid name: use letters, digits, _ and -, starting with a letter'),
    ],
)
def test_bad_v1_1_dependency_entries(entry, code, message) -> None:
    doc = {"deltaVersion": "1.1", "name": "n", "description": "d", "license": LICENSE, "dependencies": [entry]}
    result = check_manifest(doc)
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        (code, "manifest.json: dependencies[0]", message)
    ]


def test_dependency_list_form_is_only_accepted_in_1_1() -> None:
    assert errors_of(minimal_manifest(dependencies=["stac==0.4"])) == [("wrong-type", "manifest.json: dependencies")]
    doc = {
        "deltaVersion": "1.1",
        "name": "n",
        "description": "d",
        "license": LICENSE,
        "dependencies": {"stac": {"id": "s", "version": "1"}},
    }
    assert errors_of(doc) == [("wrong-type", "manifest.json: dependencies")]


def test_dependencies_need_id_and_version() -> None:
    doc = minimal_manifest(dependencies={"stac": {"id": "stac_query"}, "plot": {"version": "1"}})
    assert errors_of(doc) == [
        ("missing-key", "manifest.json: dependencies.stac.version"),
        ("missing-key", "manifest.json: dependencies.plot.id"),
    ]


# -- models ---------------------------------------------------------------------------------------------


def test_only_python_models_can_run() -> None:
    result = check_manifest(minimal_manifest(models={"m": {**model(), "type": "docker"}}))
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        (
            "unsupported-runner",
            "manifest.json: models.m.type",
            'unsupported runner "docker" (only "python" models can run)',
        )
    ]


def test_a_model_needs_path_type_parameters_and_a_command() -> None:
    assert errors_of(minimal_manifest(models={"m": {}})) == [
        ("missing-key", "manifest.json: models.m.path"),
        ("missing-key", "manifest.json: models.m.type"),
        ("missing-key", "manifest.json: models.m.parameters"),
    ]
    no_command = model()
    del no_command["parameters"]["command"]
    result = check_manifest(minimal_manifest(models={"m": no_command}))
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        ("missing-key", "manifest.json: models.m.parameters.command", "missing required key: the model's command line")
    ]


def test_data_model_outputs_need_a_glob_and_stdout_does_not() -> None:
    doc = minimal_manifest(models={"m": model(outputs={"tif": {"type": "Data"}, "log": {"type": "stdout"}})})
    result = check_manifest(doc)
    assert [(p.code, p.location, p.message) for p in result.problems] == [
        (
            "glob-missing",
            "manifest.json: models.m.outputs.tif",
            "a Data model output needs a glob: the file pattern that collects it",
        )
    ]


CommandCase = tuple[str, list[tuple[str, str, str]]]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("python main.py $(inputs.a) --flag $(inputs.b)", []),
        (
            "python main.py $(inputs.zz)",
            [("error", "undeclared-placeholder", "$(inputs.zz) names an input the model does not declare")],
        ),
        (
            "python main.py $(inputs.aa)",
            [
                (
                    "error",
                    "undeclared-placeholder",
                    '$(inputs.aa) names an input the model does not declare (did you mean "a"?)',
                )
            ],
        ),
        (
            "python main.py $(outputs.a)",
            [("error", "bad-placeholder", '"$(outputs.a)": only $(inputs.<name>) placeholders can be substituted')],
        ),
        (
            "python main.py --k=$(inputs.a)",
            [
                (
                    "warning",
                    "placeholder-not-substituted",
                    '"--k=$(inputs.a)": a placeholder is only substituted at the start of a space-separated word; '
                    "delta-core's bash then runs it as a command substitution (it becomes empty, with an error on stderr)",
                )
            ],
        ),
        (
            "python main.py $(inputs.a)/x.tif",
            [
                (
                    "warning",
                    "placeholder-suffix",
                    '"$(inputs.a)/x.tif": the text after $(inputs.a) is dropped when it is substituted',
                )
            ],
        ),
        (
            "python main.py inputs.a",
            [
                (
                    "warning",
                    "bare-placeholder",
                    '"inputs.a" is passed literally: write $(inputs.a) to substitute the input',
                )
            ],
        ),
        ("python main.py inputs.other", []),  # not an input of the model: an ordinary word
    ],
)
def test_command_placeholders_are_checked_as_delta_core_substitutes_them(command, expected) -> None:
    doc = minimal_manifest(
        models={"m": model(inputs={"a": {"type": "string"}, "b": {"type": "string"}}, command=command)}
    )
    result = check_manifest(doc)
    assert [(p.severity, p.code, p.message) for p in result.problems] == expected
    assert all(p.location == "manifest.json: models.m.parameters.command" for p in result.problems)


def test_glob_placeholders_must_name_declared_inputs() -> None:
    doc = minimal_manifest(
        models={
            "m": model(
                inputs={"a": {"type": "string"}}, outputs={"o": {"type": "Data", "glob": "$(inputs.a)_$(inputs.b).tif"}}
            )
        }
    )
    assert errors_of(doc) == [("undeclared-placeholder", "manifest.json: models.m.outputs.o.glob")]


def test_rendering_surprises_are_warnings() -> None:
    doc = minimal_manifest(
        models={
            "m": model(
                inputs={
                    "flag": {"type": "boolean"},
                    "on": {"type": "boolean", "prefix": "--on"},
                    "xs": {"type": "array"},
                }
            )
        }
    )
    result = check_manifest(doc)
    assert [(p.severity, p.code, p.location) for p in result.problems] == [
        ("warning", "boolean-without-prefix", "manifest.json: models.m.inputs.flag"),
        ("warning", "unrendered-type", "manifest.json: models.m.inputs.xs.type"),
    ]


@pytest.mark.parametrize(
    ("version", "expected", "read"),
    [
        ("3.12", [], "3.12"),
        (
            "3.12.2",
            [("warning", "python-version", '"3.12.2" is read as "3.12": images are built per minor version')],
            "3.12",
        ),
        (
            "3.9",
            [("warning", "python-version", "Python 3.9 is outside the versions delta-core builds (3.10 to 3.14)")],
            "3.9",
        ),
        ("three", [("error", "bad-value", '"three" is not a Python version such as "3.12"')], None),
        (3.12, [("error", "wrong-type", 'expected a string such as "3.12", got number 3.12')], None),
    ],
)
def test_python_versions(version, expected, read) -> None:
    body = model()
    body["parameters"]["pythonVersion"] = version
    result = check_manifest(minimal_manifest(models={"m": body}))
    assert [(p.severity, p.code, p.message) for p in result.problems] == expected
    assert result.manifest.models["m"].python_version == read


def test_runner_parameters_are_parsed_and_unknown_ones_kept_with_a_warning() -> None:
    body = model(
        pipRequirements=[{"name": "numpy", "version": "1.26.4"}],
        aptRequirements=[{"name": "gdal-bin"}],
        pipRequirementFiles=["requirements.txt"],
        environment={"MODE": "fast", "THREADS": 4},
        hardwareRequirements={"cpu": "4000m", "ram": "16Gi"},
        pipInstallArgs="--verbose",
        image="python:3.10",
    )
    result = check_manifest(minimal_manifest(models={"m": body}))
    assert [(p.severity, p.code, p.location) for p in result.problems] == [
        ("warning", "unknown-parameter", "manifest.json: models.m.parameters.image")
    ]
    m = result.manifest.models["m"]
    assert m.pip_requirements == (Requirement("numpy", "1.26.4"),)
    assert m.apt_requirements == (Requirement("gdal-bin"),)
    assert m.pip_requirement_files == ("requirements.txt",)
    assert m.environment == {"MODE": "fast", "THREADS": "4"}
    assert m.parameters["image"] == "python:3.10" and m.command == "python main.py" and m.runner == "python"


def test_malformed_runner_parameters_are_errors() -> None:
    body = model(
        pipRequirements=[{"version": "1"}, "numpy", {"name": "x", "extra": 1}],
        environment=[],
        pipRequirementFiles="req.txt",
    )
    assert errors_of(minimal_manifest(models={"m": body})) == [
        ("missing-key", "manifest.json: models.m.parameters.pipRequirements[0].name"),
        ("wrong-type", "manifest.json: models.m.parameters.pipRequirements[1]"),
        ("unknown-key", "manifest.json: models.m.parameters.pipRequirements[2].extra"),
        ("wrong-type", "manifest.json: models.m.parameters.environment"),  # problems follow the file's key order
        ("wrong-type", "manifest.json: models.m.parameters.pipRequirementFiles"),
    ]


def test_twin_outputs_other_than_data_are_a_warning() -> None:
    result = check_manifest(minimal_manifest(outputs={"n": {"type": "integer"}}))
    assert [(p.severity, p.code) for p in result.problems] == [("warning", "output-not-data")]


# -- deltaVersion 1.0 -------------------------------------------------------------------------------------


def test_v1_0_single_model_and_data_folder_are_exposed_in_the_typed_model() -> None:
    doc = {
        "deltaVersion": "1.0",
        "name": "old",
        "description": "d",
        "license": LICENSE,
        "resources": {"path": "resources", "items": [{"name": "dem", "source_url": "https://x/dem.tif"}]},
        "models": {
            "path": "models",
            "type": "python",
            "parameters": {"pythonVersion": "3.11", "command": "python run.py"},
        },
    }
    result = check_manifest(doc)
    assert result.ok
    assert [(p.severity, p.code, p.location) for p in result.problems] == [
        ("warning", "legacy-format", "manifest.json: resources"),
        ("warning", "legacy-format", "manifest.json: models"),
    ]
    assert result.manifest.resources == {"dem": Resource("dem", "Data", DataRef("https://x/dem.tif"))}
    assert result.manifest.models["model"].command == "python run.py"
