"""`dataspace harvest ...`: manage harvest sources and run them through Dagster (runs show in the UI)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from dataspace_assets.errors import DataspaceError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import dagster as dg

    from dataspace_assets.harvest.catalog import Catalog, HarvestSource
    from dataspace_assets.settings import Settings


# ---------------------------------------------------------------- plumbing
def _settings(args: argparse.Namespace) -> "Settings":
    settings = getattr(args, "settings", None)
    if settings is None:
        from dataspace_assets.settings import load_settings

        settings = load_settings()
    return settings


def _catalog(args: argparse.Namespace) -> "Catalog":
    from dataspace_assets.harvest.catalog import Catalog

    return Catalog.from_settings(_settings(args))


def _instance(args: argparse.Namespace) -> "dg.DagsterInstance":
    """The Dagster instance (tests hand one in as `args.instance`)."""
    instance = getattr(args, "instance", None)
    if instance is None:
        from dataspace_assets.instance import get_instance

        instance = get_instance(_settings(args))
    return instance


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


MAX_CONFIG_DEPTH = 32  # a backend config is a few levels deep; deeper is a mistake or an attack


def _depth(value: Any, limit: int = MAX_CONFIG_DEPTH) -> int:
    """How deep lists and objects nest (iterative: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _parse_config(text: str | None) -> dict:
    if not text:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataspaceError(f"--config: invalid JSON ({exc.msg} at column {exc.colno})") from exc
    except RecursionError:
        raise DataspaceError(f"--config: nested deeper than {MAX_CONFIG_DEPTH} levels") from None
    if not isinstance(config, dict):
        raise DataspaceError("--config: expected a JSON object")
    if _depth(config) > MAX_CONFIG_DEPTH:
        raise DataspaceError(f"--config: nested deeper than {MAX_CONFIG_DEPTH} levels")
    return config


def _bounded_int(low: int, high: int):
    """An argparse type: a whole number in [low, high], with a message naming the bounds."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {text!r}")
        return value

    return parse


def _positive_int(text: str) -> int:
    """An argparse type: a whole number above zero (`--max-items`)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _source_line(source: "HarvestSource") -> str:
    schedule = source.schedule or "not scheduled"
    state = source.validation_state + ("" if source.active else ", inactive")
    return f"{source.name} [{source.slug}] ({source.backend}): {schedule}  [{state}]"


def _harvest_job(settings: "Settings") -> "dg.JobDefinition":
    from dataspace_assets.harvest.assets import HARVEST_JOB_NAME
    from dataspace_assets.harvest.definitions import build_defs

    return build_defs(settings).resolve_job_def(HARVEST_JOB_NAME)


def _runnable_source(args: argparse.Namespace, catalog: "Catalog") -> "HarvestSource":
    from dataspace_assets.harvest import actions, engine

    source = actions.get_source(catalog, args.identifier)
    engine.ensure_runnable(source)
    return source


# ---------------------------------------------------------------- commands
def _create(args: argparse.Namespace) -> int:
    """Create a harvest source, pending validation."""
    from dataspace_assets.harvest import actions

    catalog = _catalog(args)
    source = actions.create_source(
        catalog,
        backend=args.backend,
        url=args.url,
        name=args.name,
        frequency=args.frequency,
        owner=args.owner,
        organization=args.org,
        config=_parse_config(args.config),
        config_where="--config",
    )
    print(f"created harvest source {source.name} [{source.slug}] id={source.id}")
    print(f"  backend: {source.backend}  url: {source.url}  frequency: {source.frequency}")
    print(f"  validation: {source.validation_state} (run `dataspace harvest validate {source.slug}` to accept it)")
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Accept (schedule and launch once) or refuse a harvest source."""
    from dataspace_assets.harvest import actions
    from dataspace_assets.harvest.sources_config import sync_partitions

    catalog = _catalog(args)
    source = actions.validate_source(catalog, args.identifier, refuse=args.refuse, comment=args.comment)
    sync_partitions(_instance(args), catalog)
    if source.validation_state == "refused":
        print(f"refused harvest source {source.slug}: {source.validation_comment}")
        return 0
    print(f"accepted harvest source {source.slug}; scheduled {source.schedule}")
    if not args.no_launch:
        _launch_source(args, catalog, source)
    return 0


def _delete(args: argparse.Namespace) -> int:
    """Soft-delete a harvest source."""
    from dataspace_assets.harvest import actions, admin
    from dataspace_assets.harvest.sources_config import sync_partitions

    catalog = _catalog(args)
    source = actions.delete_source(catalog, args.identifier)
    instance = _instance(args)
    sync_partitions(instance, catalog)
    admin.report_sources(catalog, instance)  # the UI's admin list no longer shows it
    print(f"deleted harvest source {source.slug} (run `dataspace harvest purge` to remove it for good)")
    return 0


def _clean(args: argparse.Namespace) -> int:
    """Delete every dataset of a source."""
    from dataspace_assets.harvest import actions

    count = actions.clean_source(_catalog(args), args.identifier)
    print(f"deleted {count} dataset(s) of {args.identifier}")
    return 0


def _sources(args: argparse.Namespace) -> int:
    """List the harvest sources."""
    from dataspace_assets.harvest.actions import source_json

    sources = [s for s in _catalog(args).list_sources() if s.schedule or not args.scheduled]
    if args.json:
        _print_json([source_json(s) for s in sources])
    else:
        for source in sources:
            print(_source_line(source))
        if not sources:
            print("no harvest source" + (" scheduled" if args.scheduled else ""))
    return 0


def _backends(args: argparse.Namespace) -> int:
    """List the installed backends."""
    from dataspace_assets.harvest.backends import list_backends

    for entry in list_backends():
        if entry.ok:
            print(f"OK  {entry.display_name} ({entry.name})  [{entry.origin}]")
        else:
            print(f"KO  {entry.name}: {entry.error}  [{entry.origin}]")
    return 0


def _launch_source(args: argparse.Namespace, catalog: "Catalog", source: "HarvestSource") -> int:
    """Ask the harvest sensor to queue a run of this source (no code server is started here); return the request."""
    from dataspace_assets.harvest.sources_config import sync_partitions

    sync_partitions(_instance(args), catalog)
    request = catalog.request_launch(source.id, getattr(args, "max_items", None))
    print(
        f"harvest of {source.slug} requested (#{request}): the harvest sensor queues it on its next tick "
        "(within a minute, while the Dagster daemon runs); follow it in the Dagster UI"
    )
    return request


def _launch(args: argparse.Namespace) -> int:
    """Queue a harvest run of a source."""
    catalog = _catalog(args)
    _launch_source(args, catalog, _runnable_source(args, catalog))
    return 0


PROGRESS_SECONDS = 5.0  # between count lines when stderr is not a terminal


def _follow(catalog: "Catalog", source: "HarvestSource", run_tag: tuple[str, str], instance, stop) -> None:
    """Show the progress of this command's run: a bar on a terminal, else a count line every few seconds."""
    import time

    import dagster as dg
    from tqdm import tqdm

    interactive = sys.stderr.isatty()
    bar = tqdm(desc=f"harvest {source.slug}", unit="item", file=sys.stderr, disable=not interactive)
    last_line, run_id = 0.0, None
    try:
        while not stop.wait(0.3):
            if run_id is None:
                runs = instance.get_runs(filters=dg.RunsFilter(tags={run_tag[0]: run_tag[1]}), limit=1)
                run_id = runs[0].run_id if runs else None
            jobs = [j for j in catalog.list_jobs(source.id, limit=1) if run_id and j.dagster_run_id == run_id]
            if not jobs:
                continue
            job = jobs[0]
            by_status = job.items_by_status or {}
            done = job.items_total - by_status.get("pending", 0) - by_status.get("started", 0)
            if interactive:
                bar.total, bar.n = job.items_total, done
                bar.refresh()
            elif time.monotonic() - last_line >= PROGRESS_SECONDS:
                print(f"harvest {source.slug}: {done}/{job.items_total} item(s) processed", file=sys.stderr, flush=True)
                last_line = time.monotonic()
    finally:
        bar.close()


START_WAIT_SECONDS = 60.0  # how long a second `harvest run` of a source waits to see who holds it


def _start_lock(settings: "Settings", catalog: "Catalog", source: "HarvestSource") -> "AbstractContextManager[None]":
    """Hold this source's start lock in the Dagster home for the run: a second `harvest run` refuses, before any run.

    Without it two commands started together both pass the catalogue's check and both start a Dagster run (the
    second refused only inside its first step), and Dagster's first claim of the `harvest` pool on a fresh
    PostgreSQL instance races between them. The lock goes with the process, also when it is killed.
    """
    import time

    from dataspace_assets.harvest.assets import busy_message
    from dataspace_assets.storage.locks import file_lock

    deadline = time.monotonic() + START_WAIT_SECONDS

    def refuse_once_known() -> None:
        holder = catalog.source_lock(source.id)  # the other command's run, once it has claimed the source
        if holder is not None:
            raise DataspaceError(busy_message(source, holder))
        if time.monotonic() > deadline:
            raise DataspaceError(
                f'harvest source "{source.slug}" is being started by another `dataspace harvest run`; '
                "try again once it ends"
            )

    return file_lock(settings.dagster_home / f".harvest-{source.slug}.lock", while_busy=refuse_once_known)


def _run(args: argparse.Namespace) -> int:
    """Harvest a source now, from this process, through Dagster (steps on Celery workers with DATASPACE_EXECUTOR=celery)."""
    import threading
    import uuid

    from dataspace_assets.harvest.assets import busy_message, run_tags
    from dataspace_assets.harvest.definitions import execute_harvest
    from dataspace_assets.harvest.reaper import process_tags, reap
    from dataspace_assets.harvest.sources_config import add_partitions

    settings = _settings(args)
    catalog = _catalog(args)
    source = _runnable_source(args, catalog)
    instance = _instance(args)
    add_partitions(instance, [source.slug])
    # A run of this source that died is closed first; a live one makes this command refuse, before any run.
    reap(catalog, instance, source.id)
    holder = catalog.source_lock(source.id)
    if holder is not None:
        raise DataspaceError(busy_message(source, holder))
    invocation = ("dataspace/invocation", uuid.uuid4().hex)
    tags = {**run_tags(source.slug, source.domain, args.max_items), **process_tags(), invocation[0]: invocation[1]}
    with _start_lock(settings, catalog, source):
        stop = threading.Event()
        thread = threading.Thread(target=_follow, args=(catalog, source, invocation, instance, stop), daemon=True)
        thread.start()
        try:
            run_id, errors = execute_harvest(settings, instance, source.slug, tags)
        finally:
            stop.set()
            thread.join()
    jobs = [j for j in catalog.list_jobs(source.id, limit=5) if j.dagster_run_id == run_id]
    if not jobs:
        raise DataspaceError(f"harvest run {run_id} of {source.slug} failed: {'; '.join(errors) or 'no job'}")
    job = jobs[0]
    _print_job(job, source.slug)
    print(f"dagster run: {run_id}")
    return 0 if job.status in ("done", "done-errors") else 1


def _print_job(job, slug: str) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in (job.items_by_status or {}).items() if v)
    print(f"job {job.id} of {slug}: {job.status} ({job.items_total} item(s){': ' + counts if counts else ''})")
    for error in job.errors or []:
        print(f"  error: {error.get('message')}")


def _schedule(args: argparse.Namespace) -> int:
    """Schedule a source with cron fields."""
    from dataspace_assets.harvest import actions

    cron = actions.schedule_cron(args.minute, args.hour, args.day, args.day_of_month, args.month)
    source = actions.schedule_source(_catalog(args), args.identifier, cron)
    print(f"scheduled harvest source {source.slug}: {source.schedule}")
    if args.minute == "*" and args.hour != "*":
        # udata users write `-h 4` meaning "at 4 o'clock"; cron reads it as every minute of that hour.
        print(
            f"warning: minute is *, so this runs every minute of hour {args.hour} (60 runs); "
            f"add -m 0 to run once at {args.hour}:00",
            file=sys.stderr,
        )
    return 0


def _unschedule(args: argparse.Namespace) -> int:
    """Remove the schedule of a source."""
    from dataspace_assets.harvest import actions

    source = actions.unschedule_source(_catalog(args), args.identifier)
    print(f"unscheduled harvest source {source.slug}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    """Remove the deleted sources for good (archiving their datasets) and jobs past retention."""
    from dataspace_assets.harvest import actions, admin
    from dataspace_assets.harvest.sources_config import sync_partitions

    catalog = _catalog(args)
    purged = actions.purge_sources(catalog)
    instance = _instance(args)
    sync_partitions(instance, catalog)
    old_jobs = actions.purge_jobs(catalog, args.days)
    # The admin list in the UI drops the purged sources and names each source's surviving latest job.
    admin.report_sources(catalog, instance)
    print(f"purged {len(purged)} source(s) and {old_jobs} job(s) older than {args.days} days")
    return 0


def _attach(args: argparse.Namespace) -> int:
    """Attach existing datasets to remote ids (a `;` CSV with columns local and remote)."""
    from dataspace_assets.harvest import actions

    report = actions.attach(_catalog(args), args.file, args.domain)
    for dataset_id, remote in report.attached:
        print(f"attached {dataset_id} to {remote}")
    for error in report.errors:
        print(error, file=sys.stderr)
    print(f"{len(report.attached)} attached, {len(report.errors)} error(s)")
    return 0 if not report.errors else 1


def _detach(args: argparse.Namespace) -> int:
    """Detach a dataset from its harvest source."""
    from dataspace_assets.harvest import actions

    actions.detach(_catalog(args), args.dataset_id)
    print(f"detached dataset {args.dataset_id}")
    return 0


def _detach_all(args: argparse.Namespace) -> int:
    """Detach every dataset of a source."""
    from dataspace_assets.harvest import actions

    count = actions.detach_all_from_source(_catalog(args), args.identifier)
    print(f"detached {count} dataset(s); a new harvest of this source will create them again (duplicates)")
    return 0


def _preview(args: argparse.Namespace) -> int:
    """Harvest up to 20 items without saving anything."""
    from dataspace_assets.harvest import actions, engine

    catalog = _catalog(args)
    if args.identifier:
        report = engine.preview_job(catalog, actions.get_source(catalog, args.identifier))
    else:
        if not (args.url and args.backend):
            raise DataspaceError("preview needs a source ID, or --url URL and --backend NAME")
        report = engine.preview_job(
            catalog, backend=args.backend, url=args.url, name=args.name or args.url, config=_parse_config(args.config),
            config_where="--config",
        )
    if args.json:
        from dataclasses import asdict

        from dataspace_assets.harvest.catalog.store import jsonable

        _print_json(
            {
                "job": report.job.to_json(),
                "items": [i.to_json() for i in report.items],
                "datasets": jsonable({k: asdict(v) for k, v in report.datasets.items()}),
                "dataservices": jsonable({k: asdict(v) for k, v in report.dataservices.items()}),
            }
        )
        return 0 if report.job.status != "failed" else 1
    _print_job(report.job, args.identifier or args.url)
    for item in report.items:
        record = report.datasets.get(item.dataset_id or "") or report.dataservices.get(item.dataservice_id or "")
        title = f" {record.title!r}" if record else ""
        errors = "; ".join(e["message"] for e in item.errors)
        print(f"  {item.status:8} {item.kind:11} {item.remote_id}{title}{'  ' + errors if errors else ''}")
    print("preview: nothing was saved")
    return 0 if report.job.status != "failed" else 1  # like `run`: a failed harvest is a failed command


def _jobs(args: argparse.Namespace) -> int:
    """The job history of a source, with counts."""
    from dataspace_assets.harvest import actions

    catalog = _catalog(args)
    source = actions.get_source(catalog, args.identifier, include_deleted=True)
    jobs = catalog.list_jobs(source.id, limit=args.limit)
    if args.json:
        _print_json([j.to_json() for j in jobs])
        return 0
    for job in jobs:
        s = job.items_by_status or {}
        print(
            f"{job.id}  {job.created:%Y-%m-%d %H:%M:%S}  {job.status:11}  total {job.items_total}  "
            f"done {s.get('done', 0)}  failed {s.get('failed', 0)}  skipped {s.get('skipped', 0)}  "
            f"archived {s.get('archived', 0)}  errors {len(job.errors or [])}"
        )
    if not jobs:
        print(f"no job for {source.slug}")
    return 0


def _job(args: argparse.Namespace) -> int:
    """One job with its errors and items (optionally of one status)."""
    from dataspace_assets.harvest import actions

    catalog = _catalog(args)
    job = actions.get_job(catalog, _instance(args), args.job_id)  # a purged job is named as such
    items = catalog.get_items(job.id, status=args.status)
    if args.json:
        _print_json({**job.to_json(), "items": [i.to_json() for i in items]})
        return 0
    source = catalog.get_source(job.source_id, include_deleted=True)
    _print_job(job, source.slug if source else job.source_id)
    print(f"  started {job.started}  ended {job.ended}")
    for item in items:
        target = item.dataset_id or item.dataservice_id or "-"
        errors = "; ".join(e["message"] for e in item.errors)
        print(f"  {item.status:8} {item.kind:11} {item.remote_id}  -> {target}{'  ' + errors if errors else ''}")
        for entry in item.logs or []:  # what the mapping logged for this item (refused contact points ...)
            print(f"      {entry.get('level', 'info')}: {entry.get('message')}")
    return 0


def _datasets(args: argparse.Namespace) -> int:
    """The datasets of a source with their resources."""
    from dataclasses import asdict

    from dataspace_assets.harvest import actions
    from dataspace_assets.harvest.catalog.store import jsonable

    catalog = _catalog(args)
    source = actions.get_source(catalog, args.identifier, include_deleted=True)
    datasets = catalog.list_datasets(source_id=source.id)
    if args.json:
        _print_json(jsonable([asdict(d) for d in datasets]))
        return 0
    for dataset in datasets:
        archived = "  [archived]" if dataset.archived else ""
        print(f"{dataset.id}  {dataset.title}  (remote {dataset.harvest.remote_id}){archived}")
        for resource in dataset.resources:
            print(f"    - {resource.title or '(untitled)'}  [{resource.format or '?'}]  {resource.url}")
    if not datasets:
        print(f"no dataset for {source.slug}")
    return 0


def _dataservices(args: argparse.Namespace) -> int:
    """The dataservices of a source with the datasets they serve."""
    from dataclasses import asdict

    from dataspace_assets.harvest import actions
    from dataspace_assets.harvest.catalog.store import jsonable

    catalog = _catalog(args)
    source = actions.get_source(catalog, args.identifier, include_deleted=True)
    services = catalog.list_dataservices(source_id=source.id)
    served = catalog.get_datasets({i for s in services for i in s.datasets})
    if args.json:
        _print_json(
            jsonable(
                [
                    {**asdict(s), "served": [{"id": i, "title": served[i].title if i in served else None} for i in s.datasets]}
                    for s in services
                ]
            )
        )
        return 0
    for service in services:
        archived = "  [archived]" if service.archived_at else ""
        print(f"{service.id}  {service.title}  (remote {service.harvest.remote_id}){archived}")
        print(f"    api: {service.base_api_url or '-'}")
        for dataset_id in service.datasets:
            title = served[dataset_id].title if dataset_id in served else "(deleted)"
            print(f"    serves {dataset_id}  {title}")
    if not services:
        print(f"no dataservice for {source.slug}")
    return 0


# ---------------------------------------------------------------- parser
def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `dataspace harvest ...` to the `dataspace` parser."""
    harvest = commands.add_parser("harvest", help="harvest remote catalogues (DCAT, CSW-DCAT, plugins)")
    harvest.add_argument("-?", action="help", help="show this help message and exit (as udata's -?)")
    sub = harvest.add_subparsers(dest="harvest_command", metavar="ACTION", required=True)

    def add(name: str, func, help_text: str, **kwargs) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text, **kwargs)
        parser.add_argument("-?", action="help", help="show this help message and exit (as udata's -?)")
        parser.set_defaults(func=func)
        return parser

    p = add("create", _create, "create a harvest source (pending validation)")
    p.add_argument("backend", help="backend name (see `dataspace harvest backends`)")
    p.add_argument("url", help="the remote catalogue's URL (http://, https:// or file://)")
    p.add_argument("name", help="the source's name (its slug is made from it)")
    p.add_argument(
        "-f", "--frequency", default="manual", choices=["manual", "monthly", "weekly", "daily"],
        help="how often the remote changes (informative; the schedule decides runs)",
    )
    p.add_argument("-u", "--owner", help="user who owns the harvested datasets (when no organization)")
    p.add_argument("-o", "--org", help="organization that owns the harvested datasets")
    p.add_argument("--config", help='backend config as JSON, e.g. \'{"features": {"geodcatap": true}}\'')

    p = add("validate", _validate, "accept a source (schedules it daily and launches it once), or refuse it")
    p.add_argument("identifier", help="source id or slug")
    p.add_argument("--refuse", action="store_true", help="refuse the source instead (needs --comment)")
    p.add_argument("--comment", help="why it is accepted or refused (shown in catalog/sources)")
    p.add_argument("--no-launch", action="store_true", help="accept without launching a first run")

    for name, func, text in (
        ("delete", _delete, "soft-delete a source"),
        ("clean", _clean, "delete every dataset of a source"),
        ("launch", _launch, "queue a harvest run (the daemon runs it)"),
        ("unschedule", _unschedule, "remove a source's schedule"),
        ("detach-all-from-source", _detach_all, "detach every dataset of a source"),
    ):
        add(name, func, text).add_argument("identifier", help="source id or slug")

    p = add("run", _run, "harvest a source now, in this process (recorded as a Dagster run)")
    p.add_argument("identifier", help="source id or slug")
    p.add_argument("--max-items", type=_positive_int, default=None, help="stop listing after N items")

    p = add("sources", _sources, "list harvest sources")
    p.add_argument("-s", "--scheduled", action="store_true", help="only scheduled sources")
    p.add_argument("--json", action="store_true", help="print JSON")

    add("backends", _backends, "list installed backends (OK or KO)")

    # -h is the hour, as in udata, so help is --help only.
    p = add("schedule", _schedule, "schedule a source with cron fields", add_help=False)
    p.add_argument("--help", action="help", help="show this help message and exit")
    p.add_argument("identifier", help="source id or slug")
    p.add_argument("-m", "--minute", default="*", help="cron minute field (default *: every minute)")
    p.add_argument("-h", "--hour", default="*", help="cron hour field (default *); with -m *, every minute of it")
    p.add_argument("-d", "--day", default="*", help="cron day-of-week field (default *)")
    p.add_argument("-D", "--day-of-month", default="*", help="cron day-of-month field (default *)")
    p.add_argument("-M", "--month", default="*", help="cron month field (default *)")

    p = add("purge", _purge, "remove deleted sources for good (their datasets are archived) and old jobs")
    p.add_argument(
        "--days", type=_bounded_int(1, 36500), default=365,
        help="job retention in days, 1 or more (default 365); a source's latest job is always kept",
    )

    p = add("attach", _attach, "attach datasets to remote ids from a ';' CSV (columns local;remote)")
    p.add_argument("file", help="a ';' CSV file with columns local (dataset id) and remote (remote id)")
    p.add_argument("domain", help="the remote domain the ids belong to (a source's domain)")

    p = add("detach", _detach, "detach a dataset from its harvest source")
    p.add_argument("dataset_id", help="the dataset's id")

    p = add("preview", _preview, "harvest up to 20 items without saving anything")
    p.add_argument("identifier", nargs="?", help="source id or slug")
    p.add_argument("--url", help="preview a source that is not stored: its URL")
    p.add_argument("--backend", help="... and its backend")
    p.add_argument("--name", help="... and its name (default: the URL)")
    p.add_argument("--config", help="... and its backend config as JSON")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("jobs", _jobs, "job history of a source with counts")
    p.add_argument("identifier", help="source id or slug")
    p.add_argument("--limit", type=_bounded_int(1, 100000), default=20, help="how many jobs, newest first (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("job", _job, "one job with its items")
    p.add_argument("job_id", help="the job's id (see `dataspace harvest jobs`)")
    p.add_argument(
        "--status", choices=["pending", "started", "done", "failed", "skipped", "archived"],
        help="only the items of this status",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("datasets", _datasets, "the datasets of a source with their resources")
    p.add_argument("identifier", help="source id or slug")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("dataservices", _dataservices, "the dataservices of a source with the datasets they serve")
    p.add_argument("identifier", help="source id or slug")
    p.add_argument("--json", action="store_true", help="print JSON")
