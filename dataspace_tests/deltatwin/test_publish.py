"""The publish check (behaviour 36): a PEP 440 version, manifest.json and workflow.yml, a manifest valid under 1.4."""

from __future__ import annotations

import pytest

from dataspace_assets.deltatwin.publish import check_publish_version
from dataspace_assets.deltatwin.validate import validate_folder
from dataspace_tests.deltatwin.helpers import minimal_manifest, triples

EMPTY_WORKFLOW = {"nodes": [], "edges": []}


@pytest.mark.parametrize("version", ["1.0.0", "0.4", "2.1rc1", "1.0.post2"])
def test_pep_440_versions_are_accepted(version: str) -> None:
    assert check_publish_version(version) == ()


@pytest.mark.parametrize("version", ["abc", "1.0.x", "", "1..0", "latest"])
def test_a_version_that_is_not_pep_440_is_an_error(version: str) -> None:
    (problem,) = check_publish_version(version)
    assert (problem.severity, problem.code, problem.file, problem.path) == ("error", "publish-version", "VERSION", ())
    assert problem.message == f'"{version}" is not a PEP 440 version (for example 1.0.0 or 1.2rc1)'


@pytest.mark.parametrize("version", ["1.0+abc", "3!1.0"])
def test_pep_440_versions_that_cannot_tag_an_image_are_refused(version: str) -> None:
    (problem,) = check_publish_version(version)
    assert (problem.severity, problem.message) == (
        "error",
        f'"{version}" cannot tag the model images (Docker tags allow letters, digits, _ . - only)',
    )


def test_a_version_pep_440_normalises_gets_a_note() -> None:
    assert triples(check_publish_version("v1.0")) == [("info", "publish-version", "VERSION")]
    assert check_publish_version("v1.0")[0].message == '"v1.0" is read by PEP 440 as "1.0"'


def test_a_clean_folder_can_be_published(twin_folder) -> None:
    report = validate_folder(twin_folder(minimal_manifest(), EMPTY_WORKFLOW), publish="1.0.0")
    assert report.problems == () and report.twin is not None


def test_both_files_are_required(twin_folder) -> None:
    report = validate_folder(twin_folder(minimal_manifest()), publish="1.0.0")
    assert triples(report.problems) == [("error", "file-missing", "workflow.yml")]
    report = validate_folder(twin_folder(workflow=EMPTY_WORKFLOW, name="nomanifest"), publish="1.0.0")
    assert triples(report.problems) == [("error", "file-missing", "manifest.json")]


def test_the_manifest_is_validated_as_1_4_whatever_its_delta_version(twin_folder) -> None:
    # valid as 1.2 (its declared version), but publish validates against 1.4, whose enum refuses "1.2"
    manifest = minimal_manifest(deltaVersion="1.2", license={"name": "x", "url": "u", "copyrights": []})
    folder = twin_folder(manifest, EMPTY_WORKFLOW)
    assert validate_folder(folder).ok
    report = validate_folder(folder, publish="1.0.0")
    assert triples(report.errors) == [("error", "bad-value", "manifest.json: deltaVersion")]
    assert report.twin is None


def test_a_1_1_manifest_without_owner_cannot_be_published(twin_folder) -> None:
    manifest = {"name": "old", "description": "d", "license": {"name": "x", "url": "u", "copyrights": []}}
    folder = twin_folder(manifest, EMPTY_WORKFLOW)
    assert validate_folder(folder, version="1.1").ok
    assert ("error", "missing-key", "manifest.json: owner") in triples(validate_folder(folder, publish="1.0").errors)


def test_the_version_problem_comes_first_and_fails_the_report(twin_folder) -> None:
    report = validate_folder(twin_folder(minimal_manifest(), EMPTY_WORKFLOW), publish="nope")
    assert triples(report.problems) == [("error", "publish-version", "VERSION")]
    assert not report.ok and report.twin is None


def test_publish_cannot_be_combined_with_another_schema_version(twin_folder) -> None:
    with pytest.raises(ValueError, match="publishing validates the manifest as 1.4, not 1.2"):
        validate_folder(twin_folder(minimal_manifest(), EMPTY_WORKFLOW), version="1.2", publish="1.0")


def test_publishing_refuses_internal_resources(twin_folder) -> None:
    # a local validation reads the alias with a warning; publish's 1.4 schema check refuses the key
    resources = {"r": {"type": "string", "value": "x"}}
    folder = twin_folder(minimal_manifest(internal_resources=resources), EMPTY_WORKFLOW)
    assert validate_folder(folder).ok
    report = validate_folder(folder, publish="1.0.0")
    assert not report.ok
    assert triples(report.problems) == [("error", "resources-alias", "manifest.json: internal_resources")]
