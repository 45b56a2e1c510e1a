"""What `component publish VERSION` checks before building anything: PEP 440, both files, a 1.4 manifest."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from dataspace_assets.deltatwin.problems import Problem, Problems, quote

PUBLISH_SCHEMA = "1.4"  # publish validates every manifest against the 1.4 schema, whatever its deltaVersion says
VERSION_FILE = "VERSION"  # the "file" publish-version problems are reported under: the command's argument
# Model images are tagged `<registry>/<name>/<model>:<VERSION>` (spec §6 step 5): Docker's tag grammar.
_DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def check_publish_version(version: str) -> tuple[Problem, ...]:
    """Problems of a version to publish: not PEP 440, or (since images are tagged with it) not a Docker tag."""
    out = Problems(VERSION_FILE)
    try:
        parsed = Version(version)
    except InvalidVersion:
        out.error((), "publish-version", f"{quote(version)} is not a PEP 440 version (for example 1.0.0 or 1.2rc1)")
        return tuple(out)
    if not _DOCKER_TAG.fullmatch(version):
        # packaging accepts local versions (1.0+abc) and spaces, but building the model images would fail
        out.error(
            (),
            "publish-version",
            f"{quote(version)} cannot tag the model images (Docker tags allow letters, digits, _ . - only)",
        )
    elif str(parsed) != version:
        out.info((), "publish-version", f"{quote(version)} is read by PEP 440 as {quote(str(parsed))}")
    return tuple(out)
