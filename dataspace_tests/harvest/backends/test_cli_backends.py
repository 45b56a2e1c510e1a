"""The new backends through `dataspace harvest ...`: create with config checks, backends, sources --json, run, preview."""

from __future__ import annotations

import json

import pytest

from dataspace_assets.cli import main
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.instance import get_instance
from dataspace_assets.settings import Settings
from dataspace_tests.harvest.backends.test_pool import API, serve_catalogue


@pytest.fixture
def cli(tmp_settings: Settings, capsys: pytest.CaptureFixture):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["harvest", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_backends_lists_the_four(cli) -> None:
    code, out, _ = cli("backends")
    assert code == 0
    for line in ("OK  CKAN (ckan)", "OK  DKAN (dkan)", "OK  OpenDataSoft (ods)", "OK  CSW-ISO-19139 (csw-iso-19139)"):
        assert line in out


@pytest.mark.parametrize(
    ("backend", "config", "message"),
    [
        ("ckan", '{"apikey": 3}', 'Config key "apikey" of "ckan" backend must be a non-empty string or {"env": "VARIABLE"}'),
        ("ckan", '{"filters": [{"key": "organization"}]}', 'Each filter of "filters" needs a "key" and a "value"'),
        ("dkan", '{"filters": [{"key": "tags", "value": "x"}]}', 'Unknown filter key "tags" for "dkan" backend'),
        ("ods", '{"features": {"inspire": "yes"}}', 'Feature "inspire" of "ods" backend must be a boolean'),
        ("ods", '{"concurrency": true}', 'Config key "concurrency" of "ods" backend must be a whole number from 1 to 32'),
        ("csw-iso-19139", '{"extra_configs": [{"key": "nope", "value": 1}]}', 'Unknown extra config key "nope" for "csw-iso-19139" backend'),
        ("csw-iso-19139", '{"timeout": -1}', 'Config key "timeout" of "csw-iso-19139" backend must be above 0'),
    ],
)
def test_create_checks_the_config(cli, backend, config, message) -> None:
    code, out, err = cli("create", backend, "https://portal.test/", "Bad", "--config", config)
    assert code == 1 and message in err and "Traceback" not in err


def test_ckan_through_the_cli_and_the_asset(cli, api, tmp_settings: Settings) -> None:
    serve_catalogue(api, 12)
    config = json.dumps({"allow_private_addresses": True, "retries": 0, "concurrency": 4, "apikey": "top-secret-key"})
    code, out, _ = cli("create", "ckan", api.url("ckan/"), "Local CKAN", "--config", config)
    assert code == 0 and "top-secret-key" not in out
    code, out, _ = cli("sources", "--json")
    assert code == 0 and "top-secret-key" not in out
    [shown] = json.loads(out)
    assert shown["config"]["apikey"] == "********" and shown["config"]["concurrency"] == 4

    code, out, err = cli("preview", "local-ckan", "--json")
    assert code == 0 and len(json.loads(out)["datasets"]) == 12 and "top-secret-key" not in out + err
    catalog = Catalog.from_settings(tmp_settings)
    assert catalog.count("datasets") == 0 and catalog.count("jobs") == 0

    cli("validate", "local-ckan", "--no-launch")
    code, out, err = cli("run", "local-ckan")
    assert code == 0, err
    assert "done (12 item(s): done 12)" in out and "top-secret-key" not in out + err
    code, out, _ = cli("run", "local-ckan", "--max-items", "5")
    assert code == 0 and "5 item(s)" in out
    assert catalog.count("datasets") == 12  # re-runs update, never duplicate
    assert {r.headers.get("Authorization") for r in api.seen(API + "package_show")} == {"top-secret-key"}
    instance = get_instance(tmp_settings)
    runs = instance.get_runs()
    assert len(runs) == 2
    for run in runs:  # nothing of the run shows the key: tags, config, events, metadata
        events = [record.to_json() if hasattr(record, "to_json") else repr(record) for record in instance.all_logs(run.run_id)]
        dump = json.dumps([dict(run.tags), run.run_config, events], default=str)
        assert "items_done" in dump and "top-secret-key" not in dump  # the metadata is in what we searched
