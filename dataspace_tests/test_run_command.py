"""`dataspace run` with the original's flags, `dt-dataspace`, and the continuous mode on a real daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from dataspace_assets.cli import main
from dataspace_assets.errors import DataspaceError
from dataspace_assets.run_command import Selection, _component_of, dt_main, init_order, select_automation
from dataspace_assets.storage.store import DataStore
from dataspace_tests.dataspace.conftest import Configs
from dataspace_tests.services import PROJECT_ROOT

TOML = """
[collectors.a]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
SCHEDULE = "10m"
value = {"from" = "a"}

[collectors.b]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
SCHEDULE = "2s"
value = {"from" = "b"}

[collectors.boom]
PATH = "tests.Boom"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[handlers.h]
PATH = "hmod.Latest"
DATA_TYPE = "json"
DATA_FORMAT = "x"
ON_NEW = ["a"]
"""

HMOD = '''
from dataspace_assets.dataspace.components import Handler


class Latest(Handler):
    def run(self, name: str = "r_b"):
        return self.reader.latest(name)

    def on_new(self, item):
        pass
'''


@pytest.fixture
def deployment(tmp_settings):
    configs = Configs(tmp_settings.configs_dir)
    configs.module("hmod", HMOD)
    configs.toml("r.toml", TOML)
    return tmp_settings


def _count(settings, name: str) -> int:
    store = DataStore.from_settings(settings)
    try:
        return store.count(name)
    finally:
        store.close()


def test_now_with_handlers_is_refused_before_anything_starts(deployment, capsys) -> None:
    assert main(["run", "--collectors", "r_a", "--handlers", "all", "--now"]) == 1
    assert "Cannot run handlers with --now flag." in capsys.readouterr().err
    assert not deployment.dagster_home.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--collectors", "r_a", "r_nope"], "unknown collector(s): r_nope (collectors: r_a, r_b, r_boom)"),
        (["--handlers", "nope"], "unknown handler(s): nope (handlers: r_h)"),
        (["--harvesters", "h"], "unknown harvester(s): h (harvesters: none)"),
        (["--parquetize", "r_a"], "--parquetize: no PARQUETIZE component named r_a (known: none)"),
    ],
)
def test_unknown_names_are_errors(deployment, capsys, argv, message) -> None:
    assert main(["run", *argv, "--now"] if "--handlers" not in argv else ["run", *argv]) == 1
    assert message in capsys.readouterr().err


def test_now_runs_only_the_selection_once(deployment, capsys) -> None:
    assert main(["run", "--collectors", "r_a", "--now"]) == 0
    assert (_count(deployment, "r_a"), _count(deployment, "r_b")) == (1, 0)
    assert "dataspace/r_a" in capsys.readouterr().out
    assert main(["run", "--collectors", "all", "--now", "--log-level", "error"]) == 1  # r_boom fails: non-zero
    assert (_count(deployment, "r_a"), _count(deployment, "r_b")) == (2, 1)
    assert "FAILED" in capsys.readouterr().out


def test_init_dependencies_runs_collectors_without_data(deployment, capsys) -> None:
    assert main(["run", "--collectors", "r_a", "--now"]) == 0
    capsys.readouterr()
    assert main(["run", "--collectors", "r_a", "r_b", "--init-dependencies"]) == 0
    out = capsys.readouterr().out
    assert "collectors without data: r_b (already have data: r_a)" in out
    assert (_count(deployment, "r_a"), _count(deployment, "r_b")) == (1, 1)


def test_dt_dataspace_takes_the_original_command_lines(tmp_path, tmp_settings, monkeypatch, capsys) -> None:
    # The original layout: a folder of TOML files, the `components` package beside it.
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    (project / "components").mkdir()
    (project / "components" / "__init__.py").touch()
    (project / "components" / "feeds.py").write_text(textwrap.dedent('''
        from dataspace_assets.dataspace.components import Collector

        class Feed(Collector):
            def run(self):
                return {"ok": True}
    '''))
    (project / "config" / "stib.toml").write_text(textwrap.dedent('''
        [collectors.gtfs]
        PATH = "feeds.Feed"
        DATA_TYPE = "json"
        DATA_FORMAT = "gtfs"
        SCHEDULE = "1h"
    '''))
    monkeypatch.chdir(project)
    assert dt_main(["--config-folder", "config"]) == 0
    assert capsys.readouterr().out.strip() == "No handlers, collectors, or harvesters were specified to run."
    assert dt_main(["--config-folder", "config", "--collectors", "all", "--now", "--log-level", "INFO"]) == 0
    assert _count(tmp_settings, "stib_gtfs") == 1
    assert dt_main(["--config-folder", "config", "--handlers", "all", "--now"]) == 1
    assert "Cannot run handlers with --now flag." in capsys.readouterr().err
    assert dt_main(["--config-folder", "config", "--collectors", "gtfs"]) == 1  # full names only
    assert "unknown collector(s): gtfs" in capsys.readouterr().err


def _fake_config(edges: dict[str, tuple[str, list[str], list[str]]]):
    harvesters = [
        SimpleNamespace(full_name=name, source=source, dependencies=deps, optional_dependencies=optional)
        for name, (source, deps, optional) in edges.items()
    ]
    return SimpleNamespace(harvesters=harvesters)


def test_init_order_is_stable_and_topological() -> None:
    # The original's unit test: h1 <- [h2, h3], h2 <- [h3], h4 <- [h2]  =>  [h3, h2, h1, h4].
    config = _fake_config({
        "h1": ("c", ["h2", "h3"], []),
        "h2": ("c", ["h3"], []),
        "h3": ("c", [], []),
        "h4": ("c", ["h2"], []),
    })
    assert init_order(config, ["h1", "h2", "h3", "h4"]) == ["h3", "h2", "h1", "h4"]
    # SOURCE and optional dependencies order too; self-edges are ignored; outside the selection is ready.
    config = _fake_config({
        "x": ("y", [], ["x"]),
        "y": ("c", [], ["z"]),
        "z": ("c", ["z"], []),
    })
    assert init_order(config, ["x", "y", "z"]) == ["z", "y", "x"]
    assert init_order(config, ["x", "y"]) == ["y", "x"]


def test_init_order_names_a_cycle() -> None:
    config = _fake_config({"a": ("b", [], []), "b": ("c", ["a"], []), "c": ("s", [], [])})
    with pytest.raises(DataspaceError, match=r"dependency cycle a -> b -> a"):
        init_order(config, ["a", "b", "c"])


def test_only_the_selected_schedules_and_sensors_are_kept(deployment) -> None:
    from dataspace_assets.definitions import build_definitions

    defs = build_definitions(deployment)
    components = ["r_a", "r_b", "r_boom", "r_h"]
    kept = select_automation(defs, Selection(collectors=["r_a"], handlers=["r_h"]), components)
    assert sorted(s.name for s in kept.schedules) == ["dataspace_r_a_schedule"]
    assert sorted(s.name for s in kept.sensors) == ["dataspace_r_h_on_new_sensor"]
    assert kept.resolve_asset_graph().materializable_asset_keys == defs.resolve_asset_graph().materializable_asset_keys
    only_b = select_automation(defs, Selection(collectors=["r_b"]), components)
    assert [s.name for s in only_b.sensors] == ["dataspace_r_b_sensor"] and not list(only_b.schedules)
    assert _component_of("dataspace_x_a_b_schedule", ["x_a", "x_a_b"]) == "x_a_b"


def test_continuous_mode_runs_only_the_selection_and_stops_on_sigterm(deployment, tmp_path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "dataspace_assets.cli", "run", "--collectors", "r_b", "--handlers", "r_h",
         "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while _count(deployment, "r_b") < 1:
            assert process.poll() is None, Path(log.name).read_text()[-3000:]
            assert time.monotonic() < deadline, Path(log.name).read_text()[-3000:]
            time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/r_h?name=r_b", timeout=30) as answer:
            assert answer.status == 200 and b'"from": "b"' in answer.read()
        assert _count(deployment, "r_a") == 0  # not selected: its schedule is not loaded
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = Path(log.name).read_text()
    daemon_pid = int(output.split("dagster daemon pid ")[1].split()[0])
    assert not Path(f"/proc/{daemon_pid}").exists() or "zombie" in Path(f"/proc/{daemon_pid}/status").read_text()
    assert "stopped" in output


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_dt_dataspace_script_is_installed() -> None:
    script = Path(sys.executable).parent / "dt-dataspace"
    answer = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0
    for flag in ("--collectors", "--harvesters", "--handlers", "--now", "--init-dependencies", "--host", "--port",
                 "--allowed-hosts", "--log-level", "--parquetize", "--config-folder"):
        assert flag in answer.stdout


def test_dataspace_serve_answers_and_stops_cleanly_on_sigterm(deployment, tmp_path) -> None:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "dataspace_assets.cli", "serve", "--handlers", "r_h", "--port", str(port)],
        cwd=PROJECT_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, Path(log.name).read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=10) as answer:
                    assert "/r_h" in answer.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/r_h", timeout=10)
        assert missing.value.code == 404  # r_b holds nothing yet
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "serving handlers on http://127.0.0.1:" in Path(log.name).read_text()


@pytest.mark.ui
def test_dev_serves_handlers_beside_the_dagster_ui_and_stops_both(deployment, tmp_path) -> None:
    ui_port, handlers_port = _free_port(), _free_port()
    log = (tmp_path / "dev.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "dataspace_assets.cli", "dev", "--port", str(ui_port), "--handlers", "r_h",
         "--handlers-port", str(handlers_port)],
        cwd=PROJECT_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        for url in (f"http://127.0.0.1:{handlers_port}/openapi.json", f"http://127.0.0.1:{ui_port}/server_info"):
            while True:
                assert process.poll() is None, Path(log.name).read_text()[-3000:]
                try:
                    with urllib.request.urlopen(url, timeout=10) as answer:
                        assert answer.status == 200
                    break
                except OSError:
                    assert time.monotonic() < deadline, Path(log.name).read_text()[-3000:]
                    time.sleep(1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/server_info", timeout=5)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
