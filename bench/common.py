"""What every benchmark shares: where its results go and the machine they were measured on.

The scripts run as `.venv/bin/python bench/<name>.py`, so this module is imported as `common` (bench/ is
the script's own folder, first on sys.path).
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    """The CPU count and Python version a result was measured with."""
    return {"cpus": os.cpu_count(), "python": platform.python_version()}


def write_results(name: str, result: dict) -> Path:
    """Write `bench/results/<name>.json` (indented), with the machine's keys when the result has none; its path."""
    out = RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**result, **{k: v for k, v in machine().items() if k not in result}}, indent=2) + "\n")
    return out
