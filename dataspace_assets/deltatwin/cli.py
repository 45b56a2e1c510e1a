"""`dataspace twin ...` sub-commands of the deltatwin pillar: validate a twin folder, scaffold a new one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dataspace_assets.deltatwin.schemas import SUPPORTED_VERSIONS


def _validate(args: argparse.Namespace) -> int:
    """Print every problem of a twin folder (or a JSON list with --json); exit 1 on any error, 0 otherwise."""
    from dataspace_assets.deltatwin.validate import validate_folder

    report = validate_folder(
        Path(args.dir),
        version=args.as_version,
        registries=[Path(r) for r in args.registry],
        inputs=Path(args.inputs) if args.inputs is not None else None,
        publish=args.publish,
    )
    if args.json:
        print(report.to_json())
    else:
        for line in report.lines():
            print(line)
        print(report.summary(args.dir))
    return 0 if report.ok else 1


def _init(args: argparse.Namespace) -> int:
    """Create a new twin folder and say what was written."""
    from dataspace_assets.deltatwin.init import init_twin
    from dataspace_assets.deltatwin.validate import validate_folder

    folder = init_twin(Path(args.dir), owner=args.owner)
    print(f"created {folder}/ with manifest.json, workflow.yml and models/")
    for line in validate_folder(folder).lines():
        print(line)  # e.g. a folder name that is not a good DeltaTwin name
    return 0


def _run(args: argparse.Namespace) -> int:
    """Run a twin folder through Dagster on the persistent instance; exit 0 on success, 1 otherwise."""
    from dataspace_assets.deltatwin.execute import ensure_folder, run_twin
    from dataspace_assets.settings import load_settings

    folder = Path(args.dir)
    ensure_folder(folder)
    echo = (lambda line: print(line, file=sys.stderr)) if args.json else print
    result = run_twin(
        folder,
        Path(args.inputs) if args.inputs else None,
        load_settings(),
        registries=tuple(Path(r) for r in args.registry),
        parallel=args.parallel,
        echo=echo,
    )
    if args.json:
        print(result.to_json())
    else:
        print(f"run {result.run_id or '(not started)'}: {result.status} (return code {result.return_code})")
        if result.message:
            print(result.message)
        for key, output in result.outputs.items():
            print(f"  {key}: {output['path']} ({output['size']} bytes, {output['checksum']})")
    return 0 if result.ok else 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this pillar's sub-commands to the `dataspace` parser."""
    twin = commands.add_parser("twin", help="check and create DeltaTwin folders (manifest.json + workflow.yml)")
    actions = twin.add_subparsers(dest="twin_command", metavar="ACTION", required=True)

    validate = actions.add_parser("validate", help="validate a twin folder: one line per problem, exit 1 on any error")
    validate.add_argument("dir", metavar="DIR", help="the folder holding manifest.json and workflow.yml")
    validate.add_argument("--json", action="store_true", help="print the problems as a JSON list")
    validate.add_argument(
        "--inputs",
        metavar="FILE",
        help="also check a run's inputs file {name: {type, value | url | secret_value}} against the manifest",
    )
    schema = validate.add_mutually_exclusive_group()  # publishing always validates as 1.4
    schema.add_argument(
        "--publish",
        metavar="VERSION",
        help="check the folder can be published as VERSION (PEP 440; the manifest validated as 1.4)",
    )
    schema.add_argument(
        "--as-version",
        choices=SUPPORTED_VERSIONS,
        metavar="VERSION",
        help=f"validate as this deltaVersion ({', '.join(SUPPORTED_VERSIONS)}) instead of the declared one",
    )
    validate.add_argument(
        "--registry",
        metavar="DIR",
        action="append",
        default=[],
        help="a folder of published twins (<id>/<version>/manifest.json) to check dependency ports against; repeatable",
    )
    validate.set_defaults(func=_validate)

    init = actions.add_parser("init", help="create a new twin folder with models/, manifest.json and workflow.yml")
    init.add_argument(
        "dir", metavar="DIR", help="the folder to create (it must not exist); its name becomes the twin's name"
    )
    init.add_argument("--owner", help="the manifest's owner (default: John Doe, as delta-core writes it)")
    init.set_defaults(func=_init)

    run = actions.add_parser("run", help="run a twin folder through Dagster (the run shows in the UI); exit 1 on failure")
    run.add_argument("dir", metavar="DIR", help="the twin folder (inside configs/ or anywhere)")
    run.add_argument(
        "--inputs", metavar="FILE", help="the run's inputs file {name: {type, value | url | secret_value}}"
    )
    run.add_argument(
        "--json", action="store_true", help='print one object {"run_id", "status", "return_code", "message", "outputs"}'
    )
    run.add_argument(
        "--registry", metavar="DIR", action="append", default=[], help="a folder of whole twins <id>/<version>/ for dependency nodes; repeatable"
    )
    run.add_argument(
        "--parallel",
        action="store_true",
        help="run ready nodes concurrently, each in its own process (slower to start; UI launches always do)",
    )
    run.set_defaults(func=_run)
