"""`dataspace` sub-commands of the harvest pillar."""

import argparse


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add this pillar's sub-commands to the `dataspace` parser."""
