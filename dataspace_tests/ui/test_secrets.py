"""Secrets never reach the UI: the webserver's GraphQL shows the names of the variables, never their values."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from dataspace_assets.instance import INSTANCE_TEMPLATE
from dataspace_tests.services import DagsterWebserver

pytestmark = [pytest.mark.ui, pytest.mark.services]

PASSWORD = "S3cr3t-Pa55w0rd-never-shown"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DATABASE_URL = f"postgresql://harvester:{PASSWORD}@127.0.0.1:5999/dataspace"
AZURE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10999/devstoreaccount1;"
)
REPO = '{repositoryLocationName: "dataspace", repositoryName: "__repository__"}'


@pytest.fixture(scope="module")
def secret_webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterWebserver]:
    home = tmp_path_factory.mktemp("secret-home")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())
    env = {
        "DATASPACE_HOME": str(home),
        "DATASPACE_DATABASE_URL": DATABASE_URL,
        "DATASPACE_AZURE_CONNECTION_STRING": AZURE,
    }
    server = DagsterWebserver(home / "dagster", env=env).start()
    yield server
    server.stop()


def _answers(server: DagsterWebserver) -> dict[str, dict]:
    resources = server.graphql(
        "{ allTopLevelResourceDetailsOrError(repositorySelector: %s) { __typename ... on ResourceDetailsList "
        "{ results { name configuredValues { key value type } configFields { name defaultValueAsJson } } } } }" % REPO
    )
    jobs = server.graphql("{ repositoryOrError(repositorySelector: %s) { ... on Repository { jobs { name } } } }" % REPO)
    answers = {"resources": resources, "jobs": jobs}
    for job in jobs["repositoryOrError"]["jobs"]:
        selector = REPO[:-1] + f', pipelineName: "{job["name"]}"}}'
        answers[job["name"]] = server.graphql(
            "{ runConfigSchemaOrError(selector: %s) { __typename ... on RunConfigSchema { rootDefaultYaml } } }" % selector
        )
    return answers


def test_graphql_shows_variable_names_not_secrets(secret_webserver: DagsterWebserver) -> None:
    answers = _answers(secret_webserver)
    text = json.dumps(answers)
    assert PASSWORD not in text and ACCOUNT_KEY not in text
    [store] = [
        r for r in answers["resources"]["allTopLevelResourceDetailsOrError"]["results"] if r["name"] == "dataspace_store"
    ]
    values = {v["key"]: (v["type"], v["value"]) for v in store["configuredValues"]}
    assert values["database_url"] == ("ENV_VAR", "DATASPACE_DATABASE_URL")
    assert values["azure_connection_string"] == ("ENV_VAR", "DATASPACE_AZURE_CONNECTION_STRING")
    assert len(answers) > 2, "the jobs' run config was checked too"
