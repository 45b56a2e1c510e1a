"""Per-model Python environments, built with uv from the model's declared Python and requirements, cached by content.

Nothing is downloaded at run time but packages from the package index: the interpreter is one already
installed on the machine (the requested x.y, else the nearest one, with a warning).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dataspace_assets.deltatwin.manifest import Model
from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import PROJECT_ROOT
from dataspace_assets.storage.locks import file_lock

READY_MARK = ".dataspace-ready"
BUILD_TIMEOUT = 900


class EnvironmentBuildError(DataspaceError):
    """A model's environment could not be built (the model node fails with return code 221)."""


@dataclass(frozen=True)
class Interpreter:
    """An installed Python: its x.y version and executable."""

    version: tuple[int, int]
    path: str

    @property
    def text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@dataclass(frozen=True)
class Environment:
    """A ready virtual environment for one model, and what was noticed while choosing it."""

    path: Path
    interpreter: Interpreter
    warnings: tuple[str, ...] = ()

    @property
    def bin(self) -> Path:
        return self.path / "bin"


def uv_binary() -> str:
    """The uv executable: `$DATASPACE_UV`, then `uv` on PATH, then the project's `.uvenv/bin/uv`."""
    for candidate in (os.environ.get("DATASPACE_UV"), shutil.which("uv"), str(PROJECT_ROOT / ".uvenv" / "bin" / "uv")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise EnvironmentBuildError("uv is not installed: set DATASPACE_UV or run scripts/setup.sh (it installs .uvenv/bin/uv)")


@functools.lru_cache(maxsize=1)
def installed_interpreters() -> tuple[Interpreter, ...]:
    """Every Python 3 interpreter that really runs on this machine (shims that fail are skipped)."""
    found: dict[tuple[int, int], Interpreter] = {}
    names = [f"python3.{minor}" for minor in range(6, 21)] + ["python3"]
    probe = "import sys; print(sys.version_info[0], sys.version_info[1])"
    for name in [sys.executable, *names]:
        exe = name if os.path.isabs(name) else shutil.which(name)
        if not exe:
            continue
        try:
            done = subprocess.run([exe, "-c", probe], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode != 0:
            continue
        major, minor = (int(part) for part in done.stdout.split())
        found.setdefault((major, minor), Interpreter((major, minor), exe))
    return tuple(sorted(found.values(), key=lambda i: i.version))


def choose_interpreter(requested: str | None) -> tuple[Interpreter, list[str]]:
    """The installed interpreter for `pythonVersion` (x.y): that one, else the nearest (newer on a tie), with a warning."""
    available = installed_interpreters()
    if not available:
        raise EnvironmentBuildError("no Python 3 interpreter found on this machine")
    if requested is None:
        current = next((i for i in available if i.version == sys.version_info[:2]), available[-1])
        return current, [f"no pythonVersion declared: using Python {current.text}"]
    major, minor = (int(part) for part in requested.split(".")[:2])
    for interpreter in available:
        if interpreter.version == (major, minor):
            return interpreter, []
    nearest = min(available, key=lambda i: (abs(i.version[0] * 100 + i.version[1] - major * 100 - minor), -i.version[1]))
    installed = ", ".join(i.text for i in available)
    return nearest, [
        f"Python {requested} is not installed (installed: {installed}): using the nearest, Python {nearest.text}"
    ]


def environment_key(model: Model, model_folder: Path, interpreter: Interpreter) -> str:
    """The content the environment is built from: interpreter, pip requirements and requirement files' bytes."""
    files = []
    for name in model.pip_requirement_files:
        path = model_folder / name
        files.append([name, hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None])
    content = {
        "python": interpreter.text,
        "pip": [[r.name, r.version] for r in model.pip_requirements],
        "files": files,
        "args": model.parameters.get("pipInstallArgs"),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:24]


def apt_warnings(model: Model) -> list[str]:
    """aptRequirements cannot be installed by a local run: say which ones are missing from the environment."""
    if not model.apt_requirements:
        return []
    names = ", ".join(r.name + (f"={r.version}" if r.version else "") for r in model.apt_requirements)
    return [
        f"aptRequirements ({names}) cannot be installed by a local run: "
        "the model runs with the system packages already on this machine"
    ]


def prepare_environment(model: Model, model_folder: Path, cache: Path, *, offline: bool = False) -> Environment:
    """The model's virtual environment, built once per content under `cache` and reused after that."""
    interpreter, warnings = choose_interpreter(model.python_version)
    warnings += apt_warnings(model)
    for name in model.pip_requirement_files:
        if not (model_folder / name).is_file():
            raise EnvironmentBuildError(f"pipRequirementFiles: {name} is not a file of {model_folder}")
    key = environment_key(model, model_folder, interpreter)
    target = cache / key
    if (target / READY_MARK).is_file():
        return Environment(target, interpreter, tuple(warnings))
    cache.mkdir(parents=True, exist_ok=True)
    # Built in place (installed scripts hold absolute paths), under a lock so concurrent runs build it once.
    with file_lock(cache / f"{key}.lock"):
        if not (target / READY_MARK).is_file():
            shutil.rmtree(target, ignore_errors=True)  # a build interrupted earlier
            _build(model, model_folder, interpreter, target, offline=offline)
            (target / READY_MARK).write_text(json.dumps({"python": interpreter.text}), encoding="utf-8")
    return Environment(target, interpreter, tuple(warnings))


def _build(model: Model, model_folder: Path, interpreter: Interpreter, target: Path, *, offline: bool) -> None:
    uv = uv_binary()
    _uv([uv, "venv", "--quiet", "--no-config", "--no-python-downloads", "--python", interpreter.path, str(target)])
    packages = [f"{r.name}=={r.version}" if r.version else r.name for r in model.pip_requirements]
    files = [str(model_folder / name) for name in model.pip_requirement_files]
    if not packages and not files:
        return
    command = [uv, "pip", "install", "--quiet", "--no-config", "--python", str(target / "bin" / "python")]
    if offline:
        command.append("--offline")
    for name in files:
        command += ["-r", name]
    _uv(command + packages)


def _uv(command: list[str]) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentBuildError(f"building the model environment failed: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise EnvironmentBuildError(f"building the model environment failed ({' '.join(command[1:3])}): {tail}")
