"""The code location: loads from configs/, offline, deterministically, with automation running."""

from __future__ import annotations

import socket
import subprocess

import dagster as dg

from dataspace_assets.definitions import build_definitions
from dataspace_tests.services import PROJECT_ROOT


def test_definitions_are_loadable(project_settings) -> None:
    defs = build_definitions(project_settings)
    dg.Definitions.validate_loadable(defs)
    sensor = defs.resolve_sensor_def("dataspace_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_loading_makes_no_network_call(project_settings, monkeypatch) -> None:
    calls: list[object] = []

    def refuse(self, address):  # any connect during load is a bug
        calls.append(address)
        raise OSError(f"network call during definitions load: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    build_definitions(project_settings)
    assert calls == []


def test_loading_is_deterministic(project_settings) -> None:
    def snapshot() -> list[tuple]:
        defs = build_definitions(project_settings)
        graph = defs.resolve_asset_graph()
        return sorted(
            (
                key.to_user_string(),
                graph.get(key).group_name,
                tuple(sorted(k.to_user_string() for k in graph.get(key).parent_keys)),
            )
            for key in graph.get_all_asset_keys()
        )

    assert snapshot() == snapshot()


def test_loading_creates_no_state(project_settings) -> None:
    build_definitions(project_settings)
    assert not project_settings.home.exists()


def test_dagster_definitions_validate_passes(project_settings) -> None:
    project_settings.dagster_home.mkdir(parents=True)
    answer = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "dagster"), "definitions", "validate"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert "Validation successful for code location dataspace" in answer.stderr + answer.stdout


def test_loading_prints_no_dagster_warning(project_settings) -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_definitions(project_settings)
    assert [str(w.message) for w in caught if issubclass(w.category, dg.BetaWarning)] == []
