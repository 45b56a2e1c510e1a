"""A 10-node chain of no-op models through our twin executor, against the same commands in a shell loop.

Ours: `run_twin` (validation, the run plan, one Dagster run on a persistent instance, one op per node,
each model `python -c pass` in a fresh copy of its folder with its cached environment, stdout captured
as the Data that feeds the next model, every output checksummed). Floor: the same ten `python -c pass`
commands (the same interpreter) run one after another by `bash -c 'for ...; do ...; done'`.
Goal: ours <= 2 x floor + 3 s. Usage: .venv/bin/python bench/deltatwin.py [--nodes 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import write_results  # noqa: E402


def chain_twin(root: Path, nodes: int) -> Path:
    """A twin whose models each run `python -c pass`; each feeds the next through its (empty) stdout."""
    folder = root / "chain"
    (folder / "models" / "noop").mkdir(parents=True)
    (folder / "models" / "noop" / "README").write_text("no code: the command is python -c pass\n")
    manifest = {
        "name": "chain",
        "description": "a chain of no-op models",
        "owner": "bench",
        "outputs": {"last": {"type": "Data"}},
        "models": {
            "noop": {
                "path": "models/noop",
                "type": "python",
                "parameters": {"pythonVersion": f"{sys.version_info[0]}.{sys.version_info[1]}", "command": "python -c pass"},
                "inputs": {"previous": {"type": "Data"}},
                "outputs": {"out": {"type": "stdout"}},
            }
        },
    }
    lines = ["nodes:"] + [f"  - {{id: m{i}, ref: models.noop}}" for i in range(nodes)] + ["  - {id: last, ref: outputs.last}"]
    lines += ["edges:"] + [
        f"  - {{from: {{id: m{i}, port: out}}, to: {{id: m{i + 1}, port: previous}}}}" for i in range(nodes - 1)
    ]
    lines.append(f"  - {{from: {{id: m{nodes - 1}, port: out}}, to: {{id: last}}}}")
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "workflow.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def floor(python: str, nodes: int) -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "-c", f'for i in $(seq {nodes}); do "{python}" -c pass; done'], check=True)
    return time.perf_counter() - started


def ours(folder: Path, settings, instance) -> float:
    from dataspace_assets.deltatwin.execute import run_twin

    started = time.perf_counter()
    result = run_twin(folder, None, settings, instance=instance, progress=False)
    elapsed = time.perf_counter() - started
    assert result.status == "success", result.message
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deltatwin-") as tmp:
        root = Path(tmp)
        os.environ["DATASPACE_HOME"] = str(root / "home")
        os.environ["DAGSTER_HOME"] = str(root / "home" / "dagster")
        from dataspace_assets.deltatwin.environments import prepare_environment
        from dataspace_assets.deltatwin.plan import build_plan
        from dataspace_assets.instance import get_instance
        from dataspace_assets.settings import load_settings

        settings = load_settings()
        instance = get_instance(settings)
        folder = chain_twin(root, args.nodes)
        model = build_plan(folder).twin.manifest.models["noop"]
        env = prepare_environment(model, folder / model.path, settings.home / "deltatwin" / "environments")
        python = str(env.bin / "python")
        floor(python, args.nodes)  # warm-up: interpreter files in the page cache, Dagster imported once
        ours(folder, settings, instance)
        floors, ourss = [], []
        for _ in range(args.rounds):  # interleaved, so machine load hits both sides alike
            floors.append(floor(python, args.nodes))
            ourss.append(ours(folder, settings, instance))
    f, o = statistics.median(floors), statistics.median(ourss)
    report = {
        "nodes": args.nodes,
        "rounds": args.rounds,
        "floor_s": {"median": round(f, 3), "min": round(min(floors), 3), "max": round(max(floors), 3)},
        "ours_s": {"median": round(o, 3), "min": round(min(ourss), 3), "max": round(max(ourss), 3)},
        "ratio": round(o / f, 2),
        "budget_s": round(2 * f + 3, 3),
        "goal_met": o <= 2 * f + 3,
    }
    write_results("deltatwin", report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
