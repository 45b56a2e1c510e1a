"""Acceptance on the real DeltaTwin projects of ../shared/deltatwin_examples/ (read at test time, never copied)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dataspace_assets.deltatwin.manifest import check_manifest
from dataspace_assets.deltatwin.validate import validate_files, validate_folder
from dataspace_assets.deltatwin.workflow import Port
from dataspace_tests.deltatwin.helpers import README_EXAMPLE, VERSIONS, minimum_file

# The warnings each valid project is expected to give: (severity, code) -> count.
EXPECTED_VALID = {
    "ai-sen2cor": {
        # `python main.py inputs.cdse_key inputs.cdse_secret`: the placeholders lack $( ), a bug of that project
        ("warning", "bare-placeholder"): 2,
        ("warning", "identifier-style"): 8,  # L2A_B02 ... as twin and model output keys
        ("warning", "python-version"): 1,  # "3.12.2"
    },
    "mucilage": {("warning", "python-version"): 1},
    "flood": {("warning", "python-version"): 1},
    "all_models": {
        ("warning", "identifier-style"): 4,
        ("warning", "python-version"): 3,
        ("info", "unresolved-dependency"): 3,
    },
    "get-product": {
        ("warning", "python-version"): 1,
        ("warning", "value-widened"): 1,
        ("info", "unresolved-dependency"): 1,
    },
    "generate_plots": {("warning", "identifier-style"): 8, ("warning", "python-version"): 1},
}


@pytest.mark.parametrize("short", sorted(EXPECTED_VALID))
def test_the_valid_projects_validate_with_the_expected_warnings(short, example_twin) -> None:
    report = validate_folder(example_twin(short))
    assert report.ok, report.lines()
    assert Counter((p.severity, p.code) for p in report.problems) == EXPECTED_VALID[short]
    assert report.twin is not None
    assert set(report.twin.nodes) == {n.id for n in report.twin.workflow.nodes}


def test_all_models_binds_21_nodes_and_30_edges(example_twin) -> None:
    twin = validate_folder(example_twin("all_models")).twin
    assert (len(twin.nodes), len(twin.workflow.edges)) == (21, 30)
    # the same model and the same dependency each run in two nodes
    assert twin.nodes["preprocessing_l1c"].element is twin.nodes["preprocessing_l2a"].element
    assert twin.nodes["get_sen2_products_l1c"].element is twin.nodes["get_sen2_products_l2a"].element
    assert twin.nodes["inference"].inputs == {"s2_preprocessed": Port("preprocessing_l1c", "x_tensor")}
    order = twin.order
    assert (
        order.index("preprocessing_l1c")
        < order.index("inference")
        < order.index("postprocessing_l2a")
        < order.index("generate_plot")
    )


def test_get_product_is_wired_as_the_specification_describes(example_twin) -> None:
    twin = validate_folder(example_twin("get-product")).twin
    assert twin.nodes["get_product"].inputs == {
        "cdse_key": Port("cdse_key"),
        "cdse_secret": Port("cdse_secret"),
        "bands": Port("bands"),
        "product_level": Port("product_level_l1c"),  # node id and port name differ
        "stac_item": Port("stac_query_most_recent", "stac_items"),  # a dependency output into a model input
    }
    assert twin.nodes["stac_query_most_recent"].inputs == {
        "bbox": Port("bbox"),
        "max_cloud_cover": Port("max_cloud_cover"),
    }
    assert twin.nodes["output_l1c_raw"].inputs == {"data": Port("get_product", "l1c_raw")}
    value = twin.manifest.resources["max_cloud_cover"].value
    assert value == 20 and isinstance(value, int)  # kept an integer: the dependency's input is an integer


def test_mucilage_model_is_parsed_for_the_executor(example_twin) -> None:
    twin = validate_folder(example_twin("mucilage")).twin
    detector = twin.manifest.models["mucilage_detector"]
    assert detector.python_version == "3.11"
    assert [r.name for r in detector.apt_requirements] == ["gdal-bin", "libgdal-dev", "libnetcdf-c++4-dev"]
    assert all(r.version is None for r in detector.apt_requirements)
    assert detector.parameters["pipInstallArgs"] == "--verbose"
    assert detector.outputs["out_segmentation"].glob == "mucilage_masks.zip"
    assert twin.nodes["output_segmentation"].inputs == {"data": Port("mucilage_detector", "out_segmentation")}


def test_the_end_to_end_project_fails_naming_its_broken_parts(example_twin) -> None:
    report = validate_folder(example_twin("end-to-end"))
    assert not report.ok and report.twin is None
    assert [line for line in report.lines() if line.startswith("error")] == [
        'error   manifest.json: inputs.bbox."description:": unknown key (did you mean "description"?) [unknown-key]',
        "error   manifest.json: models.inference.parameters.command: $(inputs.cdse_key) "
        "names an input the model does not declare [undeclared-placeholder]",
        "error   manifest.json: models.inference.parameters.command: $(inputs.cdse_secret) "
        "names an input the model does not declare [undeclared-placeholder]",
        "error   manifest.json: models.inference.parameters.command: $(inputs.bands) "
        "names an input the model does not declare [undeclared-placeholder]",
        "error   manifest.json: models.inference.parameters.command: $(inputs.product_level) "
        "names an input the model does not declare [undeclared-placeholder]",
        "error   manifest.json: models.inference.parameters.command: $(inputs.stac_item) "
        "names an input the model does not declare [undeclared-placeholder]",
        "error   workflow.yml: nodes[15].ref: models.get_product is not "
        "declared in manifest.json (declared models: inference) [dangling-ref]",
    ]
    assert "warning workflow.yml: edges[11]: repeats edges[6] [duplicate-edge]" in report.lines()


def test_stac_data_query_is_flagged_for_the_typo_port_and_the_unwired_output(example_twin) -> None:
    report = validate_folder(example_twin("stac"))
    assert not report.ok
    assert [line for line in report.lines() if line.startswith("workflow.yml") or " workflow.yml: " in line] == [
        'warning workflow.yml: nodes[5]: input "max_cloud_cover" of models.stac_query '
        "has no default and no incoming edge: it renders empty [unbound-input]",
        "warning workflow.yml: nodes[6]: output node stac_items (outputs.stac_items) "
        "has no incoming edge: the run will not produce it [unwired-output]",
        'error   workflow.yml: edges[4].to.port: port "max_cloud_covery" is not an input of models.stac_query '
        "(inputs: bbox_max_lat, bbox_max_lon, bbox_min_lat, bbox_min_lon, max_cloud_cover) "
        '(did you mean "max_cloud_cover"?) [unknown-port]',
    ]


def test_the_specification_complete_example_validates_only_as_1_1(deltatwin_examples_dir: Path) -> None:
    doc = json.loads((deltatwin_examples_dir / README_EXAMPLE).read_text())
    verdicts = {version: check_manifest(doc, version=version).ok for version in VERSIONS}
    assert verdicts == {"1.0": False, "1.1": True, "1.2": False, "1.3": False, "1.4": False}
    as_declared = check_manifest(doc)  # no deltaVersion: 1.4
    assert [(p.code, p.location) for p in as_declared.problems if p.severity == "error"] == [
        ("wrong-type", "manifest.json: dependencies"),
        ("missing-key", "manifest.json: owner"),
    ]
    as_1_1 = check_manifest(doc, version="1.1").manifest
    assert as_1_1.dependencies["another_delta_twin"].version == "1.0.0"
    assert as_1_1.resources["r1"].value.url.startswith("https://vision.odata.gael.fr/")
    assert as_1_1.models["json-formatter"].outputs["out"].type == "stdout"


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_minimum_validates_as_its_version(version, deltatwin_examples_dir: Path) -> None:
    doc = json.loads((deltatwin_examples_dir / minimum_file(version)).read_text())
    result = check_manifest(doc, version=version)
    assert result.ok, result.problems
    # "Delta Twin name" is not a good component name: the only remark
    assert [(p.severity, p.code) for p in result.problems] == [("warning", "identifier-style")]


def test_every_real_manifest_fails_1_0_and_1_1_because_of_owner(example_manifest) -> None:
    for short in EXPECTED_VALID:
        doc = example_manifest(short)
        for version in ("1.0", "1.1"):
            assert "manifest.json: owner" in [
                p.location for p in check_manifest(doc, version=version).problems if p.severity == "error"
            ]
        for version in ("1.2", "1.3", "1.4"):
            assert check_manifest(doc, version=version).ok


def test_a_manifest_and_workflow_can_be_validated_from_their_corpus_paths(deltatwin_examples_dir: Path) -> None:
    prefix = "germanasergi__DeltaTwin-od-flood"
    report = validate_files(
        deltatwin_examples_dir / f"{prefix}__manifest.json", deltatwin_examples_dir / f"{prefix}__workflow.yml"
    )
    assert report.ok and report.twin is not None
    assert {p.file for p in report.problems} == {f"{prefix}__manifest.json"}
