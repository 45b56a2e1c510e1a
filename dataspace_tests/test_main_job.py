"""The main job: every asset of `configs/` materialized once, and a summary that says where the data went."""

from __future__ import annotations

import dagster as dg

from dataspace_assets.main_job import format_report, run_main_job
from dataspace_assets.settings import Settings
from dataspace_assets.storage.store import DataStore


def _collector_config(settings: Settings, table: str, component: type) -> None:
    """configs/dataspace/feeds.toml with one collector of this test module's classes."""
    folder = settings.configs_dir / "dataspace"
    folder.mkdir()
    (folder / "feeds.toml").write_text(
        f'[collectors.{table}]\nPATH = "{__name__}.{component.__name__}"\nDATA_TYPE = "json"\nDATA_FORMAT = "json"\n'
    )


class Boom:
    """A collector whose upstream is down (imported by its full dotted path)."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def run(self):
        raise RuntimeError("upstream API answered 503")


def test_main_job_materializes_every_example_asset(project_settings, dagster_instance) -> None:
    settings = project_settings
    echoed: list[str] = []
    report = run_main_job(settings, instance=dagster_instance, echo=echoed.append)

    assert report.ok, report.failures
    assert echoed[0] == "declared harvest sources synced: 1"
    by_asset = {item.asset: item for item in report.materialized}
    twin = {"deltatwin/example-word-count/counts", "deltatwin/example-word-count/summary"}
    # the example twin's summary reads what the collector stored in the same main job (bindings.toml)
    harvesters = {f"dataspace/example_air_quality_{n}" for n in ("hourly", "peaks", "alerts")}
    parquet = {"dataspace/example_air_quality_parquet"}
    # The day roll-up runs only when the simulated day of history began before today's midnight (UTC).
    assert set(by_asset) - {"dataspace/example_air_quality_parquet_1d"} == {
        "dataspace/example_air_quality", "catalog/harvest", "catalog/dcat", *harvesters, *parquet, *twin
    }
    collector = by_asset["dataspace/example_air_quality"]
    store = DataStore.from_settings(settings)
    try:
        assert collector.uri == store.latest("example_air_quality").location
    finally:
        store.close()
    assert by_asset["catalog/harvest"].detail == "source example-city: job done, items 3 done"
    # The harvester chain derived items from the collector's simulated day of history.
    store = DataStore.from_settings(settings)
    try:
        # Every clock hour that has ended: 23 or 24 of them, by where the day of history starts in its hour.
        assert store.count("example_air_quality_hourly") in (23, 24)
        assert store.count("example_air_quality_peaks") == 24
        for name in harvesters:
            assert by_asset[name].uri == store.latest(name.split("/")[1]).location
    finally:
        store.close()
    assert report.orphan_blobs == 0
    # Every complete hour of the history went to Parquet: 4 station readings per snapshot, none lost.
    from dataspace_assets.storage.parquet import ParquetIndex

    store = DataStore.from_settings(settings)
    try:
        files = [f for f in ParquetIndex(store.engine, "example_air_quality").files() if not f.keys]
        hours_end = max(f.end for f in files)
        assert sum(f.rows for f in files) == 4 * len(store.in_window("example_air_quality", min(f.start for f in files), hours_end))
        every_file = ParquetIndex(store.engine, "example_air_quality").files()
    finally:
        store.close()
    # The published catalogue runs after the Parquet levels: it lists every file they wrote.
    published = dagster_instance.get_latest_materialization_event(dg.AssetKey(["catalog", "dcat"]))
    assert published.asset_materialization.metadata["parquet_files"].value == len(every_file) > 0

    summary = format_report(report, settings)
    assert summary.splitlines()[0].startswith("materialized ")
    assert "orphan" not in summary
    assert collector.uri in summary
    assert str(settings.dagster_home) in summary and str(settings.blobs_dir) in summary
    assert "dataspace dev" in summary


def test_main_job_reports_a_failing_collector_and_goes_on(tmp_settings, dagster_instance) -> None:
    _collector_config(tmp_settings, "down", Boom)
    report = run_main_job(tmp_settings, instance=dagster_instance, echo=lambda line: None)

    assert not report.ok
    assert len(report.failures) == 1 and "upstream API answered 503" in report.failures[0]
    # the published catalogue runs last, on what is stored: it is still written
    assert [m.asset for m in report.materialized] == ["catalog/dcat"]
    assert "FAILED dataspace__feeds_down" in format_report(report, tmp_settings)


class Unsupported:
    """A collector returning a type the store cannot serialise."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def run(self):
        return 42


def test_main_job_names_a_collector_failure_as_the_collector_does(tmp_settings, dagster_instance) -> None:
    _collector_config(tmp_settings, "number", Unsupported)
    report = run_main_job(tmp_settings, instance=dagster_instance, echo=lambda line: None)
    [failure] = report.failures
    assert failure.startswith("dataspace__feeds_number: collector feeds_number (dataspace_tests.test_main_job.Unsupported)")


def test_main_job_skips_a_twin_it_has_no_inputs_for(tmp_settings, dagster_instance) -> None:
    import json

    folder = tmp_settings.configs_dir / "deltatwins" / "needs"
    (folder / "models").mkdir(parents=True)
    manifest = {
        "name": "needs",
        "description": "a twin with a required input",
        "owner": "tests",
        "inputs": {"word": {"type": "string"}},
        "outputs": {"out": {"type": "Data"}},
        "models": {
            "m": {
                "path": "models",
                "type": "python",
                "parameters": {"pythonVersion": "3.11", "command": "python -c pass $(inputs.word)"},
                "inputs": {"word": {"type": "string"}},
                "outputs": {"out": {"type": "stdout"}},
            }
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "workflow.yml").write_text(
        "nodes: [{id: word, ref: inputs.word}, {id: m, ref: models.m}, {id: out, ref: outputs.out}]\n"
        "edges: [{from: {id: word}, to: {id: m, port: word}}, {from: {id: m, port: out}, to: {id: out}}]\n"
    )
    report = run_main_job(tmp_settings, instance=dagster_instance, echo=lambda line: None)
    assert report.ok, report.failures
    assert "deltatwin/needs/out" in report.skipped and [m.asset for m in report.materialized] == ["catalog/dcat"]  # only the catalogue of what is there
def test_main_job_runs_are_named_and_tagged_like_harvest_runs(project_settings, dagster_instance) -> None:
    import os

    report = run_main_job(project_settings, instance=dagster_instance, echo=lambda line: None)
    assert report.ok, report.failures
    runs = {run.run_id: run for run in dagster_instance.get_runs()}
    assert set(runs) == set(report.run_ids)
    assert {run.job_name for run in runs.values()} == {"dataspace_main_job"}
    assert all(run.tags["dataspace/launched-by"] == "dataspace run" for run in runs.values())
    assert all(run.tags["dataspace/run-process"].split(":")[1] == str(os.getpid()) for run in runs.values())
    [harvest] = [run for run in runs.values() if "dataspace/harvest-source" in run.tags]
    assert harvest.tags["dagster/partition"] == "example-city"
    assert harvest.tags["dataspace/harvest-source"] == "example-city"
    assert harvest.tags["dataspace/harvest-domain"] == "localhost"


def test_main_job_can_be_restricted_to_some_assets(project_settings, dagster_instance) -> None:
    import dagster as dg

    key = dg.AssetKey(["dataspace", "example_air_quality"])
    report = run_main_job(project_settings, instance=dagster_instance, echo=lambda line: None, asset_keys=[key])
    assert report.ok and [item.asset for item in report.materialized] == ["dataspace/example_air_quality"]
    assert len(report.run_ids) == 1

