"""Take a headless Chromium screenshot of the Dagster UI's asset graph for the example configs.

Usage: .venv/bin/python scripts/screenshot.py [OUT.png] [--path /asset-groups]
Starts dagster-webserver on a free loopback port with a throw-away instance, screenshots, stops it.
Installs Debian's chromium first if it is missing (scripts/setup.sh --test does the same).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataspace_assets.instance import INSTANCE_TEMPLATE  # noqa: E402
from dataspace_tests.services import PROJECT_ROOT, DagsterWebserver  # noqa: E402


def chromium_binary() -> str:
    """Debian's chromium, installed on demand."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True)
    return shutil.which("chromium") or "chromium"


def screenshot(url: str, out: Path, *, width: int = 1400, height: int = 900) -> None:
    """Render `url` headless and write a PNG; flags keep Chromium off the (closed) network."""
    with tempfile.TemporaryDirectory(prefix="dataspace-chromium-") as profile:
        subprocess.run(
            [
                chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},{height}",
                "--virtual-time-budget=20000", f"--screenshot={out}", url,
            ],
            check=True, capture_output=True, timeout=180,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(PROJECT_ROOT / "docs" / "asset-graph.png"))
    parser.add_argument("--path", default="/asset-groups", help="UI page to capture")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dataspace-ui-") as home:
        (Path(home) / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())
        server = DagsterWebserver(Path(home)).start()
        try:
            screenshot(server.url + args.path, Path(args.out))
        finally:
            server.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
