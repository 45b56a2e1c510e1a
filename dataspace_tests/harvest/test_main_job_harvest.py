"""The main job (`dataspace run`) as a harvest operator sees it: progress lines while a source harvests."""

from __future__ import annotations

from dataspace_assets.main_job import run_main_job


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
