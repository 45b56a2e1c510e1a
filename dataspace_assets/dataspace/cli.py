"""`dataspace config ...` sub-commands of the dataspace pillar."""

from __future__ import annotations

import argparse
from pathlib import Path


def _validate(args: argparse.Namespace) -> int:
    """Check the data space TOML files: print every problem (exit 1) or a summary of the components."""
    from dataspace_assets.dataspace.config import dataspace_folder, load_config
    from dataspace_assets.settings import load_settings

    settings = load_settings()
    configs = Path(args.configs) if args.configs else settings.configs_dir
    # `--configs` may name the configs root (holding dataspace/) or the TOML folder itself.
    folder = dataspace_folder(configs)
    if not folder.is_dir():
        if any((configs / sub).is_dir() for sub in ("harvest", "deltatwins")):
            # A configs root without a data space: its other TOML files (a twin's bindings.toml) are not ours.
            print(f"{folder}: no data space folder, no collector, harvester or handler")
            return 0
        folder = configs
    if not folder.is_dir():
        print(f"{folder}: no such folder")
        return 1
    config = load_config(folder, timezone=settings.timezone)
    if config.problems:
        for problem in config.problems:
            print(problem)
        print(f"{len(config.problems)} problem(s) in {folder}")
        return 1
    print(
        f"{folder}: {len(config.files)} file(s), {len(config.collectors)} collector(s), "
        f"{len(config.harvesters)} harvester(s), {len(config.handlers)} handler(s)"
    )
    for collector in config.collectors:
        when = f"{collector.schedule} ({collector.schedule_text}, {collector.timezone})" if collector.schedule else "no schedule"
        if collector.schedule and not collector.schedule_enabled:
            when += ", schedule off"
        print(f"  collector  {collector.full_name:<32} {when}  {collector.path}")
    for harvester in config.harvesters:
        inputs = ", ".join([harvester.source, *harvester.dependencies, *harvester.optional_dependencies])
        print(f"  harvester  {harvester.full_name:<32} from {inputs}  {harvester.path}")
    for handler in config.handlers:
        print(f"  handler    {handler.full_name:<32} /{handler.full_name}  {handler.path}")
    return 0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add this pillar's sub-commands to the `dataspace` parser."""
    config = commands.add_parser("config", help="check the data space configs (collectors, harvesters, handlers)")
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    validate = actions.add_parser(
        "validate", help="validate configs/dataspace/**/*.toml: one line per problem, exit 1 if any"
    )
    validate.add_argument(
        "--configs",
        metavar="DIR",
        help="configs folder (holding dataspace/) or a folder of TOML files; default $DATASPACE_CONFIGS or configs/",
    )
    validate.set_defaults(func=_validate)

    from dataspace_assets.dataspace.import_original import register as register_import

    register_import(commands)
    register_harvesters(commands)


def _rebuild(args: argparse.Namespace) -> int:
    """Re-derive every window of a count-window harvester after a date, in one Dagster run."""
    from dataspace_assets.dataspace.assets import asset_key
    from dataspace_assets.dataspace.config import dataspace_folder, load_config, utc_moment
    from dataspace_assets.dataspace.definitions import build_defs
    from dataspace_assets.dataspace.harvesters import HARVESTER_TAG, REBUILD_TAG, partitions_def
    from dataspace_assets.errors import DataspaceError
    from dataspace_assets.instance import get_instance
    from dataspace_assets.runs import QUIET_RUN_CONFIG, failure_messages
    from dataspace_assets.settings import load_settings

    settings = load_settings()
    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    harvesters = {h.full_name: h for h in config.harvesters}
    harvester = harvesters.get(args.name)
    if harvester is None:
        known = ", ".join(sorted(harvesters)) or "none"
        raise DataspaceError(f"no harvester {args.name!r} in {config.folder} (harvesters: {known})")
    if partitions_def(harvester) is not None:
        raise DataspaceError(
            f"{args.name} is time-partitioned: re-derive windows with a partition backfill, e.g. "
            f"dagster asset materialize -m dataspace_assets.definitions --select dataspace/{args.name} "
            "--partition-range <first>...<last> (or the UI's backfill dialog)"
        )
    since = "all"
    if args.since:
        moment = utc_moment(args.since)
        if moment is None:
            raise DataspaceError(f"--from {args.since!r}: expected an ISO date-time like 2026-01-01T00:00:00Z")
        since = moment.isoformat()
    defs = build_defs(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=get_instance(settings),
        asset_selection=[asset_key(args.name)],
        tags={REBUILD_TAG: since, HARVESTER_TAG: args.name, "dataspace/launched_by": "dataspace rebuild"},
        run_config=QUIET_RUN_CONFIG,
        raise_on_error=False,
    )
    if not result.success:
        for step, message in failure_messages(result):
            print(f"FAILED {step}: {message}")
        return 1
    (event,) = result.get_asset_materialization_events()
    meta = {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
    print(
        f"rebuilt {args.name} after {'the start' if since == 'all' else since} in run {result.run_id}: "
        f"{meta['dataspace/rebuild_deleted']} old row(s) removed, {meta['dataspace/windows']} window(s) derived "
        f"({meta['dataspace/outputs']} item(s), {meta['dataspace/markers']} marker(s)); "
        f"cursor {meta['dataspace/cursor_after']}"
    )
    if meta.get("dataspace/waiting", "no") != "no":
        print(f"stopped: {meta['dataspace/waiting']}")
    return 0


def _storage_check(args: argparse.Namespace) -> int:
    """Report (and with --repair delete) blobs that no index row points at."""
    from datetime import timedelta

    from dataspace_assets.dataspace.storage_check import check_storage, format_storage_report
    from dataspace_assets.settings import load_settings
    from dataspace_assets.storage.store import DataStore

    store = DataStore.from_settings(load_settings())
    try:
        report = check_storage(
            store, repair=args.repair, min_age=timedelta(seconds=args.min_age), check_missing=args.missing
        )
    finally:
        store.close()
    print("\n".join(format_storage_report(report, repair=args.repair)))
    return 1 if report.missing or (report.orphans and not args.repair) else 0


def register_harvesters(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """`dataspace rebuild` and `dataspace storage check` (called from `register`)."""
    rebuild = commands.add_parser(
        "rebuild", help="re-derive every window of a count-window harvester after a date, in one Dagster run"
    )
    rebuild.add_argument("name", metavar="NAME", help="the harvester's full name, e.g. example_air_quality_peaks")
    rebuild.add_argument(
        "--from", dest="since", metavar="DATE",
        help="keep outputs dated at or before DATE (ISO 8601, UTC if no offset); default: rebuild everything",
    )
    rebuild.set_defaults(func=_rebuild)
    storage = commands.add_parser("storage", help="check the data space store (blobs and their index rows)")
    actions = storage.add_subparsers(dest="storage_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="list blobs no index row points at (left by a crash); exit 1 if any")
    check.add_argument("--repair", action="store_true", help="delete the orphan blobs found")
    check.add_argument(
        "--min-age", type=float, default=300, metavar="SECONDS",
        help="leave unreferenced blobs younger than this alone (a write may be in progress); default 300",
    )
    check.add_argument("--missing", action="store_true", help="also report index rows whose blob is missing")
    check.set_defaults(func=_storage_check)
