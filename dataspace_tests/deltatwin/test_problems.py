"""Problems: key paths as people write them, one readable line each, JSON objects, file order."""

from __future__ import annotations

import pytest

from dataspace_assets.deltatwin.problems import Problem, Problems, describe, format_path, json_kind, kind, sort_problems


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("inputs", "bbox", "description:"), 'inputs.bbox."description:"'),
        (("nodes", 3, "ref"), "nodes[3].ref"),
        (("license", "copyrights", 0, "years", 1), "license.copyrights[0].years[1]"),
        (("inputs", "a b"), 'inputs."a b"'),
        (("inputs", "a.b"), 'inputs."a.b"'),
        (("inputs", ""), 'inputs.""'),
        (("inputs", 'say "hi"\n'), 'inputs."say \\"hi\\"\\n"'),
        (("models", "ai-sen2cor-processor", "type"), "models.ai-sen2cor-processor.type"),
        (("9a",), '"9a"'),
    ],
)
def test_paths_read_as_written_with_odd_keys_quoted(path, text) -> None:
    assert format_path(path) == text


def test_a_problem_renders_as_one_aligned_line_and_a_json_object() -> None:
    error = Problem("error", "unknown-key", "manifest.json", ("inputs", "bbox", "description:"), "unknown key")
    warning = Problem("warning", "unwired-output", "workflow.yml", ("nodes", 6), "no incoming edge")
    note = Problem("info", "workflow-name", "workflow.yml", (), "found workflow.yaml")
    assert error.render() == 'error   manifest.json: inputs.bbox."description:": unknown key [unknown-key]'
    assert warning.render() == "warning workflow.yml: nodes[6]: no incoming edge [unwired-output]"
    assert note.render() == "info    workflow.yml: found workflow.yaml [workflow-name]"
    assert str(error) == error.render()
    assert error.to_dict() == {
        "severity": "error",
        "code": "unknown-key",
        "file": "manifest.json",
        "path": 'inputs.bbox."description:"',
        "message": "unknown key",
    }


def test_problems_are_collected_once_each() -> None:
    out = Problems("manifest.json")
    out.error(("a",), "x", "m")
    out.error(("a",), "x", "m")
    out.warning(("a",), "x", "m")
    out.info((True, 1.5), "y", "odd path parts become text")
    assert [(p.severity, p.path) for p in out] == [("error", ("a",)), ("warning", ("a",)), ("info", ("True", "1.5"))]
    assert out.has_errors and len(out) == 3


def test_problems_sort_in_the_order_of_the_file() -> None:
    data = {"name": "n", "inputs": {"b": {}, "a": {"type": 1}}, "models": {}}
    problems = [
        Problem("error", "c", "f", ("owner",), "missing, so after every key present"),
        Problem("error", "c", "f", ("inputs", "a", "type"), "second input"),
        Problem("error", "c", "f", ("models",), "models"),
        Problem("error", "c", "f", ("inputs", "b"), "first input"),
        Problem("error", "c", "f", (), "the file itself"),
    ]
    assert [p.message for p in sort_problems(problems, data)] == [
        "the file itself",
        "first input",
        "second input",
        "models",
        "missing, so after every key present",
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "boolean true"),
        (3, "integer 3"),
        (2.5, "number 2.5"),
        ("x", 'string "x"'),
        ([1], "an array"),
        ({}, "an object"),
        ("y" * 60, 'string "' + "y" * 37 + '..."'),
    ],
)
def test_values_are_described_briefly(value, text) -> None:
    assert describe(value) == text


@pytest.mark.parametrize(
    ("value", "json_name", "with_article", "described"),
    [
        (None, "null", "null", "null"),
        (True, "boolean", "a boolean", "boolean true"),
        (3, "integer", "an integer", "integer 3"),
        (2.5, "number", "a number", "number 2.5"),
        ("x", "string", "a string", 'string "x"'),
        ([1], "array", "an array", "an array"),
        ({"a": 1}, "object", "an object", "an object"),
    ],
)
def test_json_kinds_in_messages(value, json_name: str, with_article: str, described: str) -> None:
    assert (json_kind(value), kind(value), describe(value)) == (json_name, with_article, described)
