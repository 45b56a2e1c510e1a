"""A throw-away configs folder with its own `components` package, for config, asset and CLI tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dataspace_assets.dataspace.config import DataspaceConfig, dataspace_folder, load_config

COMPONENTS = '''
from dataspace_assets.dataspace.components import Collector


class Echo(Collector):
    """Returns its `value` setting."""

    def run(self):
        return self.settings.get("value")


class Nothing(Collector):
    def run(self):
        return None


class Boom(Collector):
    """Always fails."""

    def run(self):
        raise RuntimeError("upstream API answered 503")


class Number(Collector):
    def run(self):
        return 42


class Clock(Collector):
    def run(self):
        return {"name": self.name, "run_time": self.run_time.isoformat()}


class NoRun:
    pass


not_a_class = 3
'''


class Configs:
    """Writes TOML files and component modules into a configs folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = dataspace_folder(root)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.module("tests", COMPONENTS)

    def toml(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def module(self, name: str, code: str) -> None:
        package = self.root / "components"
        package.mkdir(exist_ok=True)
        (package / "__init__.py").touch()
        (package / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")

    def load(self, **kwargs) -> DataspaceConfig:
        return load_config(self.folder, **kwargs)

    def problems(self, **kwargs) -> list[str]:
        return [str(p) for p in self.load(**kwargs).problems]


@pytest.fixture
def configs(tmp_settings) -> Configs:
    """The configs folder of `tmp_settings` (so build_defs and the CLI read it too)."""
    return Configs(tmp_settings.configs_dir)
