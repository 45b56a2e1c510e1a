"""The code location loads in a real webserver, and the UI renders in headless Chromium."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataspace_tests.services import PROJECT_ROOT, DagsterWebserver

pytestmark = [pytest.mark.ui, pytest.mark.services]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterWebserver]:
    home = tmp_path_factory.mktemp("ui-home")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    server = DagsterWebserver(home / "dagster", env={"DATASPACE_HOME": str(home)}).start()
    yield server
    server.stop()


def test_location_dataspace_loads_with_the_example_assets(webserver: DagsterWebserver) -> None:
    from dataspace_assets.definitions import defs

    data = webserver.graphql(
        "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
        "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
    )
    entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
    assert entries["dataspace"]["loadStatus"] == "LOADED"
    assert entries["dataspace"]["locationOrLoadError"]["__typename"] == "RepositoryLocation"

    nodes = webserver.graphql("{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    served = {"/".join(n["assetKey"]["path"]) for n in nodes}
    expected = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert expected, "the example configs must define assets"
    assert served == expected


def test_automation_sensor_is_running(webserver: DagsterWebserver) -> None:
    data = webserver.graphql(
        '{ sensorsOrError(repositorySelector: {repositoryLocationName: "dataspace", '
        'repositoryName: "__repository__"}) { ... on Sensors { results { name sensorState { status } } } } }'
    )
    states = {s["name"]: s["sensorState"]["status"] for s in data["sensorsOrError"]["results"]}
    assert states["dataspace_automation"] == "RUNNING"


def _png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and a rough count of distinct row checksums of a PNG (no imaging library needed)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        length = struct.unpack(">I", data[offset : offset + 4])[0]
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = len(raw) // height
    rows = {raw[i * stride + 1 : (i + 1) * stride] for i in range(0, height, 7)}
    return width, height, len(rows)


def test_asset_graph_renders_in_headless_chromium(webserver: DagsterWebserver, tmp_path: Path) -> None:
    from scripts.screenshot import screenshot

    out = tmp_path / "graph.png"
    screenshot(webserver.url + "/asset-groups", out)
    width, height, distinct_rows = _png_size_and_colours(out)
    assert (width, height) == (1400, 900)
    # A blank or error page has a handful of distinct rows; the graph with nav and nodes has many.
    assert distinct_rows > 20
