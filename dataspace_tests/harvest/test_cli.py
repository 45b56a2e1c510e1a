"""`dataspace harvest ...` commands, run through the real `dataspace` entry point and Dagster instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataspace_assets.cli import main
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.sources_config import PARTITIONS_NAME
from dataspace_assets.instance import get_instance
from dataspace_assets.settings import Settings


@pytest.fixture
def cli(tmp_settings: Settings, plugin_path: Path, capsys: pytest.CaptureFixture):
    """Run `dataspace harvest ARGS` and return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["harvest", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _catalog(settings: Settings) -> Catalog:
    return Catalog.from_settings(settings)


def test_create_validate_run_jobs_job_datasets(cli, tmp_settings: Settings) -> None:
    code, out, _ = cli("create", "factory", "http://portal.test/catalog", "My Portal", "-f", "daily", "-o", "city",
                       "--config", '{"count": 3, "crash": ["2"]}')
    assert code == 0 and "created harvest source My Portal [my-portal]" in out
    source = _catalog(tmp_settings).get_source("my-portal")
    assert (source.frequency, source.organization, source.config) == ("daily", "city", {"count": 3, "crash": ["2"]})
    instance = get_instance(tmp_settings)
    assert instance.get_dynamic_partitions(PARTITIONS_NAME) == []  # partitions are the accepted sources

    # an unaccepted source refuses to run, with the way out in the message
    code, _, err = cli("run", "my-portal")
    assert code == 1
    assert err.strip() == (
        'error: harvest source "my-portal" is not accepted (validation: pending); '
        "an administrator must run `dataspace harvest validate my-portal` first"
    )

    code, out, _ = cli("validate", "my-portal", "--no-launch")
    assert code == 0 and out.strip() == "accepted harvest source my-portal; scheduled 0 0 * * *"
    assert instance.get_dynamic_partitions(PARTITIONS_NAME) == ["my-portal"]

    code, out, err = cli("run", "my-portal")
    assert code == 0
    assert "RUN_START" not in out + err  # the summary is the output, not Dagster's event log
    [job] = _catalog(tmp_settings).list_jobs(source.id)
    assert f"job {job.id} of my-portal: done-errors (3 item(s): done 2, failed 1)" in out
    [run] = instance.get_runs()
    assert run.tags["dagster/partition"] == "my-portal" and run.tags["dataspace/harvest-domain"] == "portal.test"
    assert run.tags["dataspace/run-process"].split(":")[1] == str(__import__("os").getpid())
    assert f"dagster run: {run.run_id}" in out

    code, out, _ = cli("jobs", "my-portal")
    assert code == 0 and job.id in out and "done-errors" in out and "done 2  failed 1" in out
    code, out, _ = cli("jobs", source.id, "--json")
    [data] = json.loads(out)
    assert (data["id"], data["status"], data["items_by_status"]["done"]) == (job.id, "done-errors", 2)

    code, out, _ = cli("job", job.id, "--status", "failed", "--json")
    data = json.loads(out)
    assert [(i["remote_id"], i["status"], i["errors"][0]["message"]) for i in data["items"]] == [("2", "failed", "boom on 2")]
    code, out, _ = cli("job", job.id)
    assert "boom on 2" in out and out.count("  done     dataset") == 2

    code, out, _ = cli("datasets", "my-portal", "--json")
    datasets = json.loads(out)
    assert sorted(d["title"] for d in datasets) == ["Dataset 0", "Dataset 1"]
    assert datasets[0]["resources"][0]["url"].startswith("http://factory.test/")
    code, out, _ = cli("datasets", "my-portal")
    assert "Dataset 0" in out and "- 0.csv  [csv]  http://factory.test/0.csv" in out


def test_sources_backends_schedule_unschedule_delete_purge(cli, tmp_settings: Settings) -> None:
    cli("create", "factory", "http://a.test/", "Alpha")
    cli("create", "factory", "http://b.test/", "Beta")
    code, out, _ = cli("schedule", "alpha", "-m", "15", "-h", "4", "-d", "1")
    assert out.strip() == "scheduled harvest source alpha: 15 4 * * 1"
    code, out, _ = cli("sources")
    assert out.splitlines() == [
        "Alpha [alpha] (factory): 15 4 * * 1  [pending]",
        "Beta [beta] (factory): not scheduled  [pending]",
    ]
    code, out, _ = cli("sources", "-s", "--json")
    assert [s["slug"] for s in json.loads(out)] == ["alpha"]
    assert json.loads(out)[0]["schedule"] == "15 4 * * 1"

    code, out, _ = cli("unschedule", "alpha")
    assert out.strip() == "unscheduled harvest source alpha"
    code, _, err = cli("unschedule", "alpha")
    assert code == 1 and err.strip() == 'error: harvest source "alpha" is not scheduled'

    code, out, _ = cli("backends")
    assert "OK  Factory (factory)  [dataspace_factory_plugin]" in out.splitlines()

    cli("validate", "alpha", "--no-launch")
    cli("validate", "beta", "--no-launch")
    beta = _catalog(tmp_settings).get_source("beta")
    assert len(get_instance(tmp_settings).get_dynamic_partitions(PARTITIONS_NAME)) == 2
    assert cli("delete", "beta")[0] == 0
    code, out, _ = cli("sources")
    assert "beta" not in out
    assert get_instance(tmp_settings).get_dynamic_partitions(PARTITIONS_NAME) == ["alpha"]
    code, out, _ = cli("purge")
    assert out.strip() == "purged 1 source(s) and 0 job(s) older than 365 days"
    assert get_instance(tmp_settings).get_dynamic_partitions(PARTITIONS_NAME) == ["alpha"]
    assert _catalog(tmp_settings).get_source(beta.id, include_deleted=True) is None


def test_refuse_and_bad_input_messages(cli) -> None:
    cli("create", "factory", "http://a.test/", "Alpha")
    code, _, err = cli("validate", "alpha", "--refuse")
    assert code == 1 and err.strip() == 'error: refusing harvest source "alpha" needs a comment (--comment TEXT)'
    code, out, _ = cli("validate", "alpha", "--refuse", "--comment", "closed data")
    assert out.strip() == "refused harvest source alpha: closed data"
    code, _, err = cli("create", "factory", "http://a.test/", "X", "--config", "{nope")
    assert code == 1 and err.strip() == "error: --config: invalid JSON (Expecting property name enclosed in double quotes at column 2)"
    code, _, err = cli("create", "nope", "http://a.test/", "X")
    assert code == 1 and err.strip().startswith('error: harvest source: Unknown backend "nope" (known backends: ')
    assert "dcat, dkan, factory, ods" in err  # the known ones are listed
    code, _, err = cli("jobs", "missing")
    assert err.strip() == 'error: harvest source "missing" not found (give its id or slug; see `dataspace harvest sources`)'
    code, _, err = cli("job", "0" * 32)
    assert err.strip() == f"error: harvest job {'0' * 32} not found"
    code, _, err = cli("preview")
    assert err.strip() == "error: preview needs a source ID, or --url URL and --backend NAME"


def test_preview_by_id_and_by_url_saves_nothing(cli, tmp_settings: Settings) -> None:
    cli("create", "factory", "http://a.test/", "Alpha", "--config", '{"count": 25}')
    code, out, _ = cli("preview", "alpha", "--json")
    data = json.loads(out)
    assert data["job"]["items_total"] == 20 and len(data["datasets"]) == 20
    code, out, _ = cli("preview", "--url", "http://b.test/", "--backend", "factory", "--config", '{"count": 2}')
    assert "done     dataset     0 'Dataset 0'" in out and out.strip().endswith("preview: nothing was saved")
    catalog = _catalog(tmp_settings)
    assert (catalog.count("jobs"), catalog.count("datasets"), catalog.count("sources")) == (0, 0, 1)


def test_clean_attach_detach(cli, tmp_settings: Settings, tmp_path: Path) -> None:
    cli("create", "factory", "http://a.test/", "Alpha", "--config", '{"count": 2}')
    cli("validate", "alpha", "--no-launch")
    cli("run", "alpha")
    catalog = _catalog(tmp_settings)
    first, second = catalog.list_datasets(source_id=catalog.get_source("alpha").id)

    code, out, _ = cli("detach", first.id)
    assert out.strip() == f"detached dataset {first.id}"
    assert catalog.get_dataset(first.id).harvest.remote_id is None

    (tmp_path / "map.csv").write_text(f"local;remote\n{first.id};new-remote\n")
    code, out, _ = cli("attach", str(tmp_path / "map.csv"), "other.test")
    assert code == 0 and f"attached {first.id} to new-remote" in out
    assert catalog.get_dataset(first.id).harvest.domain == "other.test"

    code, out, _ = cli("clean", "alpha")
    assert out.strip() == "deleted 1 dataset(s) of alpha"
    assert catalog.dataset_row(second.id)["deleted"] is not None


def test_launch_asks_the_sensor_for_a_run_without_loading_code(cli, tmp_settings: Settings) -> None:
    import sys

    cli("create", "factory", "http://a.test/", "Alpha")
    code, _, err = cli("launch", "alpha")
    assert code == 1 and "is not accepted" in err
    code, out, _ = cli("validate", "alpha")  # accepting launches a first run
    assert out.splitlines()[-1].startswith("harvest of alpha requested (#1): the harvest sensor queues it")
    code, out, err = cli("launch", "alpha")
    assert code == 0 and out.startswith("harvest of alpha requested (#2)")
    assert "code server" not in (out + err).lower()
    assert "dagster._cli" not in sys.modules  # no private Dagster API, no workspace loaded
    source = _catalog(tmp_settings).get_source("alpha")
    requests = _catalog(tmp_settings).take_launch_requests()
    assert [r["source_id"] for r in requests] == [source.id, source.id]
    assert get_instance(tmp_settings).get_runs() == []  # the daemon's sensor launches them


def test_the_console_script_lists_plugin_backends(tmp_settings: Settings, plugin_path: Path) -> None:
    import os
    import subprocess
    import sys

    from dataspace_assets.settings import PROJECT_ROOT

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(PROJECT_ROOT)])}
    script = Path(sys.executable).parent / "dataspace"
    done = subprocess.run([str(script), "harvest", "backends"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "OK  Factory (factory)  [dataspace_factory_plugin]" in done.stdout.splitlines()


def test_a_failed_run_prints_the_job_not_a_stack_trace(cli) -> None:
    cli("create", "factory", "http://down.test/", "Down", "--config", '{"count": 1, "fail_listing": "remote is down"}')
    cli("validate", "down", "--no-launch")
    code, out, err = cli("run", "down")
    assert code == 1
    assert "failed (1 item(s)" in out and "error: remote is down" in out
    assert "Stack Trace" not in out + err and "Traceback" not in out + err


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_max_items_must_be_a_positive_number(cli, capsys: pytest.CaptureFixture, value: str) -> None:
    cli("create", "factory", "http://a.test/", "Alpha")
    with pytest.raises(SystemExit) as exit_:
        main(["harvest", "run", "alpha", "--max-items", value])
    assert exit_.value.code == 2
    assert f"argument --max-items: expected a positive whole number, got '{value}'" in capsys.readouterr().err


def test_a_second_run_of_a_busy_source_refuses_before_starting(cli, tmp_settings: Settings) -> None:
    cli("create", "factory", "http://a.test/", "Alpha", "--config", '{"count": 2}')
    cli("validate", "alpha", "--no-launch")
    instance = get_instance(tmp_settings)
    catalog = _catalog(tmp_settings)
    source = catalog.get_source("alpha")
    holder = instance.create_run_for_job(
        __import__("dataspace_assets.harvest.definitions", fromlist=["build_defs"]).build_defs(tmp_settings)
        .resolve_job_def("catalog_harvest_job")
    ).run_id  # a queued run: alive
    assert catalog.claim_source(source.id, holder) is None
    code, out, err = cli("run", "alpha")
    assert code == 1 and out == ""
    assert err.startswith(f'error: harvest source "alpha" is already being harvested by Dagster run {holder} (since ')
    assert [r.run_id for r in instance.get_runs()] == [holder] and catalog.count("jobs") == 0


def test_a_run_started_while_another_command_holds_the_start_lock_refuses(
    cli, tmp_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataspace_assets.harvest import cli as harvest_cli
    from dataspace_tests.storage.test_locks import hold_lock

    cli("create", "factory", "http://a.test/", "Alpha", "--config", '{"count": 2}')
    cli("validate", "alpha", "--no-launch")
    monkeypatch.setattr(harvest_cli, "START_WAIT_SECONDS", 0.0)  # the other command never claims the source
    # Another `harvest run` between its lock and its claim, as a real process.
    holder = hold_lock(tmp_settings.dagster_home / ".harvest-alpha.lock")
    try:
        code, out, err = cli("run", "alpha")
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert (code, out) == (1, "")
    assert err.startswith('error: harvest source "alpha" is being started by another `dataspace harvest run`')
    assert get_instance(tmp_settings).get_runs() == [] and _catalog(tmp_settings).count("jobs") == 0


def test_run_prints_count_lines_when_stderr_is_not_a_terminal(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataspace_assets.harvest import cli as harvest_cli

    monkeypatch.setattr(harvest_cli, "PROGRESS_SECONDS", 0.0)
    cli("create", "factory", "http://a.test/", "Slow", "--config", '{"count": 3, "delay": 0.4}')
    cli("validate", "slow", "--no-launch")
    code, _, err = cli("run", "slow")
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("harvest slow: ")]
    assert lines and lines[-1].endswith("/3 item(s) processed")


@pytest.mark.parametrize("days", ["0", "-1", "99999999999"])
def test_purge_refuses_a_retention_below_one_day_or_absurd(cli, capsys: pytest.CaptureFixture, days: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["harvest", "purge", "--days", days])
    assert exit_.value.code == 2
    assert f"argument --days: expected a whole number from 1 to 36500, got '{days}'" in capsys.readouterr().err


def test_purge_never_deletes_a_source_latest_job(cli, tmp_settings: Settings) -> None:
    from datetime import timedelta

    from dataspace_assets.harvest.catalog import utcnow

    cli("create", "factory", "http://a.test/", "Alpha", "--config", '{"count": 1}')
    cli("validate", "alpha", "--no-launch")
    cli("run", "alpha")
    cli("run", "alpha")
    catalog = _catalog(tmp_settings)
    source = catalog.get_source("alpha")
    older, newest = sorted(catalog.list_jobs(source.id), key=lambda j: j.created)
    catalog.update_job(older.id, created=utcnow() - timedelta(days=30))
    catalog.update_job(newest.id, created=utcnow() - timedelta(days=20))
    code, out, _ = cli("purge", "--days", "1")
    assert out.strip() == "purged 0 source(s) and 1 job(s) older than 1 days"
    assert [j.id for j in catalog.list_jobs(source.id)] == [newest.id]


def test_after_a_purge_the_ui_names_no_purged_job(cli, tmp_settings: Settings) -> None:
    """The admin list is recorded again without purged sources; a purged job id is answered as purged."""
    from datetime import timedelta

    from dataspace_assets.harvest.admin import SOURCES_ASSET_KEY
    from dataspace_assets.harvest.catalog import utcnow

    for name, url in (("Alpha", "http://a.test/"), ("Beta", "http://b.test/")):
        cli("create", "factory", url, name, "--config", '{"count": 1}')
        cli("validate", name.lower(), "--no-launch")
    cli("run", "alpha")
    cli("run", "alpha")
    cli("run", "beta")
    catalog = _catalog(tmp_settings)
    alpha, beta = catalog.get_source("alpha"), catalog.get_source("beta")
    older, newest = sorted(catalog.list_jobs(alpha.id), key=lambda j: j.created)
    beta_job = catalog.list_jobs(beta.id)[0]
    catalog.update_job(older.id, created=utcnow() - timedelta(days=30))
    assert cli("delete", "beta")[0] == 0
    code, out, _ = cli("purge", "--days", "1")
    assert out.strip() == "purged 1 source(s) and 1 job(s) older than 1 days"

    instance = get_instance(tmp_settings)
    latest = instance.fetch_observations(SOURCES_ASSET_KEY, limit=1).records[0].asset_observation
    rows = [row.data for row in latest.metadata["sources"].value.records]
    assert [(r["slug"], r["last_job_id"]) for r in rows] == [("alpha", newest.id)]
    assert latest.metadata["sources_total"].value == 1

    for purged, partition in ((older.id, "alpha"), (beta_job.id, "beta")):
        code, _, err = cli("job", purged)
        assert code == 1
        assert f"harvest job {purged} was purged" in err and f"catalog/harvest [{partition}]" in err, err
        assert "Traceback" not in err
    code, _, err = cli("job", "0" * 32)
    assert code == 1 and f"harvest job {'0' * 32} not found" in err
    assert cli("job", newest.id)[0] == 0


@pytest.mark.parametrize("limit", ["0", "-1", "9223372036854775808"])
def test_jobs_limit_is_bounded(cli, capsys: pytest.CaptureFixture, limit: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["harvest", "jobs", "alpha", "--limit", limit])
    assert exit_.value.code == 2
    assert f"argument --limit: expected a whole number from 1 to 100000, got '{limit}'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["create", "preview"])
def test_bad_config_and_url_are_errors_not_tracebacks(cli, command: str) -> None:
    def run(url: str, config: str) -> tuple[int, str]:
        args = ["create", "factory", url, "X", "--config", config] if command == "create" else [
            "preview", "--backend", "factory", "--url", url, "--config", config]
        code, _, err = cli(*args)
        return code, err.strip()

    assert run("http://a.test/", "[" * 100000 + "]" * 100000) == (1, "error: --config: nested deeper than 32 levels")
    assert run("http://a.test/", '{"a": ' * 40 + "1" + "}" * 40) == (1, "error: --config: nested deeper than 32 levels")
    code, err = run("http://[::1", "{}")
    assert code == 1 and err.startswith('error: harvest source: invalid url "http://[::1": the URL cannot be parsed')
    code, err = run("http://a.test:99999/", "{}")
    assert code == 1 and err.startswith('error: harvest source: invalid url "http://a.test:99999/": the URL cannot be parsed (Port out of range')


def test_dcat_filters_of_the_wrong_shape_are_errors(cli) -> None:
    code, _, err = cli("create", "dcat", "http://a.test/", "X", "--config", '{"filters": [{"key": [1], "value": 1}]}')
    assert code == 1 and "Traceback" not in err
    assert err.strip() == 'error: --config: Each filter of "filters" needs a text "key" (got [1])'


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a binary file, not a ';' CSV"),
        ("local;remote\ncaf\u00e9;x\n".encode("latin-1"), "not UTF-8 text (line 2): save it as UTF-8"),
        (b"local;remote\n\"" + b"x" * 200000 + b"\";r\n", "line "),
    ],
    ids=["binary", "latin-1", "huge-field"],
)
def test_attach_refuses_unreadable_files(cli, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "map.csv"
    path.write_bytes(content)
    code, _, err = cli("attach", str(path), "a.test")
    assert code == 1 and err.startswith(f"error: {path}: ") and message in err


def test_attach_does_not_hang_on_a_fifo(cli, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "map.csv"
    os.mkfifo(fifo)
    code, _, err = cli("attach", str(fifo), "a.test")
    assert (code, err.strip()) == (1, f"error: {fifo}: not a regular file")


def test_every_harvest_option_has_help_and_question_mark_is_help(cli, capsys: pytest.CaptureFixture) -> None:
    import argparse

    from dataspace_assets.cli import build_parser

    parser = build_parser()
    harvest = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "harvest")[1]
    commands = harvest._subparsers._group_actions[0].choices
    missing = [
        f"{name} {action.dest}"
        for name, sub in commands.items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []
    with pytest.raises(SystemExit) as exit_:
        main(["harvest", "jobs", "-?"])
    assert exit_.value.code == 0 and "--limit" in capsys.readouterr().out


def test_schedule_h_alone_warns_that_it_means_every_minute(cli) -> None:
    cli("create", "factory", "http://a.test/", "Alpha")
    code, out, err = cli("schedule", "alpha", "-h", "4")
    assert code == 0 and out.strip() == "scheduled harvest source alpha: * 4 * * *"
    assert err.strip() == "warning: minute is *, so this runs every minute of hour 4 (60 runs); add -m 0 to run once at 4:00"
    code, out, err = cli("schedule", "alpha", "-h", "4", "-m", "0")
    assert err == ""


def test_preview_of_a_failing_source_exits_non_zero(cli) -> None:
    code, out, _ = cli("preview", "--backend", "factory", "--url", "http://down.test/",
                       "--config", '{"count": 1, "fail_listing": "remote is down"}')
    assert code == 1 and "error: remote is down" in out
