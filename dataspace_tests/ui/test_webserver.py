"""The code location loads in a real webserver, and the UI renders in headless Chromium."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataspace_assets.instance import INSTANCE_TEMPLATE
from dataspace_tests.services import PROJECT_ROOT, DagsterWebserver, free_port, wait_for_port

pytestmark = [pytest.mark.ui, pytest.mark.services]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterWebserver]:
    home = tmp_path_factory.mktemp("ui-home")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())
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


def test_dataspace_dev_serves_the_instance_and_stops_on_term_by_pid(tmp_path: Path) -> None:
    """`dataspace dev` started as a background job with SIGINT ignored (a shell without job control)."""
    port = free_port()
    env = {**os.environ, "DATASPACE_HOME": str(tmp_path / "home"), "DATASPACE_CONFIGS": str(PROJECT_ROOT / "configs")}
    env.pop("DAGSTER_HOME", None)
    process = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "dataspace"), "dev", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        start_new_session=True,  # its own group, so a failed test can clean up the whole tree
    )
    try:
        wait_for_port(port, timeout=120, process=process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=30) as answer:
            assert b'"dagster_version":"1.13.27"' in answer.read()
        assert (tmp_path / "home" / "dagster" / "dagster.yaml").is_file()  # the persistent instance, seeded
        process.send_signal(signal.SIGTERM)  # by PID only: this process, not its group
        assert process.wait(timeout=60) is not None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
