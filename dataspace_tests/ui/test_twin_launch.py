"""A twin launched from the UI's API (GraphQL `launchRun`, what the Launchpad sends) materializes its outputs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataspace_assets.instance import INSTANCE_TEMPLATE
from dataspace_tests.services import PROJECT_ROOT, DagsterWebserver

pytestmark = [pytest.mark.ui, pytest.mark.services]

TWIN = "example-word-count"
# No daemon in this test: runs are launched directly instead of queued (everything else as dagster.yaml).
INSTANCE = "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"  # as Dagster documents it


@pytest.fixture(scope="module")
def launch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DagsterWebserver, Path]]:
    home = tmp_path_factory.mktemp("twin-ui-home")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text() + INSTANCE)
    env = {"DATASPACE_HOME": str(home), "DATASPACE_EXECUTOR": "in_process"}
    server = DagsterWebserver(home / "dagster", env=env).start()
    yield server, home
    server.stop()


LAUNCH = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
STATUS = '{ runOrError(runId: "%s") { ... on Run { status tags { key value } } } }'


def graphql(server: DagsterWebserver, query: str, variables: dict | None = None) -> dict:
    import requests

    answer = requests.post(f"{server.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
    assert answer.ok and not answer.json().get("errors"), answer.text[:2000]
    return answer.json()["data"]


def test_a_launchpad_run_materializes_the_collector_then_the_twin(launch_server) -> None:
    server, home = launch_server
    keys = [["dataspace", "example_air_quality"], ["deltatwin", TWIN, "counts"], ["deltatwin", TWIN, "summary"]]
    params = {
        "selector": {
            "repositoryLocationName": "dataspace",
            "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": key} for key in keys],
        },
        "runConfigData": {"ops": {"deltatwin__example_word_count": {"config": {"text": "ui ui launch"}}}},
    }
    answer = graphql(server, LAUNCH, {"params": params})["launchRun"]
    assert answer["__typename"] == "LaunchRunSuccess", answer
    run_id = answer["run"]["runId"]
    deadline = time.monotonic() + 600
    while True:
        run = graphql(server, STATUS % run_id)["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
        time.sleep(1)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS", tags
    assert tags["deltatwin/status"] == "success" and tags["deltatwin/return_code"] == "0"
    described = home / "deltatwin" / "outputs" / "deltatwin" / TWIN
    counts = json.loads((described / "counts.json").read_text())
    assert json.loads(Path(counts["path"]).read_text()) == {"launch": 1, "ui": 2}
    summary = json.loads((described / "summary.json").read_text())
    assert json.loads(Path(summary["path"]).read_text())["stations"] == 4  # the collected snapshot's stations
