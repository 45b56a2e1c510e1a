"""The main job (`dataspace run`) as a harvest operator sees it: progress lines while a source harvests."""

from __future__ import annotations

from dataspace_assets.main_job import run_main_job
from dataspace_assets.run_command import stop_process_group


def test_main_job_shows_harvest_progress_lines(tmp_settings, dagster_instance, plugin_path, monkeypatch) -> None:
    from dataspace_assets import main_job

    monkeypatch.setattr(main_job, "PROGRESS_SECONDS", 0.0)
    folder = tmp_settings.configs_dir / "harvest"
    folder.mkdir()
    (folder / "slow.toml").write_text(
        "[[sources]]\nname = 'Slow'\nbackend = 'factory'\nurl = 'http://slow.test/'\n"
        "[sources.config]\ncount = 60\ndelay = 0.05\n"
    )
    echoed: list[str] = []
    report = run_main_job(tmp_settings, instance=dagster_instance, echo=echoed.append)
    assert report.ok, report.failures
    progress = [line for line in echoed if line.startswith("  slow: ")]
    assert progress and progress[-1].endswith("/60 item(s) processed")


def _two_sources_of_one_domain(settings, release) -> None:
    """Two declared sources on the remote portal.test: `held` answers once `release` exists, `queued` at once."""
    folder = settings.configs_dir / "harvest"
    folder.mkdir()
    (folder / "portal.toml").write_text(
        "[[sources]]\nname = 'Held'\nbackend = 'factory'\nurl = 'http://portal.test/held'\n"
        f"[sources.config]\ncount = 1\nhold_until = '{release}'\n"
        "[[sources]]\nname = 'Queued'\nbackend = 'factory'\nurl = 'http://portal.test/queued'\n"
        "[sources.config]\ncount = 2\n"
    )


def _hold_the_domain(settings, instance, plugin_path):
    """`dataspace harvest run held` in its own process, once its run is STARTED; returns (process, its run id)."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import dagster as dg

    from dataspace_assets.harvest import sync_declared_sources
    from dataspace_assets.harvest.assets import SOURCE_TAG
    from dataspace_assets.settings import PROJECT_ROOT

    sync_declared_sources(settings, instance)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(PROJECT_ROOT)])}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dataspace"), "harvest", "run", "held"], env=env,
        stdout=open(settings.home / "held.log", "w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    for _ in range(1200):
        runs = instance.get_runs(filters=dg.RunsFilter(tags={SOURCE_TAG: "held"}, statuses=[dg.DagsterRunStatus.STARTED]))
        if runs:
            return process, runs[0].run_id
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop_process_group(process, timeout=5)
    raise AssertionError(f"the holding run never started (exit code {process.returncode})")


def _release(release, process) -> None:
    """Let the holding run's remote answer; the run then ends by itself (stopped by its group if it does not)."""
    import subprocess

    release.touch()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        stop_process_group(process, timeout=5)
    assert process.returncode == 0, (release.parent / "home" / "held.log").read_text()


def test_main_job_harvest_run_waits_for_the_domain_slot(tmp_settings, plugin_path, tmp_path, monkeypatch) -> None:
    """`dataspace run` honours the run queue's one-run-per-domain limit (dagster_embedded.yaml) in its own process."""
    import dagster as dg

    from dataspace_assets import main_job
    from dataspace_assets.harvest.assets import DOMAIN_TAG
    from dataspace_assets.instance import get_instance

    monkeypatch.setattr(main_job, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(main_job, "SLOT_POLL_SECONDS", 0.05)
    release = tmp_path / "release"
    _two_sources_of_one_domain(tmp_settings, release)
    instance = get_instance(tmp_settings)  # the embedded instance, with its tag concurrency limits
    process, holder = _hold_the_domain(tmp_settings, instance, plugin_path)
    echoed: list[str] = []

    def echo(line: str) -> None:
        echoed.append(line)
        if "waiting for a run slot" in line:
            release.touch()  # the remote answers: the holding run ends and frees the domain

    try:
        report = main_job.run_main_job(tmp_settings, instance=instance, echo=echo)
    finally:
        _release(release, process)
    assert report.ok, report.failures
    waiting = [line for line in echoed if "waiting for a run slot" in line]
    assert waiting and f"{DOMAIN_TAG}=portal.test has 1 run(s) in progress (limit 1): {holder}" in waiting[0]
    ended = instance.get_run_record_by_id(holder).end_time
    mine = instance.get_run_records(filters=dg.RunsFilter(tags={main_job.LAUNCHED_BY_TAG: "dataspace run", DOMAIN_TAG: "portal.test"}))
    assert len(mine) == 2  # held and queued, each run after the holder had ended
    assert all(record.start_time >= ended for record in mine)
    instance.dispose()


def test_main_job_harvest_run_gives_up_when_the_domain_stays_busy(tmp_settings, plugin_path, tmp_path, monkeypatch) -> None:
    """The wait is bounded: past DATASPACE_RUN_SLOT_WAIT the partition is reported not started, naming the holder."""
    from dataspace_assets import main_job
    from dataspace_assets.instance import get_instance

    monkeypatch.setattr(main_job, "SLOT_POLL_SECONDS", 0.05)
    monkeypatch.setenv(main_job.SLOT_WAIT_ENV, "0.3")
    release = tmp_path / "release"
    _two_sources_of_one_domain(tmp_settings, release)
    instance = get_instance(tmp_settings)
    process, holder = _hold_the_domain(tmp_settings, instance, plugin_path)
    try:
        report = main_job.run_main_job(tmp_settings, instance=instance, echo=lambda line: None)
    finally:
        _release(release, process)
    assert len(report.failures) == 2, report.failures
    assert all("not started, no run slot after 0.3 s (DATASPACE_RUN_SLOT_WAIT)" in f and holder in f for f in report.failures)
    assert [f.split(":")[0] for f in report.failures] == ["catalog/harvest [held]", "catalog/harvest [queued]"]
    instance.dispose()


def test_run_slot_wait_setting_is_checked(monkeypatch) -> None:
    import pytest

    from dataspace_assets import main_job
    from dataspace_assets.errors import DataspaceError

    monkeypatch.setenv(main_job.SLOT_WAIT_ENV, "soon")
    with pytest.raises(DataspaceError, match='DATASPACE_RUN_SLOT_WAIT: expected a number of seconds .*got "soon"'):
        main_job.slot_wait_seconds()
