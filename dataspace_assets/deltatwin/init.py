"""`twin init`: scaffold a new DeltaTwin folder that validates as it is."""

from __future__ import annotations

import json
from pathlib import Path

from dataspace_assets.deltatwin.manifest import MANIFEST_FILE
from dataspace_assets.deltatwin.workflow import WORKFLOW_FILE
from dataspace_assets.errors import DataspaceError

DEFAULT_OWNER = "John Doe"  # what delta-core writes when no user is logged in
DEFAULT_LICENSE = {"name": "LGPLv3", "url": "https://www.gnu.org/licenses/gpl-3.0.txt", "copyrights": []}

# Our own commented template. Unlike delta-core's, its lists are empty rather than placeholders,
# so a fresh folder validates; the comments show the shape to fill in.
WORKFLOW_TEMPLATE = """\
# workflow.yml: how this DeltaTwin's steps are wired together (see docs/deltatwin.md).
#
# Each node runs one element of manifest.json, named by `ref: <section>.<key>`, where the
# section is inputs, resources, models, outputs or dependencies. A node id is any string or
# integer, unique in this file (1 and "1" are different ids). Several nodes may use the same
# model or dependency: each node is a separate run of it.
#
# nodes:
#   - id: bbox
#     ref: inputs.bbox
#   - id: detector
#     ref: models.detector
#   - id: masks
#     ref: outputs.masks
nodes: []

# Each edge carries one value from a port of the `from` node to a port of the `to` node.
# `port` defaults to "data". On the `from` side it names an output of a model or dependency;
# on the `to` side an input of a model or dependency. Input, resource and output nodes hold a
# single value, so leave their port out.
#
# edges:
#   - from: {id: bbox}
#     to: {id: detector, port: bbox}
#   - from: {id: detector, port: masks_zip}
#     to: {id: masks}
edges: []
"""


def init_twin(folder: Path | str, *, owner: str | None = None) -> Path:
    """Create a twin folder: `models/`, a minimal manifest.json named after the folder, a commented workflow.yml."""
    folder = Path(folder)
    try:
        exists = folder.exists()
    except (OSError, ValueError) as exc:  # a path beyond the file-name limit, a NUL byte ...
        from dataspace_assets.deltatwin.validate import short_path

        raise DataspaceError(f"{short_path(folder)}: {getattr(exc, 'strerror', None) or exc}") from None
    if exists:
        raise DataspaceError(f"{folder} already exists: twin init only creates a new folder")
    try:
        name = folder.resolve().name
        manifest = {"name": name, "description": "", "license": DEFAULT_LICENSE, "owner": owner or DEFAULT_OWNER}
        (folder / "models").mkdir(parents=True)
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
        (folder / WORKFLOW_FILE).write_text(WORKFLOW_TEMPLATE, encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise DataspaceError(f"cannot create {folder!r}: {getattr(exc, 'strerror', None) or exc}") from None
    return folder
