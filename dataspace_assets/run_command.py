"""`dataspace run` with the original CLI's flags, `dataspace serve`, and the `dt-dataspace` console script.

    dataspace run [--collectors N...|all] [--harvesters N...|all] [--handlers N...|all] [--now]
                  [--init-dependencies] [--parquetize N...] [--host H] [--port P] [--allowed-hosts A...]
                  [--log-level LEVEL] [--config-folder DIR]

Without a selection `dataspace run` is the main job (every asset once). With one:
* `--now`: the selected collectors, harvesters and parquet assets materialized once, in one Dagster run;
* `--init-dependencies`: collectors without data once, then each harvester one step, in a stable topological
  order of SOURCE and (optional) DEPENDENCIES, ties by config order, in one run;
* otherwise continuously: the Dagster daemon with only the selected schedules and sensors, plus the handler
  server, until SIGINT or SIGTERM.
This module sits at the package root because a selection spans pillars (the handler server takes the
catalogue routes of the harvest pillar through `extra_routes`).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import Settings, load_settings

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SELECTION_ENV = "DATASPACE_RUN_SELECTION"
NOTHING_SELECTED = "No handlers, collectors, or harvesters were specified to run."


# --------------------------------------------------------------------------- arguments


def add_run_arguments(parser: argparse.ArgumentParser, *, original: bool = False) -> None:
    """The original `dt-dataspace` flags (plus `--dev` on `dataspace run`)."""
    names = {"nargs": "*", "metavar": "NAME", "default": None}
    parser.add_argument("--collectors", help="collectors to run: full names or all", **names)
    parser.add_argument("--harvesters", help="harvesters to run: full names or all", **names)
    parser.add_argument("--handlers", help="handlers to serve: full names or all", **names)
    parser.add_argument("--parquetize", help="components whose dataspace/<name>_parquet assets run", **names)
    parser.add_argument("--now", action="store_true", help="run the selection once and exit (not with handlers)")
    parser.add_argument(
        "--init-dependencies",
        action="store_true",
        help="collectors without data once, then one step of each harvester in dependency order, then exit",
    )
    parser.add_argument("--host", default=None, help="handler server address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="handler server port (default 8888)")
    parser.add_argument(
        "--allowed-hosts", nargs="*", metavar="ADDR", default=None,
        help="client addresses, CIDR ranges or host names allowed (default 127.0.0.1 ::1)",
    )
    parser.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, default="WARNING")
    parser.add_argument(
        "--config-folder", "--configs", dest="configs", metavar="DIR", default=None,
        help="configs root (holding dataspace/) or an original folder of TOML files",
    )
    if not original:
        parser.add_argument("--dev", action="store_true", help="after the main job, start the Dagster UI")
        parser.add_argument("--ui-host", default="127.0.0.1", help="Dagster UI address with --dev")
        parser.add_argument("--ui-port", type=int, default=3000, help="Dagster UI port with --dev")


# --------------------------------------------------------------------------- selection


@dataclass
class Selection:
    """What `dataspace run` was asked to run, resolved against the configs."""

    collectors: list[str] = field(default_factory=list)
    harvesters: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    parquet: list[str] = field(default_factory=list)  # asset names `<name>_parquet`

    @property
    def empty(self) -> bool:
        return not (self.collectors or self.harvesters or self.handlers or self.parquet)

    def asset_keys(self) -> list:
        import dagster as dg

        names = [*self.collectors, *self.harvesters, *self.parquet]
        return [dg.AssetKey(["dataspace", name]) for name in names]

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Selection:
        return cls(**json.loads(text))


def _pick(kind: str, asked: list[str] | None, known: list[str]) -> list[str]:
    """Names asked for (`all` = every one, in config order); an unknown name is an error."""
    if not asked:
        return []
    if "all" in asked:
        return list(known)
    unknown = [n for n in asked if n not in known]
    if unknown:
        raise DataspaceError(f"unknown {kind}(s): {', '.join(unknown)} ({kind}s: {', '.join(known) or 'none'})")
    wanted = set(asked)
    return [n for n in known if n in wanted]


def parquet_assets(settings: Settings, names: list[str]) -> list[str]:
    """Every level asset (`<name>_parquet`, `<name>_parquet_<GROUP>`) of the named components (`all`: every one)."""
    from dataspace_assets.dataspace.config import dataspace_folder, load_config
    from dataspace_assets.dataspace.parquetize import parquet_levels

    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    levels = parquet_levels(config, ["all"] if "all" in names else names)
    if not levels:
        raise DataspaceError("--parquetize all: no component sets PARQUETIZE")
    return [level.key.path[1] for level in levels]


def resolve_selection(settings: Settings, args: argparse.Namespace):
    """The selection named on the command line, and the configs it was resolved against."""
    from dataspace_assets.dataspace.server import load_server_config

    config = load_server_config(settings)
    selection = Selection(
        collectors=_pick("collector", args.collectors, [c.full_name for c in config.collectors]),
        harvesters=_pick("harvester", args.harvesters, [h.full_name for h in config.harvesters]),
        handlers=_pick("handler", args.handlers, [h.full_name for h in config.handlers]),
    )
    if args.parquetize:
        selection.parquet = parquet_assets(settings, args.parquetize)
    if args.init_dependencies and not (args.collectors or args.harvesters):
        # Alone, --init-dependencies bootstraps the whole data space.
        selection.collectors = [c.full_name for c in config.collectors]
        selection.harvesters = [h.full_name for h in config.harvesters]
    return selection, config


def init_order(config, harvesters: Sequence[str]) -> list[str]:
    """A stable topological order of the harvesters over SOURCE + DEPENDENCIES + OPTIONAL_DEPENDENCIES.

    Self-edges are ignored and inputs outside the selection are taken as ready; among the harvesters whose
    inputs are all placed, the first in config order (file path, then table order) goes next.
    """
    chosen = [h for h in config.harvesters if h.full_name in set(harvesters)]
    names = {h.full_name for h in chosen}
    needs = {
        h.full_name: {
            d for d in [h.source, *h.dependencies, *h.optional_dependencies] if d in names and d != h.full_name
        }
        for h in chosen
    }
    order: list[str] = []
    pending = [h.full_name for h in chosen]
    while pending:
        ready = next((n for n in pending if needs[n] <= set(order)), None)
        if ready is None:
            cycle = _find_cycle(needs, pending)
            raise DataspaceError(f"--init-dependencies: dependency cycle {' -> '.join(cycle)}")
        order.append(ready)
        pending.remove(ready)
    return order


def _find_cycle(needs: dict[str, set[str]], pending: list[str]) -> list[str]:
    """One cycle among the pending harvesters, as a closed path."""
    path: list[str] = []
    node = pending[0]
    while node not in path:
        path.append(node)
        node = sorted(n for n in needs[node] if n in pending)[0]
    return [*path[path.index(node):], node]


# --------------------------------------------------------------------------- the run command


def run(args: argparse.Namespace, *, original: bool = False) -> int:
    """`dataspace run` (and `dt-dataspace`): the main job, a one-off selection, or the continuous mode."""
    if args.configs:
        os.environ["DATASPACE_CONFIGS"] = str(Path(args.configs).resolve())
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("dataspace").setLevel(args.log_level)
    settings = load_settings()
    selected_anything = any(
        [args.collectors, args.harvesters, args.handlers, args.parquetize, args.init_dependencies]
    )
    if not selected_anything:
        if original:
            print(NOTHING_SELECTED)
            return 0
        return _main_job(settings, args)
    # As in the original, this is refused before anything starts.
    if args.now and args.handlers:
        raise DataspaceError("Cannot run handlers with --now flag.")
    selection, config = resolve_selection(settings, args)
    if args.init_dependencies:
        return _init_dependencies(settings, config, selection)
    if args.now:
        if selection.empty:
            print(NOTHING_SELECTED)
            return 0
        return _once(settings, selection)
    if selection.empty:
        print(NOTHING_SELECTED)
        return 0
    return continuous(settings, selection, args)


def _main_job(settings: Settings, args: argparse.Namespace) -> int:
    from dataspace_assets.main_job import format_report, run_main_job

    report = run_main_job(settings)
    print(format_report(report, settings))
    if getattr(args, "dev", False) and report.ok:
        from dataspace_assets.cli import _dev

        return _dev(argparse.Namespace(host=args.ui_host, port=args.ui_port))
    return 0 if report.ok else 1


def _report(settings: Settings, keys: list) -> int:
    from dataspace_assets.main_job import format_report, run_main_job

    report = run_main_job(settings, asset_keys=keys)
    print(format_report(report, settings))
    return 0 if report.ok else 1


def _once(settings: Settings, selection: Selection) -> int:
    """Each selected collector, harvester and parquet asset once, in one run."""
    return _report(settings, selection.asset_keys())


def _init_dependencies(settings: Settings, config, selection: Selection) -> int:
    """Collectors that have no data yet, then the harvesters in dependency order, in one run."""
    from dataspace_assets.storage.reader import DataReader, read_only_store

    store = read_only_store(settings)
    try:
        reader = DataReader(store)
        empty = [name for name in selection.collectors if reader.count(name) == 0]
    finally:
        store.close()
    order = init_order(config, selection.harvesters)
    with_data = [n for n in selection.collectors if n not in empty]
    print(f"collectors without data: {', '.join(empty) or 'none'}"
          + (f" (already have data: {', '.join(with_data)})" if with_data else ""))
    print(f"harvesters in order: {', '.join(order) or 'none'}")
    keys = Selection(collectors=empty, harvesters=order).asset_keys()
    if not keys:
        print("nothing to initialise")
        return 0
    return _report(settings, keys)


# --------------------------------------------------------------------------- continuous mode


def _component_of(name: str, components: Sequence[str]) -> str | None:
    """The component a schedule or sensor `dataspace_<full name>_...` belongs to (the longest name that fits)."""
    fits = [c for c in components if name.startswith(f"dataspace_{c}_")]
    return max(fits, key=len) if fits else None


def select_automation(defs, selection: Selection, components: Sequence[str]):
    """The same definitions with only the selected components' schedules and sensors.

    A schedule or sensor belongs to a component by its name, `dataspace_<full name>_<...>`; the automation
    sensor is kept for the selected harvester and parquet assets only; every other one is left out, so the
    daemon cannot start it whatever its stored state.
    """
    import dagster as dg

    wanted = {*selection.collectors, *selection.harvesters, *selection.handlers, *selection.parquet}
    schedules = [s for s in defs.schedules or [] if _component_of(s.name, components) in wanted]
    sensors = [
        s for s in defs.sensors or []
        if not isinstance(s, dg.AutomationConditionSensorDefinition) and _component_of(s.name, components) in wanted
    ]
    automated = [dg.AssetKey(["dataspace", n]) for n in [*selection.harvesters, *selection.parquet]]
    if automated:
        sensors.append(
            dg.AutomationConditionSensorDefinition(
                "dataspace_automation", target=dg.AssetSelection.assets(*automated),
                default_status=dg.DefaultSensorStatus.RUNNING,
            )
        )
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        resources=defs.resources,
        executor=defs.executor,
        loggers=defs.loggers,
        metadata=defs.metadata,
        schedules=schedules,
        sensors=sensors,
    )


def selected_definitions(settings: Settings):
    """The code location the continuous mode's daemon loads: the selection is in `$DATASPACE_RUN_SELECTION`."""
    from dataspace_assets.dataspace.server import load_server_config
    from dataspace_assets.definitions import build_definitions

    selection = Selection.from_json(os.environ[SELECTION_ENV])
    config = load_server_config(settings)
    components = [c.full_name for c in config.components]
    components += [f"{n}" for n in selection.parquet]
    return select_automation(build_definitions(settings), selection, components)


def _workspace(folder: Path) -> Path:
    path = folder / "workspace.yaml"
    path.write_text(
        "load_from:\n  - python_module:\n      module_name: dataspace_assets.selected_definitions\n"
        "      location_name: dataspace\n",
        encoding="utf-8",
    )
    return path


def _default_signals() -> None:
    # A shell without job control starts background jobs with SIGINT ignored; the child must be stoppable.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_daemon(settings: Settings, selection: Selection, log_level: str, folder: Path) -> subprocess.Popen:
    """The Dagster daemon on the persistent instance, loading only the selection's schedules and sensors."""
    from dataspace_assets.instance import prepare_dagster_home

    prepare_dagster_home(settings)
    daemon = shutil.which("dagster-daemon", path=os.path.dirname(sys.executable)) or shutil.which("dagster-daemon")
    if daemon is None:
        raise DataspaceError("the `dagster-daemon` command is not installed in this environment")
    env = {**os.environ, SELECTION_ENV: selection.to_json(), "DAGSTER_HOME": str(settings.dagster_home)}
    return subprocess.Popen(
        [daemon, "run", "-w", str(_workspace(folder)), "--log-level", log_level.lower()],
        env=env, start_new_session=True, preexec_fn=_default_signals,
    )


def stop_process_group(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM to a child we started (and its own children), SIGKILL if it does not stop in time."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


def continuous(settings: Settings, selection: Selection, args: argparse.Namespace) -> int:
    """Run the selection's schedules and sensors (and serve its handlers) until SIGINT or SIGTERM."""
    stop = threading.Event()
    server = None
    if selection.handlers:
        server = make_handler_server(settings, selection.handlers, args)
    print(f"running {', '.join([*selection.collectors, *selection.harvesters, *selection.parquet]) or 'no assets'}"
          f"{'; serving ' + ', '.join(selection.handlers) if selection.handlers else ''} (stop with Ctrl-C or SIGTERM)",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="dataspace-run-") as folder:
        daemon = start_daemon(settings, selection, args.log_level, Path(folder))
        print(f"dagster daemon pid {daemon.pid}", flush=True)

        def watch_daemon() -> None:
            daemon.wait()
            stop.set()
            if server is not None:
                server.should_exit = True

        threading.Thread(target=watch_daemon, daemon=True).start()
        try:
            if server is not None:
                run_server(server)
            else:
                handler = lambda signum, frame: stop.set()  # noqa: E731
                previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
                try:
                    stop.wait()
                finally:
                    for s, h in previous.items():
                        signal.signal(s, h)
        finally:
            died = daemon.poll() is not None
            code = stop_process_group(daemon)
    if died:
        print(f"error: the Dagster daemon stopped (exit code {code})", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return 0


# --------------------------------------------------------------------------- the handler server


def run_server(server) -> None:
    """Run a uvicorn server until SIGINT or SIGTERM, then return (so the caller can stop what it started).

    uvicorn re-raises the signal it caught once it has shut down; with our handlers in place that re-raise
    only lands here, instead of killing the process before its children are stopped.
    """
    previous = {s: signal.signal(s, lambda signum, frame: None) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def extra_routes(settings: Settings) -> list:
    """Routes other pillars add to the handler server: the harvest pillar's DCAT catalogue (`/catalog`, ...)."""
    from dataspace_assets.harvest.publish.routes import catalog_routes

    return catalog_routes(settings)


def make_handler_server(settings: Settings, handlers: Sequence[str] | None, args: argparse.Namespace):
    """A uvicorn server (not started) for the handler app."""
    import uvicorn

    from dataspace_assets.dataspace.server import DEFAULT_ALLOWED_HOSTS, DEFAULT_HOST, DEFAULT_PORT, build_app

    allowed = args.allowed_hosts if args.allowed_hosts is not None else list(DEFAULT_ALLOWED_HOSTS)
    app = build_app(settings, handlers, extra_routes(settings), allowed_hosts=allowed)
    host = args.host or DEFAULT_HOST
    port = args.port if args.port is not None else DEFAULT_PORT
    config = uvicorn.Config(app, host=host, port=port, log_level=args.log_level.lower(), access_log=False,
                            server_header=False, lifespan="on")
    print(f"serving handlers on http://{host}:{port}/ (allowed clients: {', '.join(allowed) or 'none'})", flush=True)
    # Everything loaded so far (Dagster, the pillars) lives as long as the server: keep it out of the
    # collector's scans, which would otherwise walk that whole heap again and again under load.
    gc.collect()
    gc.freeze()
    return uvicorn.Server(config)


def serve(args: argparse.Namespace) -> int:
    """`dataspace serve`: the handler server alone, until SIGINT or SIGTERM."""
    if args.configs:
        os.environ["DATASPACE_CONFIGS"] = str(Path(args.configs).resolve())
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    handlers = args.handlers if args.handlers else None  # none named: every handler
    server = make_handler_server(settings, handlers, args)
    run_server(server)
    return 0


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--handlers", nargs="*", metavar="NAME", default=None, help="handlers to serve (default all)")
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8888)")
    parser.add_argument("--allowed-hosts", nargs="*", metavar="ADDR", default=None,
                        help="client addresses, CIDR ranges or host names allowed (default 127.0.0.1 ::1)")
    parser.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, default="WARNING")
    parser.add_argument("--config-folder", "--configs", dest="configs", metavar="DIR", default=None)


def register(commands: argparse._SubParsersAction, run_parser: argparse.ArgumentParser) -> None:
    """Give `dataspace run` its flags and add `dataspace serve`."""
    add_run_arguments(run_parser)
    run_parser.set_defaults(func=run)
    serve_parser = commands.add_parser("serve", help="serve the data space handlers over HTTP (starlette + uvicorn)")
    add_serve_arguments(serve_parser)
    serve_parser.set_defaults(func=serve)


def dev_with_handlers(args: argparse.Namespace) -> int:
    """`dataspace dev --handlers ...`: the Dagster UI and daemon, with the handler server beside them."""
    from dataspace_assets.instance import prepare_dagster_home
    from dataspace_assets.settings import PROJECT_ROOT

    settings = load_settings()
    prepare_dagster_home(settings)
    dagster = shutil.which("dagster", path=os.path.dirname(sys.executable)) or shutil.which("dagster")
    if dagster is None:
        raise DataspaceError("the `dagster` command is not installed in this environment")
    server_args = argparse.Namespace(host=args.handlers_host, port=args.handlers_port, allowed_hosts=args.allowed_hosts,
                                     log_level="WARNING")
    server = make_handler_server(settings, args.handlers or None, server_args)
    ui = subprocess.Popen(
        [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)],
        start_new_session=True, preexec_fn=_default_signals,
    )
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={settings.dagster_home})", flush=True)

    def watch_ui() -> None:
        ui.wait()
        server.should_exit = True

    threading.Thread(target=watch_ui, daemon=True).start()
    try:
        run_server(server)
    finally:
        stop_process_group(ui)
    return 0


def add_dev_arguments(parser: argparse.ArgumentParser) -> None:
    """`dataspace dev --handlers [NAME...]`: serve handlers beside the UI."""
    parser.add_argument("--handlers", nargs="*", metavar="NAME", default=None,
                        help="also serve these handlers (none named: all) on --handlers-host/--handlers-port")
    parser.add_argument("--handlers-host", default=None, help="handler server address (default 127.0.0.1)")
    parser.add_argument("--handlers-port", type=int, default=None, help="handler server port (default 8888)")
    parser.add_argument("--allowed-hosts", nargs="*", metavar="ADDR", default=None)


# --------------------------------------------------------------------------- dt-dataspace


def dt_main(argv: Sequence[str] | None = None) -> int:
    """The `dt-dataspace` console script: the original's command lines, run on Dagster."""
    parser = argparse.ArgumentParser(
        prog="dt-dataspace", description="Run data space components (digitaltwin-dataspace compatible)."
    )
    add_run_arguments(parser, original=True)
    args = parser.parse_args(argv)
    try:
        return run(args, original=True)
    except DataspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
