"""The `dataspace` command: run the main job, open the UI, check a deployment, and each pillar's commands."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dataspace_assets import __version__
from dataspace_assets.dataspace.cli import register as register_dataspace
from dataspace_assets.deltatwin.cli import register as register_deltatwin
from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest.cli import register as register_harvest
from dataspace_assets.harvest.publish.cli import register as register_catalog
from dataspace_assets.run_command import add_dev_arguments, dev_with_handlers
from dataspace_assets.run_command import register as register_run
from dataspace_assets.settings import PROJECT_ROOT, Settings, load_settings, redact


def _dev(args: argparse.Namespace) -> int:
    """Replace this process by `dagster dev` on the deployment's persistent instance."""
    from dataspace_assets.instance import prepare_dagster_home

    if getattr(args, "handlers", None) is not None:
        return dev_with_handlers(args)

    settings = load_settings()
    prepare_dagster_home(settings)
    dagster = shutil.which("dagster", path=os.path.dirname(sys.executable)) or shutil.which("dagster")
    if dagster is None:
        raise DataspaceError("the `dagster` command is not installed in this environment")
    argv = [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    print(f"starting the Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={settings.dagster_home})")
    sys.stdout.flush()
    # A shell without job control starts background jobs with SIGINT ignored, and `dagster dev`
    # copies that onto SIGTERM: it could then never be stopped by its PID. Exec with both default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.execv(dagster, argv)
    return 0  # not reached


def _check(label: str, action) -> tuple[bool, str]:
    try:
        detail = action()
    except Exception as exc:  # doctor reports every failure instead of stopping at the first
        return False, redact(f"FAIL  {label}: {' '.join(str(exc).split()) or type(exc).__name__}")
    return True, redact(f"ok    {label}: {detail}")


def doctor_lines(settings: Settings) -> tuple[bool, list[str]]:
    """Check the instance, storage and configs a deployment uses; each check gives one line."""
    import sqlalchemy as sa

    from dataspace_assets.instance import get_instance
    from dataspace_assets.storage.database import create_engine

    def configs() -> str:
        if not settings.configs_dir.is_dir():
            raise DataspaceError(f"{settings.configs_dir} is not a folder")
        from dataspace_assets.definitions import build_definitions

        problems = config_problems(settings.configs_dir)
        if problems:
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise DataspaceError(f"{len(problems)} problem(s): " + "; ".join(problems[:5]) + more)
        defs = build_definitions(settings)
        assets = defs.resolve_asset_graph().materializable_asset_keys
        return f"{settings.configs_dir} ({len(assets)} assets)"

    def instance() -> str:
        inst = get_instance(settings)
        inst.get_runs(limit=1)
        return f"{settings.dagster_home} ({type(inst.run_storage).__name__})"

    def database() -> str:
        engine = create_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        origin = " (from $DATASPACE_DATABASE_URL)" if os.environ.get("DATASPACE_DATABASE_URL") else ""
        return engine.url.render_as_string(hide_password=True) + origin

    def blobs() -> str:
        if settings.blob_backend == "azure":
            from azure.storage.blob import BlobServiceClient

            client = BlobServiceClient.from_connection_string(settings.azure_connection_string)
            container = client.get_container_client(settings.azure_container)
            exists = container.exists()
            state = "exists" if exists else "will be created"
            return f"azure container {settings.azure_container} ({state}, from $DATASPACE_AZURE_CONNECTION_STRING)"
        settings.blobs_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.blobs_dir):
            pass
        return f"{settings.blobs_dir} (writable)"

    results = [
        _check("configs", configs),
        _check("dagster instance", instance),
        _check("database", database),
        _check("blob store", blobs),
    ]
    return all(ok for ok, _ in results), [line for _, line in results]


def _doctor(args: argparse.Namespace) -> int:
    """Report the instance, storage and configs in use and whether they are reachable."""
    ok, lines = doctor_lines(load_settings())
    print(f"dataspace {__version__}")
    print("\n".join(lines))
    return 0 if ok else 1


def config_problems(configs_dir: Path) -> list[str]:
    """Problems of the harvest sources and DeltaTwin folders under configs/ (the data space TOML is its pillar's)."""
    from dataspace_assets.deltatwin.validate import twin_folder_problems
    from dataspace_assets.harvest.sources_config import check_declared_sources

    return check_declared_sources(configs_dir) + twin_folder_problems(configs_dir / "deltatwins")


def _validate_configs(args: argparse.Namespace, pillar_validate) -> int:  # noqa: ANN001
    """`dataspace config validate`: the data space TOML, then the harvest sources and DeltaTwin folders."""
    code = pillar_validate(args)
    configs = Path(args.configs) if getattr(args, "configs", None) else load_settings().configs_dir
    if not ((configs / "harvest").is_dir() or (configs / "deltatwins").is_dir()):
        return code  # `--configs` named the data space TOML folder itself
    problems = config_problems(configs)
    for problem in problems:
        print(problem)
    print(
        f"{len(problems)} problem(s) in the harvest sources and DeltaTwin folders of {configs}"
        if problems
        else f"{configs}: harvest sources and DeltaTwin folders valid"
    )
    return 1 if problems else code


def _extend_config_validate(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Make `config validate` check every pillar's configs (only this module knows them all)."""
    config = commands.choices.get("config")
    for action in getattr(config, "_actions", []):
        validate = (getattr(action, "choices", None) or {}).get("validate")
        if isinstance(validate, argparse.ArgumentParser):
            pillar_validate = validate.get_default("func")
            validate.set_defaults(func=lambda args, inner=pillar_validate: _validate_configs(args, inner))


def build_parser() -> argparse.ArgumentParser:
    """The whole `dataspace` command tree."""
    parser = argparse.ArgumentParser(
        prog="dataspace",
        description="Run and inspect a digital-twin data space built on Dagster.",
    )
    parser.add_argument("--version", action="version", version=f"dataspace {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", help="materialize every asset once (the main job), or run a selection (--collectors ..., see --help)"
    )
    register_run(commands, run)  # the original's flags, and `dataspace serve`

    dev = commands.add_parser("dev", help="start the Dagster UI and daemon on the persistent instance")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    add_dev_arguments(dev)
    dev.set_defaults(func=_dev)

    doctor = commands.add_parser("doctor", help="check the instance, storage and configs in use")
    doctor.set_defaults(func=_doctor)

    register_dataspace(commands)
    register_deltatwin(commands)
    register_harvest(commands)
    _extend_config_validate(commands)
    register_catalog(commands)
    return parser


def environment_error(exc: BaseException) -> str | None:
    """A failure of the deployment's database or folders as one line naming the setting, else None."""
    import sqlalchemy.exc as sa_exc

    settings = load_settings()
    if isinstance(exc, sa_exc.DBAPIError):
        reason = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
        return redact(f"database {settings.database_url} (DATASPACE_DATABASE_URL): {reason}")
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return redact(f"database {settings.database_url} (DATASPACE_DATABASE_URL): {' '.join(str(exc).split())}")
    if isinstance(exc, OSError) and exc.filename:
        where = str(exc.filename)
        where = where if len(where) <= 120 else f"{where[:60]}...{where[-60:]}"
        return f"{where}: {exc.strerror or exc} (check DATASPACE_HOME, DAGSTER_HOME and the paths given)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dataspace` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DataspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`dataspace ... | head`): stop quietly, as Unix tools do. Point stdout
        # at /dev/null so the interpreter's own flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # the database or a folder of the deployment failed: one line, else the traceback
        message = environment_error(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
