"""The local Python runner: one model node run as a subprocess, in a fresh copy of its folder, without Docker."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dataspace_assets.deltatwin.environments import Environment, prepare_environment
from dataspace_assets.deltatwin.manifest import Model
from dataspace_assets.deltatwin.render import SHELL_MODE, Rendered, glob_pattern, render_argv, render_bash
from dataspace_assets.deltatwin.values import DataFile, Masker, TwinValue
from dataspace_assets.errors import DataspaceError

SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
LOG_FILE = "model.log"
WORK_DIR = "work"
TAIL_LINES = 20


class NodeFailed(DataspaceError):
    """A node of a twin run failed; `return_code` is delta-core's (211 fetch, 221 model, 230 dependency)."""

    def __init__(self, message: str, return_code: int, **details: object) -> None:
        super().__init__(message)
        self.return_code = return_code
        self.details = details


@dataclass(frozen=True)
class ModelRun:
    """What one model node did: its masked command, where it ran, how it ended, and the files it produced."""

    command: str
    cwd: Path
    exit_code: int
    log_path: Path
    log_tail: str
    outputs: Mapping[str, DataFile]
    warnings: tuple[str, ...]


def model_env(model: Model, environment: Environment, cwd: Path) -> dict[str, str]:
    """The model's whole environment: its own virtual environment on PATH plus what the twin declares, nothing else.

    The code location's variables (database URLs, Azure keys, DAGSTER_HOME) are never inherited.
    """
    return {
        "PATH": f"{environment.bin}{os.pathsep}{SYSTEM_PATH}",
        "VIRTUAL_ENV": str(environment.path),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        **model.environment,
    }


def render(model: Model, values: Mapping[str, TwinValue], *, mode: str, where: str) -> Rendered:
    """The model's command for the twin's run mode: an argument vector (default) or delta-core's `bash -c` string."""
    if mode == SHELL_MODE:
        return render_bash(model.command, model.inputs, values)
    return render_argv(model.command, model.inputs, values, where=where)


def run_model(
    model: Model,
    model_folder: Path,
    node_dir: Path,
    values: Mapping[str, TwinValue],
    *,
    mode: str,
    env_cache: Path,
    masker: Masker,
    label: str,
    offline: bool = False,
) -> ModelRun:
    """Run one model node: build (or reuse) its environment, copy its folder, run the command, collect its outputs."""
    try:
        environment = prepare_environment(model, model_folder, env_cache, offline=offline)
    except DataspaceError as exc:
        raise NodeFailed(f"Model {label}: {exc}", 221) from exc
    rendered = render(model, values, mode=mode, where=f"model {label}")
    masker.add(rendered.secrets)
    node_dir.mkdir(parents=True, exist_ok=True)
    cwd = node_dir / WORK_DIR
    shutil.rmtree(cwd, ignore_errors=True)
    shutil.copytree(model_folder, cwd, symlinks=True)  # a fresh copy per node execution: runs never share files
    log_path = node_dir / LOG_FILE
    stdout_keys = [key for key, out in model.outputs.items() if out.type == "stdout"]
    stdout_path = node_dir / f"{stdout_keys[0]}.stdout" if stdout_keys else None
    exit_code = _execute(rendered, cwd, model_env(model, environment, cwd), log_path, stdout_path)
    tail = masker(_tail(log_path))
    if exit_code != 0:
        raise NodeFailed(
            f"Something went wrong during the execution of model {label}: it exited with code {exit_code} "
            f"(cmd: {rendered.text})" + (f"\n{tail}" if tail else ""),
            221,
            command=rendered.text,
            exit_code=exit_code,
            log_tail=tail,
        )
    outputs = _collect(model, values, cwd, node_dir, stdout_path, label)
    extra = {"node": label, "command": rendered.text, "log_tail": tail}
    return ModelRun(
        command=rendered.text,
        cwd=cwd,
        exit_code=exit_code,
        log_path=log_path,
        log_tail=tail,
        outputs={key: DataFile.of(path, **extra) for key, path in outputs.items()},
        warnings=environment.warnings,
    )


def _execute(rendered: Rendered, cwd: Path, env: dict[str, str], log_path: Path, stdout_path: Path | None) -> int:
    """Run the argument vector (no shell unless the twin chose bash) and wait; an interruption stops the model."""
    with log_path.open("wb") as log, (stdout_path.open("wb") if stdout_path else open(os.devnull, "wb")) as out:
        try:
            process = subprocess.Popen(
                list(rendered.argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out if stdout_path else log,
                stderr=log,
                start_new_session=True,  # its own process group: stopping a run stops the model's children too
            )
        except OSError as exc:
            log.write(f"cannot start {rendered.masked_argv[0]!r}: {exc.strerror or exc}\n".encode())
            return 127
        try:
            return process.wait()
        finally:
            if process.poll() is None:
                _stop(process)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def _tail(path: Path) -> str:
    try:
        lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-TAIL_LINES:])


def _collect(
    model: Model,
    values: Mapping[str, TwinValue],
    cwd: Path,
    node_dir: Path,
    stdout_path: Path | None,
    label: str,
) -> dict[str, Path]:
    """Each Data output found by its glob (exactly one match, else 221 naming what was found); stdout as its file."""
    found: dict[str, Path] = {}
    for key, output in model.outputs.items():
        if output.type == "stdout":
            if stdout_path is not None:
                target = node_dir / f"{key}.stdout"
                if target != stdout_path:
                    shutil.copyfile(stdout_path, target)
                found[key] = target
            continue
        if output.type != "Data" or output.glob is None:
            continue
        where = f"model {label}, output {key}"
        pattern = glob_pattern(output.glob, model.inputs, values, where=where)
        matches = sorted(
            p for p in glob.glob(pattern, root_dir=None if os.path.isabs(pattern) else cwd) if _is_file(p, cwd)
        )
        if len(matches) != 1:
            listed = ", ".join(matches[:10]) if matches else "no file"
            raise NodeFailed(
                f"Model {label}: output {key}: glob {pattern!r} must match exactly one file, found {listed}", 221
            )
        source = Path(matches[0]) if os.path.isabs(matches[0]) else cwd / matches[0]
        target = node_dir / source.name
        if target.name in (LOG_FILE, WORK_DIR) or target.exists():
            target = node_dir / "outputs" / key / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        found[key] = target
    return found


def _is_file(match: str, cwd: Path) -> bool:
    return (Path(match) if os.path.isabs(match) else cwd / match).is_file()
