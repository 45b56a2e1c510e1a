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
    folder = dataspace_folder(configs) if dataspace_folder(configs).is_dir() else configs
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
